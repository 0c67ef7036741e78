// ASCII text helpers shared by every module. Windows names (channels, levels, accounts, error
// symbols) compare case-insensitively in ASCII only: no locale, no allocation. Inline because
// the rule matcher and the decoders call them per field.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sw::text {

// Eight bytes of `s` from `at` as one word, wherever they are aligned: the scans that test or
// compare eight bytes at a time read them so. Only which bytes match matters to them, so the
// machine's byte order does not.
inline std::uint64_t word_at(std::string_view s, std::size_t at) {
  std::uint64_t w;
  std::memcpy(&w, s.data() + at, sizeof w);
  return w;
}

// a == b without a call to memcmp, which costs as much as the rest of a lookup in the tables
// that compare short names per event: eight bytes at a time, the last eight overlapping.
inline bool same_text(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n < sizeof(std::uint64_t)) return a == b;
  for (std::size_t i = 0; i + sizeof(std::uint64_t) < n; i += sizeof(std::uint64_t))
    if (word_at(a, i) != word_at(b, i)) return false;
  return word_at(a, n - sizeof(std::uint64_t)) == word_at(b, n - sizeof(std::uint64_t));
}

constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// `s` with ASCII capitals lowered.
inline std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// iequals where `lower_b` is already lower case (folded once, compared often).
constexpr bool iequals_lower(std::string_view a, std::string_view lower_b) {
  if (a.size() != lower_b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower_b[i]) return false;
  }
  return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

constexpr bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

// Whether `hay` contains `lower_needle` (already lower case), ignoring ASCII case.
constexpr bool icontains_lower(std::string_view hay, std::string_view lower_needle) {
  if (lower_needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + lower_needle.size() <= hay.size(); ++i) {
    if (iequals_lower(hay.substr(i, lower_needle.size()), lower_needle)) return true;
  }
  return false;
}

// Without trailing spaces, tabs, CR and LF.
constexpr std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Without leading and trailing spaces, tabs, CR and LF.
constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return trim_right(s);
}

}  // namespace sw::text
