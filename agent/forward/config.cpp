// outputs: YAML -> OutputConfig. The keys every output shares are read here, the type's own by
// its plugin (outputs/<type>/); any other key is refused. Every problem is reported, each with its
// key and line.
#include <algorithm>
#include <array>
#include <cctype>

#include <yaml-cpp/yaml.h>

#include "forward/config_reader.hpp"
#include "forward/output_plugin.hpp"

namespace sw::forward {

namespace {

// The keys every output has; a type adds its own (PluginEntry::keys) and no others.
constexpr std::array<std::string_view, 11> kSharedKeys = {
    "type",     "name",  "format", "facility", "enterprise_id", "hostname",
    "app_name", "spool", "retry",  "batch",    "dead_letter"};

constexpr std::size_t kMaxNameLength = 64;

// An output's name becomes a directory under data_dir/spool and a metrics label: an identifier
// ([A-Za-z0-9_.-], not starting with a dot, at most 64 characters) can do neither harm there.
bool valid_name(std::string_view name, std::string& why) {
  if (name.empty() || name.size() > kMaxNameLength) {
    why = "must have 1 to " + std::to_string(kMaxNameLength) + " characters";
    return false;
  }
  if (name.front() == '.') {
    why = "must not start with '.'";
    return false;
  }
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') {
      why = "may hold only letters, digits, '_', '.' and '-'";
      return false;
    }
  }
  return true;
}

std::string default_name(const OutputConfig& c) {
  std::string base = c.type + "-";
  const std::string target = c.options ? c.options->target() : std::string();
  std::string what = c.type == "file" ? std::filesystem::path(target).filename().string() : target;
  for (char ch : what) {
    base.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
  }
  return base.substr(0, kMaxNameLength);
}

const detail::PluginEntry* find_plugin(std::string_view type) {
  for (const auto& e : detail::plugin_registry()) {
    if (e.type == type) return &e;
  }
  return nullptr;
}

std::string known_types() {
  std::string list;
  for (const auto& t : output_types()) list += (list.empty() ? "" : ", ") + t;
  return list;
}

void parse_format_keys(detail::ConfigReader& r, const YAML::Node& node,
                       const detail::PluginEntry& plugin, FormatOptions& format) {
  format.format = plugin.syslog_transport ? Format::kRfc5424 : Format::kJson;
  format.cef_syslog_header = plugin.syslog_transport;
  if (std::string f; r.string(node, "format", f) && !parse_format(f, format.format)) {
    r.error(node["format"], "format", "unknown format '" + f + "' (rfc5424, rfc3164, cef, json)");
  }
  if (std::string f; r.string(node, "facility", f) && !parse_facility(f, format.facility)) {
    r.error(node["facility"], "facility", "unknown syslog facility '" + f + "'");
  }
  if (std::int64_t v; r.integer(node, "enterprise_id", 1, 4294967295LL, v)) {
    format.enterprise_id = static_cast<std::uint32_t>(v);
  }
  r.string(node, "hostname", format.hostname);
  r.string(node, "app_name", format.app_name);
}

void parse_spool(detail::ConfigReader& r, const YAML::Node& node, SpoolOptions& spool) {
  static constexpr std::array<std::string_view, 6> kKeys = {
      "dir", "max_bytes", "segment_bytes", "fsync", "fsync_interval", "when_full"};
  const YAML::Node s = r.section(node, "spool");
  if (!s) return;
  r.check_keys(s, kKeys, "spool", "spool");
  if (std::string d; r.string(s, "spool.dir", d)) spool.dir = d;
  r.size(s, "spool.max_bytes", spool.max_bytes);
  r.size(s, "spool.segment_bytes", spool.segment_bytes);
  if (std::string f; r.string(s, "spool.fsync", f) && !parse_fsync_policy(f, spool.fsync)) {
    r.error(s["fsync"], "spool.fsync", "must be always, batch, never or interval");
  }
  r.duration(s, "spool.fsync_interval", spool.fsync_interval);
  if (std::string f; r.string(s, "spool.when_full", f) && !parse_full_policy(f, spool.when_full)) {
    r.error(s["when_full"], "spool.when_full", "must be block or drop_oldest");
  }
}

