// The http output's keys.
#include <algorithm>
#include <array>

#include <boost/algorithm/string/predicate.hpp>

#include "forward/outputs/http/http_output.hpp"

namespace sw::forward::detail {

namespace {

constexpr std::array<std::string_view, 6> kHttpKeys = {"url",        "urls", "connect_timeout",
                                                       "io_timeout", "tls",  "http"};
constexpr std::array<std::string_view, 5> kHttpSectionKeys = {"path", "headers", "body", "index",
                                                              "gzip"};

void parse_headers(ConfigReader& reader, const YAML::Node& section, HttpOptions& options) {
  const YAML::Node n = section["headers"];
  if (!n) return;
  if (!n.IsMap()) {
    reader.error(n, "http.headers", "must be a map of name: value");
    return;
  }
  for (const auto& kv : n) {
    const std::string name = kv.first.as<std::string>("");
    if (!kv.second.IsScalar()) {
      reader.error(kv.second, "http.headers." + name, "expected a string");
      continue;
    }
    options.headers.emplace_back(name, kv.second.Scalar());
  }
}

void parse_body(ConfigReader& reader, const YAML::Node& section, HttpOptions& options) {
  std::string b;
  if (!reader.string(section, "http.body", b)) return;
  if (b == "json_lines")
    options.body = HttpBody::kJsonLines;
  else if (b == "json_array")
    options.body = HttpBody::kJsonArray;
  else if (b == "bulk" || b == "elasticsearch_bulk")
    options.body = HttpBody::kElasticBulk;
  else
    reader.error(section["body"], "http.body", "must be json_lines, json_array or bulk");
}

void parse_http_section(ConfigReader& reader, const YAML::Node& node, const OutputConfig& shared,
                        HttpOptions& options) {
  const YAML::Node h = reader.section(node, "http");
  if (!h) return;
  reader.check_keys(h, kHttpSectionKeys, "http", "http");
  reader.string(h, "http.path", options.path);
  parse_headers(reader, h, options);
  parse_body(reader, h, options);
  reader.string(h, "http.index", options.bulk_index);
  reader.boolean(h, "http.gzip", options.gzip);
  if (options.body != HttpBody::kJsonLines && shared.format.format != Format::kJson) {
    reader.error(h["body"], "http.body", "json_array and bulk need format json");
  }
}

// A login in the URL and an Authorization header exclude each other; a login over http://
// travels in clear.
void check_logins(ConfigReader& reader, const YAML::Node& node, const HttpOptions& options) {
  const auto& e = options.endpoints;
  const bool url_login =
      std::any_of(e.logins.begin(), e.logins.end(), [](const auto& l) { return !l.empty(); });
  const bool header_login = std::any_of(
      options.headers.begin(), options.headers.end(),
      [](const auto& h) { return boost::algorithm::iequals(h.first, "Authorization"); });
  if (url_login && header_login) {
    reader.error(node, "http.headers",
                 "a user and password in the URL and an Authorization header exclude each other");
  }
  for (std::size_t i = 0; i < e.urls.size() && i < e.logins.size(); ++i) {
    if (!e.logins[i].empty() && e.urls[i].rfind("http://", 0) == 0) {
      reader.warning(node, "url", "the password of " + e.urls[i] + " travels in clear (http://)");
    }
  }
}

}  // namespace

const PluginEntry kHttpOutput = {"http", kHttpKeys, &parse_http_options, &make_http_output, false};

std::shared_ptr<const OutputOptions> parse_http_options(ConfigReader& reader,
                                                        const YAML::Node& node,
                                                        const OutputConfig& shared) {
  auto options = std::make_shared<HttpOptions>();
  parse_endpoints(reader, node, "http", {"http", "https"}, true, options->endpoints);
  parse_tls(reader, node, options->tls);
  parse_http_section(reader, node, shared, *options);
  check_logins(reader, node, *options);
  return options;
}

}  // namespace sw::forward::detail
