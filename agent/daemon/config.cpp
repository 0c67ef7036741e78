// sessionwatch.yaml -> sw::Config. yaml-cpp exceptions stay inside this file; problems come out
// as ConfigError values with file:line:column.
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "daemon/inputs/kafka/kafka_config.hpp"
#include "sessionwatch/config.hpp"
#include "sessionwatch/forward.hpp"
#include "sessionwatch/platform.hpp"
#include "sessionwatch/yaml_guard.hpp"

namespace sw {

std::string to_string(const ConfigError& e) {
  std::string out = e.file;
  if (e.line > 0) {
    out += ":" + std::to_string(e.line);
    if (e.column > 0) out += ":" + std::to_string(e.column);
  }
  return out + ": " + e.message;
}

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kCritical:
      return "critical";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

std::string_view to_string(InputType t) {
  switch (t) {
    case InputType::kFile:
      return "file";
    case InputType::kEvtx:
      return "evtx";
    case InputType::kEventlog:
      return "eventlog";
    case InputType::kKafka:
      return "kafka";
  }
  return "file";
}

namespace {

class Parser {
 public:
  Parser(std::string file) : file_(std::move(file)) {
    base_dir_ = std::filesystem::path(file_).parent_path();
    if (base_dir_.empty()) base_dir_ = ".";
  }

  ConfigResult parse(std::string_view text) {
    YAML::Node root;
    yaml::Problem problem;
    if (!yaml::load_first(text, root, problem)) {
      errors_.push_back({file_, problem.line, problem.column,
                         (problem.syntax ? "invalid YAML: " : "") + problem.message});
      return finish();
    }
    if (!root.IsDefined() || root.IsNull()) {
      errors_.push_back({file_, 1, 1, "the file is empty: 'inputs' and 'outputs' are required"});
      return finish();
    }
    if (!root.IsMap()) {
      error(root.Mark(), "expected a mapping with agent, inputs, rules, outputs, metrics");
      return finish();
    }
    config_.file = file_;
    check_keys(root, {"agent", "inputs", "rules", "outputs", "metrics"}, "top level");
    if (root["agent"]) parse_agent(root["agent"]);
    if (root["inputs"]) {
      parse_inputs(root["inputs"]);
    } else {
      error(root.Mark(), "'inputs' is required (a list of inputs)");
    }
    if (root["rules"]) parse_rules(root["rules"]);
    if (root["outputs"]) {
      parse_outputs(root["outputs"]);
    } else {
      error(root.Mark(), "'outputs' is required (a list of outputs)");
    }
    if (root["metrics"]) parse_metrics(root["metrics"]);
    return finish();
  }

 private:
  ConfigResult finish() {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                       return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                     });
    ConfigResult result;
    result.errors = std::move(errors_);
    if (result.errors.empty()) {
      warn_data_dir();
      result.config = std::move(config_);
    }
    result.warnings = std::move(warnings_);
    return result;
  }

  void warning(const YAML::Mark& mark, std::string message) {
    warnings_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
  }

  void warn_data_dir() {
    if (platform::readable_by_others(config_.agent.data_dir)) {
      warnings_.push_back({file_, data_dir_line_, 0,
                           "agent.data_dir " + config_.agent.data_dir +
                               " is open to other users (its state and spooled alerts with it); "
                               "chmod 700 it"});
    }
  }

  void error(const YAML::Mark& mark, std::string message) {
    // yaml-cpp marks are 0-based; a null mark (-1) means "no position".
    const int line = mark.line >= 0 ? mark.line + 1 : 0;
    const int column = mark.column >= 0 ? mark.column + 1 : 0;
    errors_.push_back({file_, line, column, std::move(message)});
  }

