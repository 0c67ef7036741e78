// Plain decimal digits read straight into a number, for the parsers that meet them in every event
// (a JSON line's event id and record id, a numeric value): up to 19 digits cannot overflow, so
// there is no check per digit as std::from_chars makes.
#pragma once

#include <cstdint>
#include <string_view>

namespace sw {

// `s` as a number when it is 1 to 19 decimal digits and nothing else; false for anything else
// (longer numbers, signs, blanks, hex: those are for a general parse).
inline bool read_plain_digits(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    const auto digit = static_cast<unsigned>(c - '0');
    if (digit > 9) return false;
    v = v * 10 + digit;
  }
  out = v;
  return true;
}

}  // namespace sw
