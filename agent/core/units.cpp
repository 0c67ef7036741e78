#include "sessionwatch/units.hpp"

#include <cstdint>

#include "sessionwatch/text.hpp"

namespace sw {
namespace {

using text::is_digit;

// The leading decimal digits of `text` (at most `max_digits`) and where they end.
std::uint64_t leading_number(std::string_view text, std::size_t max_digits, std::size_t& end) {
  std::uint64_t v = 0;
  end = 0;
  while (end < text.size() && end < max_digits && is_digit(text[end])) {
    v = v * 10 + static_cast<std::uint64_t>(text[end] - '0');
    ++end;
  }
  return v;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t end = 0;
  const std::uint64_t v = leading_number(text, 15, end);
  if (end == 0) return std::nullopt;
  std::string unit;
  for (char c : text.substr(end)) {
    if (c != ' ') unit.push_back(text::lower(c));
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
  if (mult == 0 || v > UINT64_MAX / mult) return std::nullopt;
  return v * mult;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t end = 0;
  const auto v = static_cast<std::int64_t>(leading_number(text, 12, end));
  if (end == 0) return std::nullopt;
  const std::string_view unit = text.substr(end);
  std::int64_t mult = 0;
  if (unit.empty() || unit == "ms")
    mult = 1;
  else if (unit == "s")
    mult = 1000;
  else if (unit == "m")
    mult = 60'000;
  if (mult == 0) return std::nullopt;
  return std::chrono::milliseconds(v * mult);
}

std::optional<HostPort> split_host_port(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view after = text.substr(close + 1);
    if (!after.empty() && after.front() != ':') return std::nullopt;
    return HostPort{std::string(text.substr(1, close - 1)),
                    std::string(after.empty() ? after : after.substr(1))};
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return HostPort{std::string(text), {}};
  return HostPort{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  std::size_t end = 0;
  const std::uint64_t v = leading_number(text, 5, end);
  if (end != text.size() || v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

}  // namespace sw
