// UTF-8 hygiene at the edges: decoders pass every value through here, so everything downstream
// (JSON, syslog, CEF) may assume valid UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sw {

bool is_valid_utf8(std::string_view s);
// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF, nothing cut off by the end of s).
std::size_t valid_utf8_sequence_length(std::string_view s, std::size_t i);
// Appends `s`, replacing each invalid or overlong sequence (and lone surrogates) with U+FFFD.
void append_sanitized_utf8(std::string_view s, std::string& out);

// Writes one code point (<= U+10FFFF, not a surrogate: the caller has checked) as UTF-8 at `out`
// (room for 4 bytes); returns the end of what it wrote.
inline char* write_utf8_code_point(std::uint32_t cp, char* out) {
  if (cp < 0x80) {
    *out++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out++ = static_cast<char>(0xC0 | (cp >> 6));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out++ = static_cast<char>(0xE0 | (cp >> 12));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out++ = static_cast<char>(0xF0 | (cp >> 18));
    *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// The same, appended to `out`. Inline: the UTF-16 converters call it per character.
inline void append_utf8_code_point(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
    return;
  }
  char bytes[4];
  out.append(bytes, write_utf8_code_point(cp, bytes));
}

}  // namespace sw