void parse_retry(detail::ConfigReader& r, const YAML::Node& node, RetryOptions& retry) {
  static constexpr std::array<std::string_view, 3> kKeys = {"initial", "max", "jitter"};
  const YAML::Node s = r.section(node, "retry");
  if (!s) return;
  r.check_keys(s, kKeys, "retry", "retry");
  r.duration(s, "retry.initial", retry.initial);
  r.duration(s, "retry.max", retry.max);
  if (auto n = s["jitter"]) {
    try {
      retry.jitter = std::clamp(n.as<double>(), 0.0, 0.9);
    } catch (const YAML::Exception&) {
      r.error(n, "retry.jitter", "must be a fraction like 0.2");
    }
  }
}

void parse_batch(detail::ConfigReader& r, const YAML::Node& node, OutputConfig& c) {
  static constexpr std::array<std::string_view, 2> kKeys = {"records", "bytes"};
  const YAML::Node s = r.section(node, "batch");
  if (!s) return;
  r.check_keys(s, kKeys, "batch", "batch");
  if (std::int64_t v; r.integer(s, "batch.records", 1, 100000, v)) {
    c.batch_records = static_cast<std::size_t>(v);
  }
  if (std::uint64_t bytes; r.size(s, "batch.bytes", bytes)) {
    c.batch_bytes = static_cast<std::size_t>(bytes);
  }
}

// Shared keys and the type's own; an unknown key names the keys this type has.
void check_output_keys(detail::ConfigReader& r, const YAML::Node& node,
                       const detail::PluginEntry& plugin) {
  std::vector<std::string_view> known(kSharedKeys.begin(), kSharedKeys.end());
  known.insert(known.end(), plugin.keys.begin(), plugin.keys.end());
  r.check_keys(node, known, "", "a " + std::string(plugin.type) + " output");
}

void parse_name(detail::ConfigReader& r, const YAML::Node& node, OutputConfig& c) {
  if (!node["name"]) {
    c.name = default_name(c);
    return;
  }
  std::string why;
  if (r.string(node, "name", c.name) && !valid_name(c.name, why)) {
    r.error(node["name"], "name",
            "output name '" + c.name + "' " + why + " (it names the spool directory)");
  }
}

}  // namespace

std::optional<OutputConfig> parse_output_config(const YAML::Node& node,
                                                const OutputParseContext& context,
                                                std::vector<ConfigError>& errors,
                                                std::vector<ConfigError>* warnings) {
  detail::ConfigReader r(context, errors, warnings);
  const std::size_t errors_before = errors.size();
  if (!node.IsMap()) {
    r.error(node, "", "an output must be a map with at least 'type'");
    return std::nullopt;
  }
  OutputConfig c;
  if (!node["type"]) {
    r.error(node, "type", "output has no 'type' (" + known_types() + ")");
    return std::nullopt;
  }
  if (!r.string(node, "type", c.type)) return std::nullopt;
  const detail::PluginEntry* plugin = find_plugin(c.type);
  if (!plugin) {
    r.error(node["type"], "type",
            "unknown output type '" + c.type + "' (known: " + known_types() + ")");
    return std::nullopt;
  }
  check_output_keys(r, node, *plugin);
  parse_format_keys(r, node, *plugin, c.format);
  parse_spool(r, node, c.spool);
  parse_retry(r, node, c.retry);
  parse_batch(r, node, c);
  if (std::string d; r.string(node, "dead_letter", d)) c.dead_letter = d;
  c.options = plugin->parse(r, node, c);
  parse_name(r, node, c);
  if (c.spool.dir.empty()) c.spool.dir = context.data_dir / "spool" / c.name;
  if (errors.size() != errors_before) return std::nullopt;
  return c;
}

std::vector<ConfigError> validate(const OutputConfig& c) {
  std::vector<ConfigError> out;
  auto fail = [&](std::string m) { out.push_back({std::move(m), 0, 0, {}}); };
  if (std::string why; !valid_name(c.name, why)) fail("output name '" + c.name + "' " + why);
  if (!c.options) fail(c.type + " output has no " + c.type + " options");
  if (c.spool.dir.empty()) fail("no spool directory");
  if (c.batch_records == 0) fail("batch.records must be at least 1");
  return out;
}

}  // namespace sw::forward
