#include "daemon/yaml_reader.hpp"

#include <algorithm>
#include <map>

namespace sw::daemon {

namespace {

// "outputs[2].batch.records: must be between ..."
std::string keyed(const std::string& where, const forward::ConfigError& e) {
  return where + (e.key.empty() ? "" : "." + e.key) + ": " + e.message;
}

std::string key_of(const YAML::Node& key) {
  return key.IsScalar() ? key.Scalar() : std::string();
}

}  // namespace

YamlReader::YamlReader(std::string file) : file_(std::move(file)) {
  base_dir_ = std::filesystem::path(file_).parent_path();
  if (base_dir_.empty()) base_dir_ = ".";
}

void YamlReader::error(const YAML::Mark& mark, std::string message) {
  // yaml-cpp marks are 0-based; a null mark (-1) means "no position".
  const int line = mark.line >= 0 ? mark.line + 1 : 0;
  const int column = mark.column >= 0 ? mark.column + 1 : 0;
  errors_.push_back({file_, line, column, std::move(message)});
}

void YamlReader::warning(const YAML::Mark& mark, std::string message) {
  warnings_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
}

void YamlReader::add(const std::string& where, const std::vector<forward::ConfigError>& errors,
                     const std::vector<forward::ConfigError>& warnings) {
  for (const forward::ConfigError& e : errors) {
    errors_.push_back({file_, e.line, e.column, keyed(where, e)});
  }
  for (const forward::ConfigError& e : warnings) {
    warnings_.push_back({file_, e.line, e.column, keyed(where, e)});
  }
}

void YamlReader::check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                            std::string_view where) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = key_of(it->first);
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    error(it->first.Mark(),
          "unknown key '" + key + "' in " + std::string(where) + " (allowed: " + list + ")");
  }
  check_duplicate_keys(map, where);
}

void YamlReader::check_duplicate_keys(const YAML::Node& map, std::string_view where) {
  std::map<std::string, int> first_line;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = key_of(it->first);
    const int line = it->first.Mark().line + 1;
    const auto [seen, fresh] = first_line.emplace(key, line);
    if (fresh) continue;
    error(it->first.Mark(), "'" + key + "' is given twice in " + std::string(where) +
                                " (first on line " + std::to_string(seen->second) +
                                "): keep one, the later one would be ignored");
  }
}

bool YamlReader::scalar(const YAML::Node& node, std::string_view what, std::string& out) {
  if (!node.IsScalar()) {
    error(node.Mark(), std::string(what) + " must be a single value");
    return false;
  }
  out = node.Scalar();
  return true;
}

bool YamlReader::nonempty_scalar(const YAML::Node& node, std::string_view what, std::string& out) {
  if (!scalar(node, what, out)) return false;
  if (out.empty()) {
    error(node.Mark(), std::string(what) + " must not be empty");
    return false;
  }
  return true;
}

bool YamlReader::string_list(const YAML::Node& node, std::string_view what,
                             std::vector<std::string>& out) {
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

void YamlReader::globs(const YAML::Node& item, const std::string& where,
                       std::vector<std::string>& out) {
  if (!item["paths"]) {
    error(item.Mark(), where + ": 'paths' is required (one or more file globs)");
    return;
  }
  std::vector<std::string> raw;
  if (!string_list(item["paths"], where + ".paths", raw)) return;
  if (raw.empty()) error(item["paths"].Mark(), where + ".paths must not be empty");
  for (const std::string& glob : raw) {
    const std::string resolved = resolve(glob);
    const std::string dir = std::filesystem::path(resolved).parent_path().string();
    if (dir.find_first_of("*?[") != std::string::npos) {
      error(item["paths"].Mark(),
            where + ".paths: '" + glob + "': wildcards are allowed in the file name only");
      continue;
    }
    if (std::filesystem::path(resolved).filename().empty()) {
      error(item["paths"].Mark(), where + ".paths: '" + glob + "' names no file");
      continue;
    }
    out.push_back(resolved);
  }
}

std::string YamlReader::resolve(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (base_dir_ / p).lexically_normal().string();
}

}  // namespace sw::daemon