  void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                  std::string_view where) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      error(it->first.Mark(),
            "unknown key '" + key + "' in " + std::string(where) + " (allowed: " + list + ")");
    }
  }

  // `language: 0x409 | 1033 | server`
  void parse_language(const YAML::Node& node, const std::string& where, InputConfig& input) {
    std::string text;
    if (!nonempty_scalar(node, where, text)) return;
    if (text == "server") {
      input.language = 0;
      return;
    }
    const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    const std::string_view digits = std::string_view(text).substr(hex ? 2 : 0);
    std::uint32_t lcid = 0;
    const auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), lcid, hex ? 16 : 10);
    if (ec != std::errc() || end != digits.data() + digits.size() || lcid == 0) {
      error(node.Mark(), where + " must be a Windows LCID such as 0x409 (en-US) or 'server'");
      return;
    }
    input.language = lcid;
  }

  // `event_ids: all | auto | [4624, 4634, "4778-4779"]`
  void parse_event_ids(const YAML::Node& node, const std::string& where, InputConfig& input) {
    constexpr std::string_view kHelp =
        " (all: every event; auto: what the rules and the session tracker read; or a list of "
        "ids and ranges such as [4624, 4634, \"4778-4779\"])";
    if (node.IsScalar()) {
      const std::string value = node.Scalar();
      if (value == "all") {
        input.event_id_filter = InputConfig::EventIds::kAll;
      } else if (value == "auto") {
        input.event_id_filter = InputConfig::EventIds::kAuto;
      } else {
        error(node.Mark(),
              where + " '" + value + "' is not all, auto or a list" + std::string(kHelp));
      }
      return;
    }
    if (!node.IsSequence() || node.size() == 0) {
      error(node.Mark(), where + " must be all, auto or a non-empty list" + std::string(kHelp));
      return;
    }
    std::set<std::uint32_t> ids;
    for (const YAML::Node& item : node) {
      const std::string text = item.IsScalar() ? item.Scalar() : std::string();
      std::uint32_t first = 0, last = 0;
      if (!parse_event_id_range(text, first, last)) {
        error(item.Mark(),
              where + ": '" + text + "' is not an event id (0-65535) or a range such as 4778-4779");
        continue;
      }
      if (last - first > 65535) continue;
      for (std::uint32_t id = first; id <= last; ++id) ids.insert(id);
    }
    input.event_id_filter = InputConfig::EventIds::kList;
    input.event_ids.assign(ids.begin(), ids.end());
  }

  static bool parse_event_id_range(std::string_view text, std::uint32_t& first,
                                   std::uint32_t& last) {
    auto number = [](std::string_view s, std::uint32_t& out) {
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
      if (s.empty() || s.size() > 5) return false;
      std::uint32_t n = 0;
      for (char c : s) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<std::uint32_t>(c - '0');
      }
      out = n;
      return n <= 65535;
    };
    const std::size_t dash = text.find('-');
    if (dash == std::string_view::npos) {
      if (!number(text, first)) return false;
      last = first;
      return true;
    }
    return number(text.substr(0, dash), first) && number(text.substr(dash + 1), last) &&
           first <= last;
  }

  bool scalar(const YAML::Node& node, std::string_view what, std::string& out) {
    if (!node.IsScalar()) {
      error(node.Mark(), std::string(what) + " must be a single value");
      return false;
    }
    out = node.Scalar();
    return true;
  }

  bool nonempty_scalar(const YAML::Node& node, std::string_view what, std::string& out) {
    if (!scalar(node, what, out)) return false;
    if (out.empty()) {
      error(node.Mark(), std::string(what) + " must not be empty");
      return false;
    }
    return true;
  }

  // A string or a list of strings.
  bool string_list(const YAML::Node& node, std::string_view what, std::vector<std::string>& out) {
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
      return true;
    }
    if (!node.IsSequence()) {
      error(node.Mark(), std::string(what) + " must be a value or a list of values");
      return false;
    }
    for (const YAML::Node& item : node) {
      std::string value;
      if (!nonempty_scalar(item, what, value)) return false;
      out.push_back(std::move(value));
    }
    return true;
  }

  std::string resolve(const std::string& path) const {
    std::filesystem::path p(path);
    if (p.is_absolute()) return p.lexically_normal().string();
    return (base_dir_ / p).lexically_normal().string();
  }

  void parse_agent(const YAML::Node& node) {
    if (!node.IsMap()) {
      error(node.Mark(), "'agent' must be a mapping (data_dir, log_level)");
      return;
    }
    check_keys(node, {"data_dir", "log_level"}, "agent");
    std::string value;
    if (node["data_dir"] && nonempty_scalar(node["data_dir"], "agent.data_dir", value)) {
      config_.agent.data_dir = resolve(value);
      data_dir_line_ = node["data_dir"].Mark().line + 1;
    }
    if (node["log_level"] && scalar(node["log_level"], "agent.log_level", value)) {
      static const std::pair<std::string_view, LogLevel> kLevels[] = {
          {"trace", LogLevel::kTrace},       {"debug", LogLevel::kDebug},
          {"info", LogLevel::kInfo},         {"warn", LogLevel::kWarn},
          {"warning", LogLevel::kWarn},      {"error", LogLevel::kError},
          {"critical", LogLevel::kCritical}, {"off", LogLevel::kOff}};
      bool found = false;
      for (const auto& [name, level] : kLevels) {
        if (value == name) {
          config_.agent.log_level = level;
          found = true;
        }
      }
      if (!found) {
        error(node["log_level"].Mark(), "agent.log_level '" + value +
                                            "' is not one of trace, debug, info, warn, error, "
                                            "critical, off");
      }
    }
  }

  void parse_paths(const YAML::Node& node, const std::string& where, InputConfig& input) {
    if (!node["paths"]) {
      error(node.Mark(), where + ": 'paths' is required (one or more file globs)");
      return;
    }
    std::vector<std::string> raw;
    if (!string_list(node["paths"], where + ".paths", raw)) return;
    if (raw.empty()) error(node["paths"].Mark(), where + ".paths must not be empty");
    for (const std::string& glob : raw) {
      const std::string resolved = resolve(glob);
      const std::string dir = std::filesystem::path(resolved).parent_path().string();
      if (dir.find_first_of("*?[") != std::string::npos) {
        error(node["paths"].Mark(),
              where + ".paths: '" + glob + "': wildcards are allowed in the file name only");
        continue;
      }
      if (std::filesystem::path(resolved).filename().empty()) {
        error(node["paths"].Mark(), where + ".paths: '" + glob + "' names no file");
        continue;
      }
      input.paths.push_back(resolved);
    }
  }

  void parse_inputs(const YAML::Node& node) {
    if (!node.IsSequence() || node.size() == 0) {
      error(node.Mark(), "'inputs' must be a non-empty list of inputs");
      return;
    }
    std::set<std::string> names;
    std::size_t index = 0;
    for (const YAML::Node& item : node) {
      ++index;
      const std::string where = "inputs[" + std::to_string(index) + "]";
      if (!item.IsMap()) {
        error(item.Mark(), where + " must be a mapping with a 'type'");
        continue;
      }
      InputConfig input;
      input.line = item.Mark().line + 1;
      std::string type;
      if (!item["type"]) {
        error(item.Mark(), where + ": 'type' is required (file, evtx or eventlog)");
        continue;
      }
      if (!scalar(item["type"], where + ".type", type)) continue;
      if (type == "file") {
        input.type = InputType::kFile;
        check_keys(item,
                   {"type", "name", "paths", "format", "computer", "channel", "nxlog_time_zone"},
                   where);
        parse_paths(item, where, input);
        std::string value;
        if (item["format"] && scalar(item["format"], where + ".format", value)) {
          if (!parse_input_format(value, input.format) || input.format == InputFormat::kEvtx) {
            error(item["format"].Mark(), where + ".format '" + value +
                                             "' is not one of auto, jsonl, xml, text (EVTX files "
                                             "take an input of type evtx)");
          }
        }
        if (item["computer"])
          nonempty_scalar(item["computer"], where + ".computer", input.computer);
        if (item["channel"]) nonempty_scalar(item["channel"], where + ".channel", input.channel);
        if (item["nxlog_time_zone"] &&
            scalar(item["nxlog_time_zone"], where + ".nxlog_time_zone", value) &&
            !parse_utc_offset(value, input.nxlog_time_offset_minutes)) {
          error(item["nxlog_time_zone"].Mark(),
                where + ".nxlog_time_zone '" + value + "' is not UTC or an offset such as +01:00");
        }
      } else if (type == "evtx") {
        input.type = InputType::kEvtx;
        check_keys(item, {"type", "name", "paths"}, where);
        parse_paths(item, where, input);
      } else if (type == "eventlog") {
        input.type = InputType::kEventlog;
        check_keys(item, {"type", "name", "channels", "query", "event_ids", "language"}, where);
        if (item["query"]) nonempty_scalar(item["query"], where + ".query", input.query);
        if (item["language"]) parse_language(item["language"], where + ".language", input);
        if (item["event_ids"]) parse_event_ids(item["event_ids"], where + ".event_ids", input);
        if (!platform::eventlog_available()) {
          error(item["type"].Mark(), where + ": the eventlog input is only available on Windows");
        }
        if (!item["channels"]) {
          error(item.Mark(), where + ": 'channels' is required (e.g. [Security, System])");
        } else {
          string_list(item["channels"], where + ".channels", input.channels);
        }
      } else if (type == "kafka") {
        input.type = InputType::kKafka;
        parse_kafka(item, where, input);
      } else {
        error(item["type"].Mark(),
              where + ".type '" + type + "' is not one of file, evtx, eventlog, kafka");
        continue;
      }
      if (item["name"]) {
        nonempty_scalar(item["name"], where + ".name", input.name);
      } else {
        input.name = type + "-" + std::to_string(index);
      }
      if (!names.insert(input.name).second) {
        error(item["name"] ? item["name"].Mark() : item.Mark(),
              where + ": another input is already named '" + input.name + "'");
      }
      config_.inputs.push_back(std::move(input));
    }
  }

  void parse_rules(const YAML::Node& node) {
    if (!node.IsMap()) {
      error(node.Mark(), "'rules' must be a mapping (paths, on_error, placeholders)");
      return;
    }
    check_keys(node, {"paths", "on_error", "placeholders"}, "rules");
    if (node["placeholders"]) parse_placeholders(node["placeholders"]);
    if (node["paths"]) {
      std::vector<std::string> raw;
      if (string_list(node["paths"], "rules.paths", raw)) {
        for (const std::string& p : raw) config_.rules.paths.push_back(resolve(p));
      }
    }
    std::string value;
    if (node["on_error"] && scalar(node["on_error"], "rules.on_error", value)) {
      if (value == "refuse") {
        config_.rules.skip_broken = false;
      } else if (value == "skip") {
        config_.rules.skip_broken = true;
      } else {
        error(node["on_error"].Mark(), "rules.on_error '" + value + "' is not one of refuse, skip");
      }
    }
  }

  // placeholders: {name: value | [values]}: what a rule's `|expand` `%name%` stands for.
  void parse_placeholders(const YAML::Node& node) {
    if (!node.IsMap()) {
      error(node.Mark(), "rules.placeholders must map each name to a value or a list of values");
      return;
    }
    for (const auto& entry : node) {
      const std::string name = entry.first.Scalar();
      const std::string where = "rules.placeholders." + name;
      std::vector<std::string> values;
      if (entry.second.IsScalar()) {
        values.push_back(entry.second.Scalar());
      } else if (!string_list(entry.second, where, values)) {
        continue;
      }
      if (name.empty() || name.find('%') != std::string::npos) {
        error(entry.first.Mark(), where + ": name it without % signs");
        continue;
      }
      config_.rules.placeholders[name] = std::move(values);
    }
  }

  void parse_outputs(const YAML::Node& node) {
    if (!node.IsSequence() || node.size() == 0) {
      error(node.Mark(), "'outputs' must be a non-empty list of outputs");
      return;
    }
    std::set<std::string> names;
    std::size_t index = 0;
    for (const YAML::Node& item : node) {
      ++index;
      const std::string where = "outputs[" + std::to_string(index) + "]";
      if (!item.IsMap()) {
        error(item.Mark(), where + " must be a mapping with a 'type'");
        continue;
      }
      if (!item["type"]) {
        error(item.Mark(), where + ": 'type' is required");
        continue;
      }
      OutputConfig output;
      output.line = item.Mark().line + 1;
      output.column = item.Mark().column + 1;
      if (!scalar(item["type"], where + ".type", output.type)) continue;
      // The forwarding module owns the output keys (url, format, tls, spool, ...).
      std::vector<forward::ConfigError> forward_errors, forward_warnings;
      auto parsed = forward::parse_output_config(item, {config_.agent.data_dir, base_dir_},
                                                 forward_errors, &forward_warnings);
      for (const forward::ConfigError& e : forward_errors) {
        errors_.push_back({file_, e.line, e.column, keyed(where, e)});
      }
      for (const forward::ConfigError& e : forward_warnings) {
        warnings_.push_back({file_, e.line, e.column, keyed(where, e)});
      }
      if (!parsed) continue;
      output.name = parsed->name;
      output.path = parsed->type == "file" ? parsed->options->target() : std::string();
      output.forward = std::make_shared<const forward::OutputConfig>(std::move(*parsed));
      if (output.name.empty()) {
        if (item["name"]) {
          nonempty_scalar(item["name"], where + ".name", output.name);
        } else {
          output.name = output.type + "-" + std::to_string(index);
        }
      }
      if (!names.insert(output.name).second) {
        error(item.Mark(), where + ": another output is already named '" + output.name + "'");
      }
      YAML::Emitter emitter;
      emitter << item;
      output.yaml = emitter.c_str();
      config_.outputs.push_back(std::move(output));
    }
  }

  // The Kafka input owns its keys (daemon/inputs/kafka/kafka_config.cpp).
  void parse_kafka(const YAML::Node& item, const std::string& where, InputConfig& input) {
    std::vector<forward::ConfigError> kafka_errors, kafka_warnings;
    input.kafka = daemon::parse_kafka_input(item, {config_.agent.data_dir, base_dir_}, kafka_errors,
                                            kafka_warnings);
    for (const forward::ConfigError& e : kafka_errors) {
      errors_.push_back({file_, e.line, e.column, keyed(where, e)});
    }
    for (const forward::ConfigError& e : kafka_warnings) {
      warnings_.push_back({file_, e.line, e.column, keyed(where, e)});
    }
    YAML::Emitter emitter;
    emitter << item;
    input.yaml = emitter.c_str();
  }

  // "outputs[2].batch.records: must be between ..."
  static std::string keyed(const std::string& where, const forward::ConfigError& e) {
    return where + (e.key.empty() ? "" : "." + e.key) + ": " + e.message;
  }

  static bool loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
  }

  // The token itself never appears in a message: only where it came from.
  void parse_metrics_token(const YAML::Node& node) {
    constexpr std::size_t kMinTokenLength = 16;
    const YAML::Node inline_token = node["token"], file = node["token_file"];
    if (inline_token && file) {
      error(file.Mark(), "metrics: token and token_file are exclusive; keep one");
      return;
    }
    std::string token;
    if (inline_token && !nonempty_scalar(inline_token, "metrics.token", token)) return;
    if (file) {
      std::string path, read_error;
      if (!nonempty_scalar(file, "metrics.token_file", path)) return;
      path = resolve(path);
      if (!yaml::read_bounded_file(path, 4096, token, read_error)) {
        error(file.Mark(), "metrics.token_file " + path + ": " + read_error);
        return;
      }
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    }
    if ((inline_token || file) && token.size() < kMinTokenLength) {
      error((file ? file : inline_token).Mark(), "metrics: the token must be at least " +
                                                     std::to_string(kMinTokenLength) +
                                                     " characters (e.g. openssl rand -hex 32)");
      return;
    }
    if (token.find_first_of(" \t\r\n") != std::string::npos) {
      error((file ? file : inline_token).Mark(), "metrics: the token must not contain spaces");
      return;
    }
    config_.metrics.token = std::move(token);
  }

  void parse_metrics(const YAML::Node& node) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      error(node.Mark(), "'metrics' must be a mapping (listen)");
      return;
    }
    check_keys(node, {"listen", "token", "token_file"}, "metrics");
    std::string listen;
    if (!node["listen"] || !nonempty_scalar(node["listen"], "metrics.listen", listen)) return;
    // host:port, IPv6 as [addr]:port.
    std::string host;
    std::string port_text;
    if (listen.front() == '[') {
      const auto close = listen.find(']');
      if (close != std::string::npos && close + 1 < listen.size() && listen[close + 1] == ':') {
        host = listen.substr(1, close - 1);
        port_text = listen.substr(close + 2);
      }
    } else if (const auto colon = listen.rfind(':'); colon != std::string::npos) {
      host = listen.substr(0, colon);
      port_text = listen.substr(colon + 1);
    }
    unsigned long port = 0;
    bool port_ok = !port_text.empty() &&
                   port_text.find_first_not_of("0123456789") == std::string::npos &&
                   port_text.size() <= 5;
    if (port_ok) port = std::stoul(port_text);
    if (host.empty() || !port_ok || port == 0 || port > 65535) {
      error(node["listen"].Mark(),
            "metrics.listen '" + listen + "' must be address:port, e.g. 127.0.0.1:9464");
      return;
    }
    parse_metrics_token(node);
    if (!loopback(host) && config_.metrics.token.empty()) {
      error(node["listen"].Mark(),
            "metrics.listen " + listen +
                " is reachable beyond this machine: set metrics.token or metrics.token_file (a "
                "bearer token every request must carry), or listen on 127.0.0.1");
      return;
    }
    config_.metrics.enabled = true;
    config_.metrics.address = host;
    config_.metrics.port = static_cast<std::uint16_t>(port);
  }

  std::string file_;
  std::filesystem::path base_dir_;
  Config config_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> warnings_;
  int data_dir_line_ = 0;
};

}  // namespace

ConfigResult parse_config(std::string_view yaml, const std::string& file) {
  return Parser(file).parse(yaml);
}

ConfigResult load_config(const std::string& path) {
  std::string text, error;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    ConfigResult result;
    result.errors.push_back({path, 0, 0,
                             "is a directory, not a config file (give the file, e.g. " +
                                 (std::filesystem::path(path) / "sessionwatch.yaml").string() +
                                 ")"});
    return result;
  }
  if (!yaml::read_bounded_file(path, yaml::Limits{}.max_bytes, text, error)) {
    ConfigResult result;
    result.errors.push_back({path, 0, 0, "cannot read the config file: " + error});
    return result;
  }
  return parse_config(text, path);
}

}  // namespace sw
