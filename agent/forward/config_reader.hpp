// Reading one output's YAML: typed values with every problem recorded (never thrown), each with
// the key's path and its line. Shared by forward/config.cpp (the keys every output has) and each
// plugin's parser under outputs/<type>/ (the keys only it has).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "sessionwatch/forward.hpp"

namespace sw::forward::detail {

class ConfigReader {
 public:
  ConfigReader(const OutputParseContext& context, std::vector<ConfigError>& errors,
               std::vector<ConfigError>* warnings)
      : context_(context), errors_(errors), warnings_(warnings) {}

  const OutputParseContext& context() const { return context_; }
  std::size_t error_count() const { return errors_.size(); }

  void error(const YAML::Node& at, std::string_view key, std::string message);
  void warning(const YAML::Node& at, std::string_view key, std::string message);

  // Keys of `map` (at `path`, "" for the output itself) must all be in `known`.
  void check_keys(const YAML::Node& map, std::span<const std::string_view> known,
                  std::string_view path, std::string_view owner);

  // The readers below take the key as a dotted path ("http.gzip") whose last part is looked up in
  // `map`. They return false when the key is absent or its value is wrong (then reported).

  // A nested mapping; undefined when absent or not a map (reported).
  YAML::Node section(const YAML::Node& map, std::string_view path);
  bool string(const YAML::Node& map, std::string_view path, std::string& out);
  bool boolean(const YAML::Node& map, std::string_view path, bool& out);
  // 1024, "64k", "10MiB", "1 GB" (binary multiples either way: spool sizes are not marketing).
  bool size(const YAML::Node& map, std::string_view path, std::uint64_t& out);
  // 500 (milliseconds), "250ms", "5s", "2m".
  bool duration(const YAML::Node& map, std::string_view path, std::chrono::milliseconds& out);
  bool integer(const YAML::Node& map, std::string_view path, std::int64_t lo, std::int64_t hi,
               std::int64_t& out);
  // A path for a file; relative ones are taken from the config file's folder.
  bool file_path(const YAML::Node& map, std::string_view path, std::filesystem::path& out);

  static YAML::Node child(const YAML::Node& map, std::string_view path);

 private:
  const OutputParseContext& context_;
  std::vector<ConfigError>& errors_;
  std::vector<ConfigError>* warnings_;
};

}  // namespace sw::forward::detail
