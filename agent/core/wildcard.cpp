#include "sessionwatch/wildcard.hpp"

namespace sw {

bool wildcard_match(std::string_view pattern, std::string_view name, Wildcards wildcards) {
  const bool question = wildcards == Wildcards::kStarAndQuestionMark;
  // Greedy with one backtrack point: the last '*' seen absorbs one more character on mismatch.
  std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && ((question && pattern[p] == '?') || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace sw
