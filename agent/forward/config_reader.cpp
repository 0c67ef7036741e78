#include "forward/config_reader.hpp"

#include "sessionwatch/units.hpp"
#include "sessionwatch/yaml_guard.hpp"

namespace sw::forward::detail {

namespace {

ConfigError located(const YAML::Node& at, std::string_view key, std::string message) {
  ConfigError e;
  e.message = std::move(message);
  e.key = std::string(key);
  if (at.IsDefined()) {
    const yaml::Position p = yaml::position_of(at.Mark());
    e.line = p.line;
    e.column = p.column;
  }
  return e;
}

std::string_view last_part(std::string_view path) {
  const std::size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

}  // namespace

YAML::Node ConfigReader::child(const YAML::Node& map, std::string_view path) {
  if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return map[std::string(last_part(path))];
}

void ConfigReader::error(const YAML::Node& at, std::string_view key, std::string message) {
  errors_.push_back(located(at, key, std::move(message)));
}

void ConfigReader::warning(const YAML::Node& at, std::string_view key, std::string message) {
  if (warnings_) warnings_->push_back(located(at, key, std::move(message)));
}

void ConfigReader::check_keys(const YAML::Node& map, std::span<const std::string_view> known,
                              std::string_view path, std::string_view owner) {
  for (const auto& kv : map) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    bool ok = false;
    for (auto k : known) ok = ok || k == key;
    if (ok) continue;
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    const std::string full = path.empty() ? key : std::string(path) + "." + key;
    error(kv.first, full,
          "unknown key in " + std::string(owner) + " (" + (list.empty() ? "it has none" : list) +
              ")");
  }
}

YAML::Node ConfigReader::section(const YAML::Node& map, std::string_view path) {
  const YAML::Node n = child(map, path);
  if (!n) return YAML::Node(YAML::NodeType::Undefined);
  if (!n.IsMap()) {
    error(n, path, "must be a map");
    return YAML::Node(YAML::NodeType::Undefined);
  }
  return n;
}

bool ConfigReader::string(const YAML::Node& map, std::string_view path, std::string& out) {
  const YAML::Node n = child(map, path);
  if (!n) return false;
  if (!n.IsScalar()) {
    error(n, path, "expected a string");
    return false;
  }
  out = n.Scalar();
  return true;
}

bool ConfigReader::boolean(const YAML::Node& map, std::string_view path, bool& out) {
  const YAML::Node n = child(map, path);
  if (!n) return false;
  try {
    out = n.as<bool>();
    return true;
  } catch (const YAML::Exception&) {
    error(n, path, "expected true or false, got '" + n.as<std::string>("") + "'");
    return false;
  }
}

bool ConfigReader::size(const YAML::Node& map, std::string_view path, std::uint64_t& out) {
  std::string s;
  if (!string(map, path, s)) return false;
  const auto bytes = parse_size(s);
  if (!bytes) {
    error(child(map, path), path, "expected a size like 1048576, 64KiB or 256MiB, got '" + s + "'");
    return false;
  }
  out = *bytes;
  return true;
}

bool ConfigReader::duration(const YAML::Node& map, std::string_view path,
                            std::chrono::milliseconds& out) {
  std::string s;
  if (!string(map, path, s)) return false;
  const auto length = parse_duration(s);
  if (!length) {
    error(child(map, path), path, "expected a duration like 500ms, 5s or 2m, got '" + s + "'");
    return false;
  }
  out = *length;
  return true;
}

bool ConfigReader::integer(const YAML::Node& map, std::string_view path, std::int64_t lo,
                           std::int64_t hi, std::int64_t& out) {
  const YAML::Node n = child(map, path);
  if (!n) return false;
  try {
    out = n.as<std::int64_t>();
  } catch (const YAML::Exception&) {
    error(n, path, "expected a number, got '" + n.as<std::string>("") + "'");
    return false;
  }
  if (out < lo || out > hi) {
    error(n, path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return false;
  }
  return true;
}

bool ConfigReader::file_path(const YAML::Node& map, std::string_view path,
                             std::filesystem::path& out) {
  std::string s;
  if (!string(map, path, s)) return false;
  if (s.empty()) {
    error(child(map, path), path, "must not be empty");
    return false;
  }
  std::filesystem::path p(s);
  if (p.is_relative() && !context_.base_dir.empty()) p = context_.base_dir / p;
  out = p.lexically_normal();
  return true;
}

}  // namespace sw::forward::detail
