// The keys the network outputs (syslog, relp, http) share: collectors in failover order, TLS and
// timeouts. Each plugin names which of them it reads; the parser here checks them.
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "forward/config_reader.hpp"

namespace sw::forward::detail {

struct TlsOptions {
  bool verify = true;       // peer certificate and host name checked
  std::string ca_file;      // PEM bundle; empty: the system store
  std::string cert_file;    // client certificate (mTLS), PEM
  std::string key_file;     // its private key, PEM
  std::string server_name;  // name to verify and send as SNI; empty: the URL's host
};

struct Endpoints {
  std::vector<std::string> urls;  // in failover order: udp:// tcp:// tls:// relp:// http(s)://
  // Per URL (same index as urls): "user:password" taken out of the URL as written; empty: none.
  // Only outputs with a login (HTTP basic authentication) accept one.
  std::vector<std::string> logins;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds io_timeout{10'000};
};

// url/urls (each with one of `schemes`), connect_timeout and io_timeout. `allow_login`: a
// user:password in a URL becomes a login instead of an error.
void parse_endpoints(ConfigReader& reader, const YAML::Node& node, std::string_view type,
                     std::initializer_list<std::string_view> schemes, bool allow_login,
                     Endpoints& out);
// The `tls:` section; files must exist.
void parse_tls(ConfigReader& reader, const YAML::Node& node, TlsOptions& out);

// The preferred collector, an output's target(); "" when there is none.
inline std::string first_url(const Endpoints& e) {
  return e.urls.empty() ? "" : e.urls.front();
}

}  // namespace sw::forward::detail
