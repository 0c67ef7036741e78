#include "forward/net/endpoints.hpp"

#include <algorithm>
#include <array>
#include <filesystem>

#include "forward/output_plugin.hpp"

namespace sw::forward::detail {

namespace {

std::string scheme_list(std::initializer_list<std::string_view> schemes) {
  std::string list;
  for (auto s : schemes) list += (list.empty() ? "" : ", ") + std::string(s) + "://";
  return list;
}

// A user and password in a URL become a login and never stay in the URL, which logs, metrics
// and spool names show.
void add_url(ConfigReader& reader, const YAML::Node& n, std::string_view key, std::string_view type,
             std::initializer_list<std::string_view> schemes, bool allow_login, Endpoints& out) {
  if (!n.IsScalar()) {
    reader.error(n, key, "expected a URL");
    return;
  }
  const std::string& written = n.Scalar();
  std::string url, userinfo, error;
  if (!take_userinfo(written, url, userinfo, error)) {
    reader.error(n, key, error);
    return;
  }
  if (!userinfo.empty() && !allow_login) {
    reader.error(n, key,
                 "'" + redact_url(written) + "': " + std::string(type) +
                     " has no login; remove the user and password from the URL");
    return;
  }
  Url parsed;
  if (!parse_url(url, parsed, error)) {
    reader.error(n, key, error);
  } else if (std::find(schemes.begin(), schemes.end(), parsed.scheme) == schemes.end()) {
    reader.error(n, key, "'" + url + "': scheme must be one of " + scheme_list(schemes));
  }
  out.urls.push_back(url);
  out.logins.push_back(userinfo);
}

}  // namespace

void parse_endpoints(ConfigReader& reader, const YAML::Node& node, std::string_view type,
                     std::initializer_list<std::string_view> schemes, bool allow_login,
                     Endpoints& out) {
  if (auto n = node["url"]) add_url(reader, n, "url", type, schemes, allow_login, out);
  if (auto n = node["urls"]) {
    if (!n.IsSequence()) {
      reader.error(n, "urls", "must be a list, first one preferred");
    } else {
      for (std::size_t i = 0; i < n.size(); ++i) {
        add_url(reader, n[i], "urls[" + std::to_string(i + 1) + "]", type, schemes, allow_login,
                out);
      }
    }
  }
  if (!node["url"] && !node["urls"]) {
    reader.error(node, "url", std::string(type) + " output needs 'url' or 'urls'");
  }
  reader.duration(node, "connect_timeout", out.connect_timeout);
  reader.duration(node, "io_timeout", out.io_timeout);
}

void parse_tls(ConfigReader& reader, const YAML::Node& node, TlsOptions& out) {
  const YAML::Node t = reader.section(node, "tls");
  if (!t) return;
  static constexpr std::array<std::string_view, 5> kKeys = {"verify", "ca_file", "cert_file",
                                                            "key_file", "server_name"};
  reader.check_keys(t, kKeys, "tls", "tls");
  if (reader.boolean(t, "tls.verify", out.verify) && !out.verify) {
    reader.warning(t["verify"], "tls.verify",
                   "false accepts any certificate: anyone on the path can read and forge the "
                   "alerts");
  }
  const std::pair<const char*, std::string*> files[] = {{"tls.ca_file", &out.ca_file},
                                                        {"tls.cert_file", &out.cert_file},
                                                        {"tls.key_file", &out.key_file}};
  for (const auto& [key, field] : files) {
    std::error_code ec;
    if (reader.string(t, key, *field) && !std::filesystem::exists(*field, ec)) {
      reader.error(ConfigReader::child(t, key), key, "TLS file " + *field + " does not exist");
    }
  }
  reader.string(t, "tls.server_name", out.server_name);
  if (out.cert_file.empty() != out.key_file.empty()) {
    reader.error(t, "tls", "cert_file and key_file go together (client certificate and its key)");
  }
}

}  // namespace sw::forward::detail
