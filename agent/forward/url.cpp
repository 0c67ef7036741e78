#include <cctype>

#include "forward/output_plugin.hpp"

namespace sw::forward::detail {

std::string_view default_port(std::string_view scheme) {
  if (scheme == "udp" || scheme == "tcp") return "514";
  if (scheme == "tls") return "6514";
  if (scheme == "relp") return "2514";
  if (scheme == "http") return "80";
  if (scheme == "https") return "443";
  return "";
}

bool parse_url(std::string_view text, Url& out, std::string& error) {
  out = {};
  auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    error = "'" + std::string(text) + "' is not a URL (scheme://host:port)";
    return false;
  }
  for (char c : text.substr(0, sep)) out.scheme.push_back(static_cast<char>(std::tolower(c)));
  std::string_view rest = text.substr(sep + 3);
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "'" + std::string(text) + "': unterminated [IPv6] host";
      return false;
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "'" + std::string(text) + "': junk after [IPv6] host";
        return false;
      }
      out.port = std::string(after.substr(1));
    }
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  if (out.host.empty()) {
    error = "'" + std::string(text) + "' has no host";
    return false;
  }
  if (out.port.empty()) out.port = std::string(default_port(out.scheme));
  for (char c : out.port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      error = "'" + std::string(text) + "': port '" + out.port + "' is not a number";
      return false;
    }
  }
  if (out.port.empty() || out.port.size() > 5 || std::stoul(out.port) == 0 ||
      std::stoul(out.port) > 65535) {
    error = "'" + std::string(text) + "': port out of range";
    return false;
  }
  return true;
}

}  // namespace sw::forward::detail
