// `sessionwatch check` and `sessionwatch run`.

#include <stdexcept>

#include <spdlog/spdlog.h>

#include "daemon/engine.hpp"
#include "daemon/glob.hpp"
#include "daemon/query.hpp"
#include "sessionwatch/config.hpp"
#include "sessionwatch/daemon.hpp"
#include "sessionwatch/platform.hpp"

namespace sw {

namespace {

constexpr const char* kCheckHelp = R"(Usage: sessionwatch check [-c FILE]

Validates the configuration and the rules it names, and prints what would run: each input with
the files its globs match now, the rules, the outputs, the metrics endpoint. Every problem is
printed, as file:line:column: key: message; inputs that match no file now are warnings.

Options:
  -c, --config FILE    the configuration (default %s)
  -h, --help           this text

Exit status: 0 valid, 2 invalid configuration or refused rules.
)";

constexpr const char* kRunHelp =
    R"(Usage: sessionwatch run [-c FILE] [--once [--reorder-window SECONDS]]

Runs the agent: follows the configured inputs, tracks sessions, matches the rules and writes
alerts to every output, with checkpoints in agent.data_dir so a restart neither loses nor replays
events. SIGTERM/SIGINT stop it after draining; SIGHUP reloads the configuration and rules (a
broken new set is rejected and the old one keeps running). Logs go to stderr (journald under
systemd), which also receives READY/STOPPING/WATCHDOG notifications.

Options:
  -c, --config FILE    the configuration (default %s)
  --once               read every input to its end, deliver the alerts, save the checkpoints and
                       exit (a one-shot backfill; the next run carries on from the checkpoints).
                       The files of all inputs are read as one stream in event time, as `scan`
                       does; checkpoints are then written only at the end
  --reorder-window SECONDS
                       with --once: also hold events in the session tracker up to SECONDS of
                       event time
  -h, --help           this text

Exit status: 0 stopped cleanly (--once: everything read and delivered), 1 could not start,
(--once) an input matches no file or alerts were left undelivered in the spool, 2 invalid
configuration or refused rules.
)";

// -c FILE, --config FILE, --config=FILE, -h/--help, and with `run_options` --once and
// --reorder-window SECONDS. false + message on anything else.
bool parse_config_option(const std::vector<std::string>& args, std::string& path, bool& help,
                         std::string& error, RunOptions* run_options = nullptr) {
  path = platform::default_config_path();
  help = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (run_options && a == "--once") {
      run_options->once = true;
    } else if (run_options && a == "--reorder-window") {
      if (i + 1 >= args.size()) {
        error = a + " needs a number of seconds";
        return false;
      }
      const std::string& value = args[++i];
      std::size_t used = 0;
      long long seconds = -1;
      try {
        seconds = std::stoll(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != value.size() || seconds < 0) {
        error = "--reorder-window: '" + value + "' is not a number of seconds";
        return false;
      }
      run_options->reorder_window_seconds = seconds;
    } else if (a == "-h" || a == "--help") {
      help = true;
    } else if (a == "-c" || a == "--config") {
      if (i + 1 >= args.size()) {
        error = a + " needs a file";
        return false;
      }
      path = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      path = a.substr(9);
    } else {
      error = "unexpected argument '" + a + "'";
      return false;
    }
  }
  return true;
}

// Inputs that would read nothing now: a warning per glob that matches no file, and in `empty` the
// names of the inputs none of whose globs matches one (`run --once` refuses to start on them).
std::vector<ConfigError> inputs_matching_nothing(const Config& config,
                                                 std::vector<std::string>* empty = nullptr) {
  std::vector<ConfigError> warnings;
  for (const InputConfig& input : config.inputs) {
    const std::vector<std::string> globs = input.options->globs();
    std::size_t unmatched = 0;
    for (const std::string& glob : globs) {
      const std::string why = daemon::why_glob_matches_nothing(glob);
      if (why.empty()) continue;
      ++unmatched;
      warnings.push_back({config.file, input.line, 0,
                          "input " + input.name + ": " + glob + " matches no file now (" + why +
                              "); it is read once files appear there"});
    }
    if (empty && !globs.empty() && unmatched == globs.size()) {
      empty->push_back(input.name);
    }
  }
  return warnings;
}

}  // namespace

