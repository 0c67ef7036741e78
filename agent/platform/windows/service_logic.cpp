// The portable part of the Windows service (see sessionwatch/winservice.hpp): argument parsing,
// command-line quoting and the stop state machine. No Windows headers here.
#include <cstdio>
#include <iostream>
#include <string>

#include "sessionwatch/winservice.hpp"

namespace sw::winsvc {
namespace {

struct ActionName {
  std::string_view word;
  Action action;
};
constexpr ActionName kActions[] = {
    {"install", Action::kInstall},
    {"configure", Action::kConfigure},
    {"uninstall", Action::kUninstall},
    {"start", Action::kStart},
    {"stop", Action::kStop},
    {"status", Action::kStatus},
    {"run", Action::kRun},
};

// Splits "--name=value" or takes the value from the next word.
bool take_value(const std::vector<std::string>& args, std::size_t& i, std::string_view option,
                std::string& value, std::string& error) {
  const std::string& word = args[i];
  if (word.size() > option.size() && word.compare(0, option.size(), option) == 0 &&
      word[option.size()] == '=') {
    value = word.substr(option.size() + 1);
  } else if (i + 1 < args.size()) {
    value = args[++i];
  } else {
    error = std::string(option) + " needs a value";
    return false;
  }
  if (value.empty()) {
    error = std::string(option) + " needs a non-empty value";
    return false;
  }
  return true;
}

bool is_option(std::string_view word, std::string_view option) {
  return word == option || (word.size() > option.size() &&
                            word.substr(0, option.size()) == option && word[option.size()] == '=');
}

}  // namespace

std::string usage() {
  return "usage: sessionwatch service install [--config PATH] [--account NAME "
         "[--password-stdin | --password P]] "
         "[--name NAME]\n"
         "       sessionwatch service configure|uninstall|start|stop|status [--name NAME]\n"
         "       sessionwatch service run [--config PATH] [--name NAME]   (started by the SCM)\n";
}

bool parse_command(const std::vector<std::string>& args, Command& out, std::string& error) {
  out = Command{};
  if (args.empty()) {
    error = "service: missing action (install, configure, uninstall, start, stop, status)";
    return false;
  }
  bool known = false;
  for (const ActionName& a : kActions) {
    if (args[0] == a.word) {
      out.action = a.action;
      known = true;
    }
  }
  if (!known) {
    error = "service: unknown action '" + args[0] + "'";
    return false;
  }
  const bool takes_config = out.action == Action::kInstall || out.action == Action::kRun;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& word = args[i];
    std::string* target = nullptr;
    std::string_view option;
    if (is_option(word, "--name")) {
      target = &out.name;
      option = "--name";
    } else if (takes_config && is_option(word, "--config")) {
      target = &out.config_path;
      option = "--config";
    } else if (out.action == Action::kInstall && is_option(word, "--account")) {
      target = &out.account;
      option = "--account";
    } else if (out.action == Action::kInstall && word == "--password-stdin") {
      out.password_from_stdin = true;
      continue;
    } else if (out.action == Action::kInstall && is_option(word, "--password")) {
      target = &out.password;
      option = "--password";
    } else {
      error = "service " + args[0] + ": unexpected argument '" + word + "'";
      return false;
    }
    if (!take_value(args, i, option, *target, error)) {
      error = "service " + args[0] + ": " + error;
      return false;
    }
  }
  if ((!out.password.empty() || out.password_from_stdin) && out.account.empty()) {
    error = "service install: --password needs --account";
    return false;
  }
  if (!out.password.empty() && out.password_from_stdin) {
    error = "service install: --password and --password-stdin exclude each other";
    return false;
  }
  return true;
}

