// Reading sessionwatch.yaml's nodes: every problem is recorded with file:line:column (never
// thrown), relative paths are taken from the config file's folder. Shared by daemon/config.cpp
// (the agent, rules and metrics sections, the keys every input has) and each input's parser under
// inputs/<type>/ (the keys only it has).
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "sessionwatch/config.hpp"
#include "sessionwatch/forward.hpp"

namespace sw::daemon {

class YamlReader {
 public:
  explicit YamlReader(std::string file);

  const std::string& file() const { return file_; }
  const std::filesystem::path& base_dir() const { return base_dir_; }
  std::vector<ConfigError>& errors() { return errors_; }
  std::vector<ConfigError>& warnings() { return warnings_; }

  void error(const YAML::Mark& mark, std::string message);
  void warning(const YAML::Mark& mark, std::string message);
  // Problems found by the forwarding module's reader (outputs, the kafka input) for the item at
  // `where` ("outputs[2]"): "outputs[2].batch.records: must be between ...".
  void add(const std::string& where, const std::vector<forward::ConfigError>& errors,
           const std::vector<forward::ConfigError>& warnings);

  // Keys of the section `map` (named `where` in messages) must all be in `allowed`, once each.
  void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                  std::string_view where);
  // A key given twice: yaml-cpp keeps both and every lookup finds the first, so the second would
  // be ignored without a word.
  void check_duplicate_keys(const YAML::Node& map, std::string_view where);

  bool scalar(const YAML::Node& node, std::string_view what, std::string& out);
  bool nonempty_scalar(const YAML::Node& node, std::string_view what, std::string& out);
  // A string or a list of non-empty strings.
  bool string_list(const YAML::Node& node, std::string_view what, std::vector<std::string>& out);
  // `paths` of `item` (required): one or more globs, wildcards in the file name only, resolved.
  void globs(const YAML::Node& item, const std::string& where, std::vector<std::string>& out);

  std::string resolve(const std::string& path) const;

 private:
  std::string file_;
  std::filesystem::path base_dir_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> warnings_;
};

}  // namespace sw::daemon
