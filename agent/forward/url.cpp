#include "forward/output_plugin.hpp"
#include "sessionwatch/text.hpp"
#include "sessionwatch/units.hpp"

namespace sw::forward::detail {

std::string_view default_port(std::string_view scheme) {
  if (scheme == "udp" || scheme == "tcp") return "514";
  if (scheme == "tls") return "6514";
  if (scheme == "relp") return "2514";
  if (scheme == "http") return "80";
  if (scheme == "https") return "443";
  return "";
}

namespace {

// Where the authority (userinfo@host:port) of "scheme://authority/path" starts and ends.
std::pair<std::size_t, std::size_t> authority_span(std::string_view text) {
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) return {text.size(), text.size()};
  const std::size_t start = sep + 3;
  const std::size_t end = text.find_first_of("/?#", start);
  return {start, end == std::string_view::npos ? text.size() : end};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool take_userinfo(std::string_view text, std::string& url, std::string& userinfo,
                   std::string& error) {
  const auto [start, end] = authority_span(text);
  const std::size_t at = text.substr(start, end - start).rfind('@');
  userinfo.clear();
  if (at == std::string_view::npos) {
    url = std::string(text);
    return true;
  }
  url = std::string(text.substr(0, start)) + std::string(text.substr(start + at + 1));
  if (!percent_decode(text.substr(start, at), userinfo)) {
    error = "'" + redact_url(text) + "': bad %-escape in the user or password";
    return false;
  }
  return true;
}

std::string redact_url(std::string_view text) {
  const auto [start, end] = authority_span(text);
  const std::size_t at = text.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return std::string(text);
  const std::string_view userinfo = text.substr(start, at);
  const std::size_t colon = userinfo.find(':');
  const std::string_view user = userinfo.substr(0, colon);
  return std::string(text.substr(0, start)) + std::string(user) +
         (colon == std::string_view::npos ? "" : ":***") + std::string(text.substr(start + at));
}

bool parse_url(std::string_view text, Url& out, std::string& error) {
  out = {};
  {
    const auto [start, end] = authority_span(text);
    if (text.substr(start, end - start).find('@') != std::string_view::npos) {
      // Only the configuration takes a user and password out of a URL (take_userinfo); one
      // that reaches here must not be echoed in errors and logs.
      error = "'" + redact_url(text) + "': a user or password in the URL is not supported here";
      return false;
    }
  }
  auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    error = "'" + std::string(text) + "' is not a URL (scheme://host:port)";
    return false;
  }
  out.scheme = text::lowered(text.substr(0, sep));
  std::string_view rest = text.substr(sep + 3);
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  auto host_port = split_host_port(authority);
  if (!host_port) {
    error = "'" + std::string(text) + "': " +
            (authority.find(']') == std::string_view::npos ? "unterminated [IPv6] host"
                                                           : "junk after [IPv6] host");
    return false;
  }
  out.host = std::move(host_port->host);
  out.port = std::move(host_port->port);
  if (out.host.empty()) {
    error = "'" + std::string(text) + "' has no host";
    return false;
  }
  if (out.port.empty()) out.port = std::string(default_port(out.scheme));
  if (out.port.find_first_not_of("0123456789") != std::string::npos) {
    error = "'" + std::string(text) + "': port '" + out.port + "' is not a number";
    return false;
  }
  if (!parse_port(out.port)) {
    error = "'" + std::string(text) + "': port out of range";
    return false;
  }
  return true;
}

}  // namespace sw::forward::detail
