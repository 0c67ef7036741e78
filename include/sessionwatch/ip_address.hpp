// IP addresses as Windows and tools write them, parsed strictly and alike on every platform: an
// IPv4 address is exactly four decimal parts (no "10.1.2", no "010.1.2.3"); IPv6 in any RFC 4291
// text form, also with an embedded IPv4 address.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sw {

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the last 4 bytes
  bool v4 = false;                       // IPv4, also when written IPv4-mapped ("::ffff:a.b.c.d")
};

// Brackets ("[fe80::1]") and a zone ("%12") are dropped; nullopt when not an address.
std::optional<IpAddress> parse_ip(std::string_view s);

}  // namespace sw
