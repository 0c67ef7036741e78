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

bool parse_utc_offset(std::string_view s, int& minutes) {
  if (s == "UTC" || s == "utc" || s == "Z" || s == "z") {
    minutes = 0;
    return true;
  }
  if (s.size() < 2 || (s[0] != '+' && s[0] != '-')) return false;
  const int sign = s[0] == '+' ? 1 : -1;
  s.remove_prefix(1);
  auto digits = [](std::string_view d, int& out) {
    if (d.empty() || d.size() > 2) return false;
    out = 0;
    for (char c : d) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    return true;
  };
  int hours = 0, mins = 0;
  const std::size_t colon = s.find(':');
  bool ok = false;
  if (colon != std::string_view::npos) {
    ok = digits(s.substr(0, colon), hours) && s.size() - colon - 1 == 2 &&
         digits(s.substr(colon + 1), mins);
  } else if (s.size() == 4) {
    ok = digits(s.substr(0, 2), hours) && digits(s.substr(2), mins);
  } else {
    ok = digits(s, hours);
  }
  // Real zones lie between -12:00 and +14:00.
  if (!ok || hours > 14 || mins > 59) return false;
  minutes = sign * (hours * 60 + mins);
  return true;
}

}  // namespace sw
