#include "sessionwatch/json_escape.hpp"

#include <nlohmann/json.hpp>

namespace sw {
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
