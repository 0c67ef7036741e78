// sessionwatch.yaml -> sw::Config. yaml-cpp exceptions stay inside this file; problems come out
// as ConfigError values with file:line:column.
#include <algorithm>
#include <filesystem>
#include <set>

#include <yaml-cpp/yaml.h>

#include "daemon/input_plugin.hpp"
#include "daemon/yaml_reader.hpp"
#include "platform/openssl_on_demand.hpp"
#include "sessionwatch/config.hpp"
#include "sessionwatch/forward.hpp"
#include "sessionwatch/platform.hpp"
#include "sessionwatch/units.hpp"
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

namespace {

class Parser {
 public:
  explicit Parser(const std::string& file) : file_(file), reader_(file) {}

  ConfigResult parse(std::string_view text) {
    YAML::Node root;
    yaml::Problem problem;
    if (!yaml::load_first(text, root, problem)) {
      reader_.errors().push_back({file_, problem.line, problem.column,
                                  (problem.syntax ? "invalid YAML: " : "") + problem.message});
      return finish();
    }
    if (!root.IsDefined() || root.IsNull()) {
      reader_.errors().push_back(
          {file_, 1, 1, "the file is empty: 'inputs' and 'outputs' are required"});
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
    std::vector<ConfigError>& errors = reader_.errors();
    std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    ConfigResult result;
    result.errors = std::move(errors);
    if (result.errors.empty()) {
      warn_data_dir();
      result.config = std::move(config_);
    }
    result.warnings = std::move(reader_.warnings());
    return result;
  }

  void warn_data_dir() {
    if (platform::readable_by_others(config_.agent.data_dir)) {
      reader_.warnings().push_back(
          {file_, data_dir_line_, 0,
           "agent.data_dir " + config_.agent.data_dir +
               " is open to other users (its state and spooled alerts with it); "
               "chmod 700 it"});
    }
  }

  void error(const YAML::Mark& mark, std::string message) {
    reader_.error(mark, std::move(message));
  }
  void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                  std::string_view where) {
    reader_.check_keys(map, allowed, where);
  }
  bool scalar(const YAML::Node& node, std::string_view what, std::string& out) {
    return reader_.scalar(node, what, out);
  }
  bool nonempty_scalar(const YAML::Node& node, std::string_view what, std::string& out) {
    return reader_.nonempty_scalar(node, what, out);
  }
  bool string_list(const YAML::Node& node, std::string_view what, std::vector<std::string>& out) {
    return reader_.string_list(node, what, out);
  }
  std::string resolve(const std::string& path) const { return reader_.resolve(path); }

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

  void parse_inputs(const YAML::Node& node) {
    if (!node.IsSequence() || node.size() == 0) {
      error(node.Mark(), "'inputs' must be a non-empty list of inputs");
      return;
    }
    std::set<std::string> names;
    std::size_t index = 0;
    for (const YAML::Node& item : node) parse_input(item, ++index, names);
  }

  // The keys every input has (type, name) here, the rest by the type's own parser
  // (daemon/inputs/<type>/): any key neither knows is refused.
  void parse_input(const YAML::Node& item, std::size_t index, std::set<std::string>& names) {
    const std::string where = "inputs[" + std::to_string(index) + "]";
    if (!item.IsMap()) {
      error(item.Mark(), where + " must be a mapping with a 'type'");
      return;
    }
    if (!item["type"]) {
      error(item.Mark(), where + ": 'type' is required (" + daemon::input_types() + ")");
      return;
    }
    InputConfig input;
    input.line = item.Mark().line + 1;
    if (!scalar(item["type"], where + ".type", input.type)) return;
    const daemon::InputPlugin* plugin = daemon::find_input_plugin(input.type);
    if (!plugin) {
      error(item["type"].Mark(),
            where + ".type '" + input.type + "' is not one of " + daemon::input_types());
      return;
    }
    check_input_keys(item, *plugin, where);
    input.options = plugin->parse(item, {reader_, where, config_.agent.data_dir});
    parse_input_name(item, where, index, input);
    if (!names.insert(input.name).second) {
      error(item["name"] ? item["name"].Mark() : item.Mark(),
            where + ": another input is already named '" + input.name + "'");
    }
    input.yaml = emitted(item);
    config_.inputs.push_back(std::move(input));
  }

  // "inputs[2].event_ids: unknown key in a file input (type, name, paths, ...)"
  void check_input_keys(const YAML::Node& item, const daemon::InputPlugin& plugin,
                        const std::string& where) {
    constexpr std::string_view kShared[] = {"type", "name"};
    std::string list;
    for (std::string_view k : kShared) list += (list.empty() ? "" : ", ") + std::string(k);
    for (std::string_view k : plugin.keys) list += ", " + std::string(k);
    const std::string type(plugin.type);
    const std::string owner = (type.find_first_of("aeiou") == 0 ? "an " : "a ") + type + " input";
    for (const auto& kv : item) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : emitted(kv.first);
      const auto known = [&key](std::string_view k) { return k == key; };
      if (std::any_of(std::begin(kShared), std::end(kShared), known) ||
          std::any_of(plugin.keys.begin(), plugin.keys.end(), known)) {
        continue;
      }
      error(kv.first.Mark(), where + "." + key + ": unknown key in " + owner + " (" + list + ")");
    }
    reader_.check_duplicate_keys(item, where);
  }

  void parse_input_name(const YAML::Node& item, const std::string& where, std::size_t index,
                        InputConfig& input) {
    if (item["name"]) {
      nonempty_scalar(item["name"], where + ".name", input.name);
    } else {
      input.name = input.type + "-" + std::to_string(index);
    }
  }

  static std::string emitted(const YAML::Node& node) {
    YAML::Emitter emitter;
    emitter << node;
    return emitter.c_str();
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
      auto parsed = forward::parse_output_config(item, {config_.agent.data_dir, reader_.base_dir()},
                                                 forward_errors, &forward_warnings);
      reader_.add(where, forward_errors, forward_warnings);
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
      output.yaml = emitted(item);
      config_.outputs.push_back(std::move(output));
    }
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
    // Requests are checked against it with OpenSSL's constant-time comparison.
    if (std::string why; !token.empty() && !platform::openssl_ready(why)) {
      why.insert(0, "metrics: a token needs OpenSSL: ");
      error((file ? file : inline_token).Mark(), why);
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
    const std::optional<HostPort> split = split_host_port(listen);
    const std::optional<std::uint16_t> port = split ? parse_port(split->port) : std::nullopt;
    if (!split || split->host.empty() || !port) {
      error(node["listen"].Mark(),
            "metrics.listen '" + listen + "' must be address:port, e.g. 127.0.0.1:9464");
      return;
    }
    const std::string& host = split->host;
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
    config_.metrics.port = *port;
  }

  std::string file_;
  daemon::YamlReader reader_;
  Config config_;
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
