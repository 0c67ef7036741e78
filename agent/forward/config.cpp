// outputs: YAML -> OutputConfig. Strict: unknown keys and bad values are errors with a line.
#include <algorithm>
#include <cctype>
#include <set>

#include <yaml-cpp/yaml.h>
#include <boost/algorithm/string/predicate.hpp>

#include "forward/output_plugin.hpp"

namespace sw::forward {

namespace {

class Parser {
 public:
  explicit Parser(std::vector<ConfigError>& errors) : errors_(errors) {}

  void error(const YAML::Node& at, std::string message) {
    ConfigError e;
    e.message = std::move(message);
    if (at.IsDefined()) {
      e.line = at.Mark().line + 1;
      e.column = at.Mark().column + 1;
    }
    errors_.push_back(std::move(e));
  }

  // Keys of `map` must all be in `known`.
  void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> known,
                  std::string_view where) {
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>("");
      bool ok = false;
      for (auto k : known) ok = ok || k == key;
      if (!ok) error(kv.first, "unknown key '" + key + "' in " + std::string(where));
    }
  }

  // A nested mapping (tls, http, rotate, spool, retry, batch): a scalar or a list there is an
  // error, not a crash in operator[]; an undefined node (false) when absent or not a map.
  YAML::Node section(const YAML::Node& parent, const char* key) {
    const YAML::Node n = parent[key];
    if (!n) return YAML::Node(YAML::NodeType::Undefined);
    if (!n.IsMap()) {
      error(n, std::string(key) + " must be a map");
      return YAML::Node(YAML::NodeType::Undefined);
    }
    return n;
  }

  bool string(const YAML::Node& n, std::string& out) {
    if (!n.IsScalar()) {
      error(n, "expected a string");
      return false;
    }
    out = n.Scalar();
    return true;
  }

  bool boolean(const YAML::Node& n, bool& out) {
    try {
      out = n.as<bool>();
      return true;
    } catch (const YAML::Exception&) {
      error(n, "expected true or false, got '" + n.as<std::string>("") + "'");
      return false;
    }
  }

  // 1024, "64k", "10MiB", "1 GB" (binary multiples either way: spool sizes are not marketing).
  bool size(const YAML::Node& n, std::uint64_t& out) {
    std::string s;
    if (!string(n, s)) return false;
    std::size_t i = 0;
    std::uint64_t v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (++i > 15) break;
    }
    std::string unit;
    for (; i < s.size(); ++i) {
      if (s[i] != ' ')
        unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s[i]))));
    }
    std::uint64_t mult = 0;
    if (unit.empty() || unit == "b")
      mult = 1;
    else if (unit == "k" || unit == "kb" || unit == "kib")
      mult = 1ULL << 10;
    else if (unit == "m" || unit == "mb" || unit == "mib")
      mult = 1ULL << 20;
    else if (unit == "g" || unit == "gb" || unit == "gib")
      mult = 1ULL << 30;
    if (mult == 0 || s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) {
      error(n, "expected a size like 1048576, 64KiB or 256MiB, got '" + s + "'");
      return false;
    }
    out = v * mult;
    return true;
  }

  // 500 (milliseconds), "250ms", "5s", "2m".
  bool duration(const YAML::Node& n, std::chrono::milliseconds& out) {
    std::string s;
    if (!string(n, s)) return false;
    std::size_t i = 0;
    std::int64_t v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i < 12) {
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    std::string unit = s.substr(i);
    std::int64_t mult = 0;
    if (unit.empty() || unit == "ms")
      mult = 1;
    else if (unit == "s")
      mult = 1000;
    else if (unit == "m")
      mult = 60'000;
    if (i == 0 || mult == 0) {
      error(n, "expected a duration like 500ms, 5s or 2m, got '" + s + "'");
      return false;
    }
    out = std::chrono::milliseconds(v * mult);
    return true;
  }

  bool integer(const YAML::Node& n, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
    try {
      out = n.as<std::int64_t>();
    } catch (const YAML::Exception&) {
      error(n, "expected a number");
      return false;
    }
    if (out < lo || out > hi) {
      error(n, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
      return false;
    }
    return true;
  }

 private:
  std::vector<ConfigError>& errors_;
};

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
  std::string what = c.urls.empty() ? c.file.path.filename().string() : c.urls.front();
  for (char ch : what) {
    base.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
  }
  return base.substr(0, kMaxNameLength);
}

}  // namespace