bool read_password(std::istream& in, Command& command, std::string& error) {
  std::string line;
  if (!std::getline(in, line)) {
    error = "service install: --password-stdin: no password on standard input";
    return false;
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  command.password = std::move(line);
  return true;
}

std::string default_account(std::string_view service_name) {
  return "NT SERVICE\\" + std::string(service_name);
}

std::string quote_argument(std::string_view arg) {
  if (!arg.empty() && arg.find_first_of(" \t\n\v\"") == std::string_view::npos) {
    return std::string(arg);
  }
  std::string quoted = "\"";
  std::size_t backslashes = 0;
  for (const char c : arg) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    // Backslashes are literal unless they precede a quote: then each must be doubled.
    quoted.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
    backslashes = 0;
    quoted += c;
  }
  quoted.append(backslashes * 2, '\\');  // before the closing quote
  quoted += '"';
  return quoted;
}

std::string service_command_line(std::string_view exe_path, const Command& install) {
  std::string line = quote_argument(exe_path) + " service run";
  if (install.name != kDefaultServiceName) line += " --name " + quote_argument(install.name);
  if (!install.config_path.empty()) line += " --config " + quote_argument(install.config_path);
  return line;
}

std::string_view to_string(State state) {
  switch (state) {
    case State::kStopped:
      return "stopped";
    case State::kStartPending:
      return "starting";
    case State::kStopPending:
      return "stopping";
    case State::kRunning:
      return "running";
  }
  return "unknown";
}

StatusReport Lifecycle::report(State state) {
  state_ = state;
  StatusReport r;
  r.state = state;
  r.accept_stop = state == State::kRunning;
  if (state == State::kStartPending || state == State::kStopPending) {
    r.checkpoint = ++checkpoint_;
    r.wait_hint = wait_hint_;
  } else {
    checkpoint_ = 0;
  }
  return r;
}

StatusReport Lifecycle::starting() {
  return report(State::kStartPending);
}

StatusReport Lifecycle::running() {
  checkpoint_ = 0;
  return report(State::kRunning);
}

Lifecycle::ControlResult Lifecycle::on_control(std::uint32_t code) {
  ControlResult result;
  switch (code) {
    case control::kStop:
    case control::kShutdown:
    case control::kPreshutdown:
      result.handled = true;
      if (state_ == State::kStopPending || state_ == State::kStopped) {
        // Already draining: a second stop must not start a second drain.
        if (state_ == State::kStopPending) result.report = report(State::kStopPending);
        return result;
      }
      checkpoint_ = 0;
      result.request_stop = true;
      result.report = report(State::kStopPending);
      return result;
    case control::kInterrogate:
      result.handled = true;
      return result;
    default:
      return result;
  }
}

StatusReport Lifecycle::still_stopping() {
  return report(State::kStopPending);
}

StatusReport Lifecycle::stopped(std::uint32_t exit_code) {
  StatusReport r = report(State::kStopped);
  r.exit_code = exit_code;
  return r;
}

int run_command(const std::vector<std::string>& args,
                const std::function<Daemon(const std::string& config_path)>& make_daemon) {
  Command command;
  std::string error;
  if (!parse_command(args, command, error)) {
    std::fprintf(stderr, "%s\n%s", error.c_str(), usage().c_str());
    return 2;
  }
  if (command.password_from_stdin && !read_password(std::cin, command, error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  Result result;
  switch (command.action) {
    case Action::kInstall:
      result = install(command);
      break;
    case Action::kConfigure:
      result = configure(command);
      break;
    case Action::kUninstall:
      result = uninstall(command);
      break;
    case Action::kStart:
      result = start(command);
      break;
    case Action::kStop:
      result = stop(command);
      break;
    case Action::kStatus:
      result = status(command);
      break;
    case Action::kRun:
      if (!run_as_service(command.name, make_daemon(command.config_path), error)) {
        std::fprintf(stderr, "sessionwatch service run: %s\n", error.c_str());
        return 1;
      }
      return 0;
  }
  std::fprintf(result.ok ? stdout : stderr, "%s\n", result.message.c_str());
  return result.ok ? 0 : 1;
}

}  // namespace sw::winsvc
