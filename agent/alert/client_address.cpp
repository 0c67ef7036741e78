#include <algorithm>
#include <charconv>

#include <boost/asio/ip/address.hpp>

#include "alert/alert_facts.hpp"
#include "sessionwatch/ip_address.hpp"

namespace sw::alert_detail {

namespace {

// A client address as Windows and tools write it: "10.1.2.3", "10.1.2.3:50123", "fe80::1%12",
// "[fe80::1%12]:3389". Only a valid address (its zone dropped) is an IP: a client name such as
// LAPTOP-BOB is not, and an `ip` field of a collector would reject it.
struct ClientAddress {
  std::string ip;
  std::optional<std::uint16_t> port;
};

std::optional<std::uint16_t> parse_port(std::string_view digits) {
  std::uint16_t port = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return {};
  return port;
}

std::optional<ClientAddress> parse_client_address(std::string_view text) {
  std::string_view host = text;
  std::optional<std::uint16_t> port;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return {};
    const std::string_view after = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!after.empty() && !(after.front() == ':' && (port = parse_port(after.substr(1)))))
      return {};
  } else if (std::count(host.begin(), host.end(), ':') == 1) {  // IPv4 and port
    const auto colon = host.find(':');
    if (!(port = parse_port(host.substr(colon + 1)))) return {};
    host = host.substr(0, colon);
  }
  // Parsed by our own strict parser, not inet_pton: Windows' takes "10.1.2" as 10.1.0.2.
  const std::optional<IpAddress> ip = parse_ip(host);
  if (!ip) return {};
  if (host.find(':') == std::string_view::npos) {
    boost::asio::ip::address_v4::bytes_type v4;
    std::copy(ip->bytes.begin() + 12, ip->bytes.end(), v4.begin());
    return ClientAddress{boost::asio::ip::address_v4(v4).to_string(), port};
  }
  return ClientAddress{boost::asio::ip::address_v6(ip->bytes).to_string(), port};
}

}  // namespace

AlertSource source_of(std::string_view address) {
  AlertSource source{std::string(address), {}, {}};
  if (const auto parsed = parse_client_address(address)) {
    source.ip = parsed->ip;
    source.port = parsed->port;
  }
  return source;
}

}  // namespace sw::alert_detail
