// The one JSON string escaper: '"', '\\' and control characters escaped (\b \f \n \r \t, the rest
// as \u00XX), every other byte copied, so UTF-8 stays UTF-8. The alert writer and the event
// writer run it over every field: the scan for the next byte to escape takes 16 bytes per step
// where SSE2 exists (every x86-64), and the appends are generic over the output buffer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sessionwatch/utf8.hpp"

namespace sw {

constexpr bool needs_json_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

// Index of the first byte at or after `from` that JSON must escape, or s.size().
inline std::size_t find_json_escape(std::string_view s, std::size_t from) {
  std::size_t i = from;
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // Signed compare: bytes >= 0x80 also test "< 0x20"; the movemask of v itself removes them.
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmplt_epi8(v, space));
    const int mask = _mm_movemask_epi8(special) & ~_mm_movemask_epi8(v);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < s.size(); ++i) {
    if (needs_json_escape(static_cast<unsigned char>(s[i]))) return i;
  }
  return s.size();
}

// Appends the escape of one byte for which needs_json_escape is true. `Out` has
// append(const char*, std::size_t) (std::string has).
template <typename Out>
void append_json_escape_of(unsigned char c, Out& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  char short_form = 0;
  switch (c) {
    case '"':
      short_form = '"';
      break;
    case '\\':
      short_form = '\\';
      break;
    case '\b':
      short_form = 'b';
      break;
    case '\f':
      short_form = 'f';
      break;
    case '\n':
      short_form = 'n';
      break;
    case '\r':
      short_form = 'r';
      break;
    case '\t':
      short_form = 't';
      break;
    default: {
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(u, 6);
      return;
    }
  }
  const char escape[2] = {'\\', short_form};
  out.append(escape, 2);
}

// Appends `s` escaped, without quotes. `s` must be valid UTF-8 (bytes >= 0x80 are copied):
// see append_json_string for text that may not be.
template <typename Out>
void append_json_escaped(std::string_view s, Out& out) {
  std::size_t run = 0;  // start of the pending bytes that need no escape
  for (std::size_t i = find_json_escape(s, 0); i < s.size(); i = find_json_escape(s, i + 1)) {
    out.append(s.data() + run, i - run);
    append_json_escape_of(static_cast<unsigned char>(s[i]), out);
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
}

inline bool has_non_ascii(std::string_view s) {
  std::size_t i = 0;
#ifdef __SSE2__
  __m128i any = _mm_setzero_si128();
  for (; i + 16 <= s.size(); i += 16) {
    any = _mm_or_si128(any, _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i)));
  }
  if (_mm_movemask_epi8(any) != 0) return true;
#endif
  unsigned char high = 0;
  for (; i < s.size(); ++i) high |= static_cast<unsigned char>(s[i]);
  return high >= 0x80;
}

// True when `s` holds a byte >= 0x80 that is not part of valid UTF-8.
inline bool has_invalid_utf8(std::string_view s) {
  return has_non_ascii(s) && !is_valid_utf8(s);
}

// Appends `s` as a quoted JSON string. Invalid UTF-8 becomes U+FFFD, one per maximal invalid
// subpart, as nlohmann::json::dump with error_handler_t::replace writes it (alerts always have).
void append_json_string(std::string_view s, std::string& out);
std::string json_string(std::string_view s);

}  // namespace sw
