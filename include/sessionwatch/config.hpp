// The agent's configuration (sessionwatch.yaml), parsed and validated once into typed structs.
// Nothing downstream reads YAML again. Every problem carries file:line:column; unknown keys are
// errors, so a typo never passes silently. See docs/configuration.md for the contract.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/platform.hpp"

namespace sw::forward {
struct OutputConfig;
}

namespace sw {

struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 when the problem is not at one place (e.g. unreadable file)
  int column = 0;
  std::string message;
};
// "file:line:column: message"
std::string to_string(const ConfigError& e);

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };
std::string_view to_string(LogLevel l);

struct AgentSettings {
  // checkpoints, tracker snapshot, spools
  std::string data_dir = platform::default_data_dir();
  LogLevel log_level = LogLevel::kInfo;
  friend bool operator==(const AgentSettings&, const AgentSettings&) = default;
};

// An input's own settings: a struct in its folder, agent/daemon/inputs/<type>/, whose parser fills
// it and whose input reads it. What `check` says about any input comes through these virtuals, so
// nothing outside the folder names an input's keys.
class InputOptions {
 public:
  virtual ~InputOptions() = default;
  // The file globs it reads, absolute (empty: it reads no files). `check` counts their files
  // now; `check` and `run --once` warn about the ones that match nothing.
  virtual std::vector<std::string> globs() const { return {}; }
  // What `check` prints after the input's type (", format jsonl"); empty: nothing.
  virtual std::string summary() const { return {}; }
  // Lines `check` prints below the input besides its globs ("channel Security").
  virtual std::vector<std::string> details() const { return {}; }
};

// The keys every input shares; the rest is the type's `options`.
struct InputConfig {
  std::string type;  // a type of the input registry (agent/daemon/input.cpp)
  // A name for metrics, logs and checkpoints; defaults to "<type>-<index>" (1-based).
  std::string name;
  std::shared_ptr<const InputOptions> options;
  std::string yaml;  // the input's mapping, re-emitted (to tell whether a reload changed it)
  int line = 0;      // where it was defined, for messages
  friend bool operator==(const InputConfig&, const InputConfig&) = default;
};

// An output as configured. Its keys are validated by the forwarding module's parser when it is
// built in (`forward` then holds its typed settings); without it only file and stdout exist.
struct OutputConfig {
  std::string type;  // file | stdout | syslog | relp | http ...
  std::string name;
  std::string path;  // file only
  std::string yaml;  // the output's mapping, re-emitted (to tell whether a reload changed it)
  std::shared_ptr<const forward::OutputConfig> forward;
  int line = 0;
  int column = 0;
  friend bool operator==(const OutputConfig&, const OutputConfig&) = default;
};

struct RulesSettings {
  std::vector<std::string> paths;  // empty: the built-in 7063/7062 detections
  bool skip_broken = false;        // on_error: refuse (false) | skip (true)
  // Values of the rules' `|expand` placeholders, by name without the % signs.
  std::map<std::string, std::vector<std::string>> placeholders;
  friend bool operator==(const RulesSettings&, const RulesSettings&) = default;
};

struct MetricsSettings {
  bool enabled = false;  // off when the section or its listen key is absent
  std::string address = "127.0.0.1";
  std::uint16_t port = 9464;
  // Bearer token every request must carry (from `token` or `token_file`); empty: none. Required
  // when the listener is beyond loopback. Never logged or printed.
  std::string token;
  friend bool operator==(const MetricsSettings&, const MetricsSettings&) = default;
};

struct Config {
  std::string file;  // where it was read from
  AgentSettings agent;
  std::vector<InputConfig> inputs;
  RulesSettings rules;
  std::vector<OutputConfig> outputs;
  MetricsSettings metrics;
};

struct ConfigResult {
  std::optional<Config> config;     // set when errors is empty
  std::vector<ConfigError> errors;  // every problem found, in file order
  // Valid but risky (TLS without verification, metrics beyond loopback, data_dir open to other
  // users): `check` prints them, `run` logs them.
  std::vector<ConfigError> warnings;
};

// Reads and validates a config file. Relative paths inside it are taken relative to the folder
// the file is in.
ConfigResult load_config(const std::string& path);
// Same, from text; `file` names it in errors and anchors relative paths.
ConfigResult parse_config(std::string_view yaml, const std::string& file);

}  // namespace sw
