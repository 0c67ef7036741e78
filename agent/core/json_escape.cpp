#include "sessionwatch/json_escape.hpp"

#include <nlohmann/json.hpp>

#include "sessionwatch/utf8.hpp"

namespace sw {
namespace {

bool has_non_ascii(std::string_view s) {
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

}  // namespace

bool has_invalid_utf8(std::string_view s) {
  return has_non_ascii(s) && !is_valid_utf8(s);
}

void append_json_string(std::string_view s, std::string& out) {
  if (has_invalid_utf8(s)) {
    // nlohmann's replacement rule (maximal subparts) is the one alerts were always written with.
    out += nlohmann::json(std::string(s))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out.push_back('"');
  append_json_escaped(s, out);
  out.push_back('"');
}

std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_string(s, out);
  return out;
}

}  // namespace sw