std::optional<OutputConfig> parse_output_config(const YAML::Node& node,
                                                const std::filesystem::path& data_dir,
                                                std::vector<ConfigError>& errors) {
  Parser p(errors);
  std::size_t errors_before = errors.size();
  if (!node.IsMap()) {
    p.error(node, "an output must be a map with at least 'type'");
    return std::nullopt;
  }
  p.check_keys(node, {"type",          "name",          "url",
                      "urls",          "format",        "facility",
                      "enterprise_id", "hostname",      "app_name",
                      "framing",       "tls",           "http",
                      "path",          "rotate",        "spool",
                      "retry",         "batch",         "connect_timeout",
                      "io_timeout",    "confirm_delay", "failback_interval",
                      "dead_letter"},
               "output");
  OutputConfig c;
  if (!node["type"]) {
    p.error(node, "output has no 'type' (syslog, relp, http, file, stdout)");
    return std::nullopt;
  }
  p.string(node["type"], c.type);
  bool known_type = false;
  for (const auto& e : detail::plugin_registry()) known_type = known_type || e.type == c.type;
  if (!known_type) {
    std::string list;
    for (const auto& t : output_types()) list += (list.empty() ? "" : ", ") + t;
    p.error(node["type"], "unknown output type '" + c.type + "' (known: " + list + ")");
  }
  c.format.format = c.type == "syslog" || c.type == "relp" ? Format::kRfc5424 : Format::kJson;
  // A user and password in a URL become HTTP basic authentication and never stay in the URL,
  // which logs, metrics and spool names show.
  auto add_url = [&](const YAML::Node& n) {
    std::string written, url, userinfo, error;
    if (!p.string(n, written)) return;
    if (!detail::take_userinfo(written, url, userinfo, error)) {
      p.error(n, error);
      return;
    }
    c.urls.push_back(url);
    if (userinfo.empty()) return;
    if (c.type != "http") {
      p.error(n, "'" + detail::redact_url(written) + "': " + c.type +
                     " has no login; remove the user and password from the URL");
      return;
    }
    c.http.basic_auth.resize(c.urls.size());
    c.http.basic_auth.back() = userinfo;
  };
  if (auto n = node["url"]) add_url(n);
  if (auto n = node["urls"]) {
    if (!n.IsSequence()) {
      p.error(n, "'urls' must be a list, first one preferred");
    } else {
      for (const auto& u : n) add_url(u);
    }
  }
  if (auto n = node["format"]) {
    std::string f;
    if (p.string(n, f) && !parse_format(f, c.format.format)) {
      p.error(n, "unknown format '" + f + "' (rfc5424, rfc3164, cef, json)");
    }
  }
  c.format.cef_syslog_header = c.type == "syslog" || c.type == "relp";
  if (auto n = node["facility"]) {
    std::string f;
    if (p.string(n, f) && !parse_facility(f, c.format.facility)) {
      p.error(n, "unknown syslog facility '" + f + "'");
    }
  }
  if (auto n = node["enterprise_id"]) {
    std::int64_t v;
    if (p.integer(n, 1, 4294967295LL, v)) c.format.enterprise_id = static_cast<std::uint32_t>(v);
  }
  if (auto n = node["hostname"]) p.string(n, c.format.hostname);
  if (auto n = node["app_name"]) p.string(n, c.format.app_name);
  if (auto n = node["framing"]) {
    std::string f;
    if (p.string(n, f)) {
      if (f == "octet-counting" || f == "octet_counting")
        c.framing = TcpFraming::kOctetCounting;
      else if (f == "lf")
        c.framing = TcpFraming::kLineFeed;
      else
        p.error(n, "framing must be octet-counting or lf");
    }
  }
  if (auto t = p.section(node, "tls")) {
    p.check_keys(t, {"verify", "ca_file", "cert_file", "key_file", "server_name"}, "tls");
    if (auto n = t["verify"]) p.boolean(n, c.tls.verify);
    if (auto n = t["ca_file"]) p.string(n, c.tls.ca_file);
    if (auto n = t["cert_file"]) p.string(n, c.tls.cert_file);
    if (auto n = t["key_file"]) p.string(n, c.tls.key_file);
    if (auto n = t["server_name"]) p.string(n, c.tls.server_name);
  }
  if (auto h = p.section(node, "http")) {
    p.check_keys(h, {"path", "headers", "body", "index", "gzip"}, "http");
    if (auto n = h["path"]) p.string(n, c.http.path);
    if (auto n = h["headers"]) {
      if (!n.IsMap()) p.error(n, "http.headers must be a map of name: value");
      for (const auto& kv : n) {
        std::string v;
        if (p.string(kv.second, v)) c.http.headers.emplace_back(kv.first.as<std::string>(""), v);
      }
    }
    if (auto n = h["body"]) {
      std::string b;
      if (p.string(n, b)) {
        if (b == "json_lines")
          c.http.body = HttpBody::kJsonLines;
        else if (b == "json_array")
          c.http.body = HttpBody::kJsonArray;
        else if (b == "bulk" || b == "elasticsearch_bulk")
          c.http.body = HttpBody::kElasticBulk;
        else
          p.error(n, "http.body must be json_lines, json_array or bulk");
      }
    }
    if (auto n = h["index"]) p.string(n, c.http.bulk_index);
    if (auto n = h["gzip"]) p.boolean(n, c.http.gzip);
  }
  if (auto n = node["path"]) {
    std::string s;
    if (p.string(n, s)) c.file.path = s;
  }
  if (auto r = p.section(node, "rotate")) {
    p.check_keys(r, {"max_bytes", "max_files"}, "rotate");
    if (auto n = r["max_bytes"]) p.size(n, c.file.max_bytes);
    if (auto n = r["max_files"]) {
      std::int64_t v;
      if (p.integer(n, 1, 1000, v)) c.file.max_files = static_cast<int>(v);
    }
  }
  if (auto s = p.section(node, "spool")) {
    p.check_keys(s, {"dir", "max_bytes", "segment_bytes", "fsync", "fsync_interval", "when_full"},
                 "spool");
    if (auto n = s["dir"]) {
      std::string d;
      if (p.string(n, d)) c.spool.dir = d;
    }
    if (auto n = s["max_bytes"]) p.size(n, c.spool.max_bytes);
    if (auto n = s["segment_bytes"]) p.size(n, c.spool.segment_bytes);
    if (auto n = s["fsync"]) {
      std::string f;
      if (p.string(n, f) && !parse_fsync_policy(f, c.spool.fsync)) {
        p.error(n, "spool.fsync must be always, batch, never or interval");
      }
    }
    if (auto n = s["fsync_interval"]) p.duration(n, c.spool.fsync_interval);
    if (auto n = s["when_full"]) {
      std::string f;
      if (p.string(n, f) && !parse_full_policy(f, c.spool.when_full)) {
        p.error(n, "spool.when_full must be block or drop_oldest");
      }
    }
  }
  if (auto r = p.section(node, "retry")) {
    p.check_keys(r, {"initial", "max", "jitter"}, "retry");
    if (auto n = r["initial"]) p.duration(n, c.retry.initial);
    if (auto n = r["max"]) p.duration(n, c.retry.max);
    if (auto n = r["jitter"]) {
      try {
        c.retry.jitter = std::clamp(n.as<double>(), 0.0, 0.9);
      } catch (const YAML::Exception&) {
        p.error(n, "retry.jitter must be a fraction like 0.2");
      }
    }
  }
  if (auto b = p.section(node, "batch")) {
    p.check_keys(b, {"records", "bytes"}, "batch");
    std::int64_t v;
    if (auto n = b["records"]; n && p.integer(n, 1, 100000, v))
      c.batch_records = static_cast<std::size_t>(v);
    if (auto n = b["bytes"]) {
      std::uint64_t bytes;
      if (p.size(n, bytes)) c.batch_bytes = static_cast<std::size_t>(bytes);
    }
  }
  if (auto n = node["connect_timeout"]) p.duration(n, c.connect_timeout);
  if (auto n = node["io_timeout"]) p.duration(n, c.io_timeout);
  if (auto n = node["confirm_delay"]) p.duration(n, c.confirm_delay);
  if (auto n = node["failback_interval"]) p.duration(n, c.failback_interval);
  if (auto n = node["dead_letter"]) {
    std::string d;
    if (p.string(n, d)) c.dead_letter = d;
  }
  if (auto n = node["name"]) {
    std::string why;
    if (p.string(n, c.name) && !valid_name(c.name, why)) {
      p.error(n, "output name '" + c.name + "' " + why + " (it names the spool directory)");
    }
  } else {
    c.name = default_name(c);
  }
  if (c.spool.dir.empty()) c.spool.dir = data_dir / "spool" / c.name;
  if (errors.size() == errors_before) {
    for (auto& e : validate(c)) {
      e.line = node.Mark().line + 1;
      e.column = node.Mark().column + 1;
      errors.push_back(std::move(e));
    }
  }
  if (errors.size() != errors_before) return std::nullopt;
  return c;
}