int run_check(const std::string& config_path, std::FILE* out, std::FILE* err) {
  const ConfigResult result = load_config(config_path);
  for (const ConfigError& w : result.warnings) {
    std::fprintf(err, "%s\n",
                 to_string(ConfigError{w.file, w.line, w.column, "warning: " + w.message}).c_str());
  }
  if (!result.config) {
    for (const ConfigError& e : result.errors) std::fprintf(err, "%s\n", to_string(e).c_str());
    std::fprintf(err, "sessionwatch: %zu problem(s) in %s\n", result.errors.size(),
                 config_path.c_str());
    return kDaemonExitConfig;
  }
  const Config& config = *result.config;
  for (const ConfigError& w : inputs_matching_nothing(config)) {
    std::fprintf(err, "%s\n",
                 to_string(ConfigError{w.file, w.line, w.column, "warning: " + w.message}).c_str());
  }
  std::vector<std::string> problems;
  auto detector = daemon::make_detector(config, problems);
  for (const std::string& p : problems) std::fprintf(err, "%s\n", p.c_str());
  if (!detector) {
    std::fprintf(err, "sessionwatch: rules refused (rules.on_error: refuse)\n");
    return kDaemonExitConfig;
  }
  std::fprintf(out, "config: %s (valid)\n", config_path.c_str());
  std::fprintf(out, "agent: data_dir %s, log_level %s\n", config.agent.data_dir.c_str(),
               std::string(to_string(config.agent.log_level)).c_str());
  for (const InputConfig& input : config.inputs) {
    std::fprintf(out, "input %s: type %s%s\n", input.name.c_str(), input.type.c_str(),
                 input.options->summary().c_str());
    for (const std::string& glob : input.options->globs()) {
      std::fprintf(out, "  %s (%zu file(s) now)\n", glob.c_str(), daemon::list_glob(glob).size());
    }
    for (const std::string& line : input.options->details()) {
      std::fprintf(out, "  %s\n", line.c_str());
    }
  }
  if (config.rules.paths.empty()) {
    std::fprintf(out, "rules: built-in 7063/7062 detections\n");
  } else {
    std::fprintf(out, "rules: %zu loaded from", detector->rule_count());
    for (const std::string& p : config.rules.paths) std::fprintf(out, " %s", p.c_str());
    std::fprintf(out, " (on_error %s%s)\n", config.rules.skip_broken ? "skip" : "refuse",
                 problems.empty() ? "" : ", some skipped");
  }
  for (const OutputConfig& output : config.outputs) {
    std::fprintf(out, "output %s: type %s%s%s\n", output.name.c_str(), output.type.c_str(),
                 output.path.empty() ? "" : ", path ", output.path.c_str());
  }
  if (config.metrics.enabled) {
    const bool v6 = config.metrics.address.find(':') != std::string::npos;
    std::fprintf(out, "metrics: http://%s%s%s:%u/metrics, query API /v1/hosts%s\n", v6 ? "[" : "",
                 config.metrics.address.c_str(), v6 ? "]" : "",
                 static_cast<unsigned>(config.metrics.port),
                 config.metrics.token.empty() ? "" : " (bearer token required)");
  } else {
    std::fprintf(out, "metrics: off\n");
  }
  return kDaemonExitOk;
}

int run_daemon(const std::string& config_path, const RunOptions& options, RunSummary* summary) {
  ConfigResult result = load_config(config_path);
  daemon::setup_logging(result.config ? result.config->agent.log_level : LogLevel::kInfo);
  if (!result.config) {
    for (const ConfigError& e : result.errors) spdlog::critical("{}", to_string(e));
    return kDaemonExitConfig;
  }
  for (const ConfigError& w : result.warnings) spdlog::warn("{}", to_string(w));
  Config config = std::move(*result.config);
  std::vector<std::string> empty_inputs;
  for (const ConfigError& w : inputs_matching_nothing(config, &empty_inputs)) {
    spdlog::warn("{}", to_string(w));
  }
  if (options.once && !empty_inputs.empty()) {
    // A backfill that reads nothing must not look like one that read everything.
    spdlog::critical("--once: input {} matches no file; nothing to read, not starting",
                     empty_inputs.front());
    return kDaemonExitFailed;
  }
  std::vector<std::string> problems;
  // What the query API answers from: kept across pipeline restarts (reloads), as the tracker is.
  auto live = std::make_shared<daemon::LiveState>();
  auto detector = daemon::make_detector(config, problems, options.reorder_window_seconds, live);
  for (const std::string& p : problems) {
    if (detector) {
      spdlog::warn("rule skipped: {}", p);
    } else {
      spdlog::critical("{}", p);
    }
  }
  if (!detector) {
    spdlog::critical("rules refused (rules.on_error: refuse); not starting");
    return kDaemonExitConfig;
  }
  RunSummary total;
  auto add = [&](const RunSummary& s) {
    total.events_read += s.events_read;
    total.events_decoded += s.events_decoded;
    total.events_bad += s.events_bad;
    total.alerts += s.alerts;
    total.delivered = total.delivered && s.delivered;
    if (summary) *summary = total;
  };
  for (;;) {
    daemon::Engine engine(std::move(config), config_path, std::move(detector), options, live);
    const daemon::EngineExit exit = engine.run();
    RunSummary run = engine.summary();
    run.delivered = exit != daemon::EngineExit::kUndelivered;
    add(run);
    switch (exit) {
      case daemon::EngineExit::kStopped:
        if (options.once) {
          spdlog::info("stopped: {} event(s) read, {} alert(s) raised and delivered",
                       total.events_read, total.alerts);
        } else {
          spdlog::info("stopped");
        }
        return kDaemonExitOk;
      case daemon::EngineExit::kUndelivered:
      case daemon::EngineExit::kFailed:
        return kDaemonExitFailed;
      case daemon::EngineExit::kRestart:
        config = std::move(*engine.take_new_config());
        detector = engine.take_new_detector();
        daemon::setup_logging(config.agent.log_level);
        break;
    }
  }
}

int check_command(const std::vector<std::string>& args) {
  std::string path, error;
  bool help = false;
  if (!parse_config_option(args, path, help, error)) {
    std::fprintf(stderr, "sessionwatch check: %s\n", error.c_str());
    return kDaemonExitConfig;
  }
  if (help) {
    std::printf(kCheckHelp, platform::default_config_path().c_str());
    return kDaemonExitOk;
  }
  return run_check(path, stdout, stderr);
}

int run_command(const std::vector<std::string>& args) {
  std::string path, error;
  bool help = false;
  RunOptions options;
  if (parse_config_option(args, path, help, error, &options) && !options.once &&
      options.reorder_window_seconds > 0) {
    // A live agent must not hold events: an alert would wait for later events to arrive.
    error = "--reorder-window needs --once";
  }
  if (!error.empty()) {
    std::fprintf(stderr, "sessionwatch run: %s\n", error.c_str());
    return kDaemonExitConfig;
  }
  if (help) {
    std::printf(kRunHelp, platform::default_config_path().c_str());
    return kDaemonExitOk;
  }
  return run_daemon(path, options);
}

}  // namespace sw
