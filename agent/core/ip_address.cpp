// IP addresses parsed the same on every platform (the system's inet_pton is not: Windows takes
// "10.1.2" as 10.1.0.2). Used by Sigma's cidr modifier and by the alerts' source.ip.
#include "sessionwatch/ip_address.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <vector>

namespace sw {

namespace {

std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view s) {
  std::array<std::uint8_t, 4> out{};
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= s.size() || s[pos] != '.') return std::nullopt;
      ++pos;
    }
    unsigned v = 0;
    const char* first = s.data() + pos;
    const char* last = s.data() + s.size();
    auto r = std::from_chars(first, last, v);
    if (r.ec != std::errc() || r.ptr == first || r.ptr - first > 3 || v > 255) return std::nullopt;
    // "010" is octal to some parsers and decimal to others: neither, as inet_pton on Linux.
    if (*first == '0' && r.ptr - first > 1) return std::nullopt;
    out[part] = static_cast<std::uint8_t>(v);
    pos = static_cast<std::size_t>(r.ptr - s.data());
  }
  if (pos != s.size()) return std::nullopt;
  return out;
}

std::optional<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view s) {
  // Split on "::" at most once; each side is a list of 16-bit groups, the right side may end in
  // an embedded IPv4 address.
  std::array<std::uint8_t, 16> out{};
  auto parse_groups = [](std::string_view part, std::vector<std::uint16_t>& groups,
                         bool allow_v4) -> bool {
    if (part.empty()) return true;
    std::size_t start = 0;
    while (true) {
      const std::size_t colon = part.find(':', start);
      std::string_view g =
          part.substr(start, colon == std::string_view::npos ? part.npos : colon - start);
      if (colon == std::string_view::npos && allow_v4 && g.find('.') != std::string_view::npos) {
        auto v4 = parse_ipv4(g);
        if (!v4) return false;
        groups.push_back(static_cast<std::uint16_t>(((*v4)[0] << 8) | (*v4)[1]));
        groups.push_back(static_cast<std::uint16_t>(((*v4)[2] << 8) | (*v4)[3]));
        return true;
      }
      if (g.empty() || g.size() > 4) return false;
      unsigned v = 0;
      auto r = std::from_chars(g.data(), g.data() + g.size(), v, 16);
      if (r.ec != std::errc() || r.ptr != g.data() + g.size()) return false;
      groups.push_back(static_cast<std::uint16_t>(v));
      if (colon == std::string_view::npos) return true;
      start = colon + 1;
    }
  };
  std::vector<std::uint16_t> left, right;
  const std::size_t dc = s.find("::");
  if (dc == std::string_view::npos) {
    if (!parse_groups(s, left, true) || left.size() != 8) return std::nullopt;
  } else {
    if (s.find("::", dc + 1) != std::string_view::npos) return std::nullopt;
    if (!parse_groups(s.substr(0, dc), left, false) ||
        !parse_groups(s.substr(dc + 2), right, true) || left.size() + right.size() > 7)
      return std::nullopt;
  }
  std::size_t i = 0;
  for (std::uint16_t g : left) {
    out[i++] = static_cast<std::uint8_t>(g >> 8);
    out[i++] = static_cast<std::uint8_t>(g & 0xff);
  }
  i = 16 - right.size() * 2;
  for (std::uint16_t g : right) {
    out[i++] = static_cast<std::uint8_t>(g >> 8);
    out[i++] = static_cast<std::uint8_t>(g & 0xff);
  }
  return out;
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view s) {
  // Windows renders IPv4 peers of dual-stack sockets as "::ffff:10.0.0.1"; zone ids ("%12") and
  // brackets are dropped.
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (auto pct = s.find('%'); pct != std::string_view::npos) s = s.substr(0, pct);
  IpAddress ip;
  if (s.find(':') == std::string_view::npos) {
    auto v4 = parse_ipv4(s);
    if (!v4) return std::nullopt;
    ip.v4 = true;
    std::copy(v4->begin(), v4->end(), ip.bytes.begin() + 12);
    return ip;
  }
  auto v6 = parse_ipv6(s);
  if (!v6) return std::nullopt;
  ip.bytes = *v6;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  ip.v4 = std::equal(std::begin(kMapped), std::end(kMapped), ip.bytes.begin());
  return ip;
}

}  // namespace sw