std::vector<ConfigError> validate(const OutputConfig& c) {
  std::vector<ConfigError> out;
  auto fail = [&](std::string m) { out.push_back({std::move(m), 0, 0}); };
  std::set<std::string> schemes;
  if (c.type == "syslog")
    schemes = {"udp", "tcp", "tls"};
  else if (c.type == "relp")
    schemes = {"relp"};
  else if (c.type == "http")
    schemes = {"http", "https"};
  if (std::string why; !valid_name(c.name, why)) fail("output name '" + c.name + "' " + why);
  const bool url_login = std::any_of(c.http.basic_auth.begin(), c.http.basic_auth.end(),
                                     [](const std::string& u) { return !u.empty(); });
  const bool header_login = std::any_of(
      c.http.headers.begin(), c.http.headers.end(),
      [](const auto& h) { return boost::algorithm::iequals(h.first, "Authorization"); });
  if (url_login && header_login) {
    fail("a user and password in the URL and an Authorization header exclude each other");
  }
  if (!schemes.empty()) {
    if (c.urls.empty()) fail(c.type + " output needs 'url' or 'urls'");
    for (const auto& u : c.urls) {
      detail::Url url;
      std::string error;
      if (!detail::parse_url(u, url, error)) {
        fail(error);
      } else if (!schemes.count(url.scheme)) {
        std::string list;
        for (const auto& s : schemes) list += (list.empty() ? "" : ", ") + s + "://";
        fail("'" + u + "': scheme must be one of " + list);
      }
    }
  }
  if (c.type == "file" && c.file.path.empty()) fail("file output needs 'path'");
  if (c.type == "http" && c.http.body != HttpBody::kJsonLines && c.format.format != Format::kJson) {
    fail("http body json_array and bulk need format json");
  }
  if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
    fail("tls.cert_file and tls.key_file go together (client certificate and its key)");
  }
  for (const auto* f : {&c.tls.ca_file, &c.tls.cert_file, &c.tls.key_file}) {
    std::error_code ec;
    if (!f->empty() && !std::filesystem::exists(*f, ec)) fail("TLS file " + *f + " does not exist");
  }
  if (c.spool.dir.empty()) fail("no spool directory");
  if (c.batch_records == 0) fail("batch.records must be at least 1");
  return out;
}

}  // namespace sw::forward
