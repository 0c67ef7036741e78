// The value syntaxes of the configuration files: sizes, durations and host:port. Parsers only:
// the caller reports a nullopt with the key and line it came from.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sw {

// 1024, "64k", "10MiB", "1 GB": binary multiples either way (spool sizes are not marketing);
// the unit ignores case and spaces.
std::optional<std::uint64_t> parse_size(std::string_view text);

// 500 (milliseconds), "250ms", "5s", "2m".
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

struct HostPort {
  std::string host;
  std::string port;  // empty when the text names none
};

// "host:port", "host", "[v6 address]:port", "[v6 address]". Without brackets the last ':'
// separates the port. nullopt: an unterminated '[' or text after ']' that is not ":port".
std::optional<HostPort> split_host_port(std::string_view text);

// A TCP/UDP port: 1 to 65535 in at most 5 decimal digits.
std::optional<std::uint16_t> parse_port(std::string_view text);

}  // namespace sw
