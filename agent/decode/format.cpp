#include <array>

#include "sessionwatch/decode.hpp"

namespace sw {

namespace {
constexpr std::array<std::string_view, 5> kFormatNames = {"auto", "evtx", "xml", "jsonl", "text"};
}

std::string_view to_string(InputFormat f) {
  return kFormatNames[static_cast<std::size_t>(f)];
}

bool parse_input_format(std::string_view s, InputFormat& out) {
  for (std::size_t i = 0; i < kFormatNames.size(); ++i) {
    if (kFormatNames[i] == s) {
      out = static_cast<InputFormat>(i);
      return true;
    }
  }
  return false;
}

InputFormat detect_format(std::string_view head) {
  if (head.substr(0, 8) == std::string_view("ElfFile\0", 8)) return InputFormat::kEvtx;
  if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  std::size_t i = 0;
  while (i < head.size() &&
         (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
    ++i;
  if (i == head.size()) return InputFormat::kText;
  if (head[i] == '<') return InputFormat::kXml;
  if (head[i] == '{') return InputFormat::kJsonl;
  return InputFormat::kText;
}

}  // namespace sw
