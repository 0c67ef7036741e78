// Names Winlogbeat prints for numeric System values, shared by the JSON reader and writer so that
// what one writes the other reads back to the same number.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "sessionwatch/text.hpp"

namespace sw::jsonl {

// log.level: Windows levels 1-5 (winmeta.xml). 0 (LogAlways) has no name and is not written.
inline constexpr std::array<std::string_view, 6> kLevelNames = {
    "", "critical", "error", "warning", "information", "verbose"};

// Standard keyword bits (winmeta.xml) as Windows renders them.
struct KeywordName {
  std::uint64_t bit;
  std::string_view name;
};
inline constexpr std::array<KeywordName, 8> kKeywordNames = {{
    {0x0001000000000000ull, "Response Time"},
    {0x0002000000000000ull, "WDI Context"},
    {0x0004000000000000ull, "WDI Diag"},
    {0x0008000000000000ull, "SQM"},
    {0x0010000000000000ull, "Audit Failure"},
    {0x0020000000000000ull, "Audit Success"},
    {0x0040000000000000ull, "Correlation Hint"},
    {0x0080000000000000ull, "Classic"},
}};

// "information" -> 4 (also "info", "informational"); 0 when unknown.
// Every line names one: the spelling written here is compared first, byte for byte (Winlogbeat
// writes it so). Folding the case of each letter for every line was 2% of `scan --rules`.
inline std::uint8_t level_from_name(std::string_view name) {
  for (std::size_t i = 1; i < kLevelNames.size(); ++i)
    if (name == kLevelNames[i]) return static_cast<std::uint8_t>(i);
  for (std::size_t i = 1; i < kLevelNames.size(); ++i)
    if (text::iequals(name, kLevelNames[i])) return static_cast<std::uint8_t>(i);
  if (text::iequals(name, "info") || text::iequals(name, "informational")) return 4;
  if (text::iequals(name, "warn")) return 3;
  return 0;
}

inline std::uint64_t keyword_from_name(std::string_view name) {
  for (const auto& k : kKeywordNames)
    if (name == k.name) return k.bit;  // as Windows renders it, as for the level
  for (const auto& k : kKeywordNames)
    if (text::iequals(name, k.name)) return k.bit;
  return 0;
}

}  // namespace sw::jsonl
