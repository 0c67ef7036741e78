// Wildcard matching for names: file-name globs of the daemon's inputs and search-identifier
// patterns of Sigma conditions ("1 of selection_*"). Linear in practice (greedy with one
// backtrack point), no allocation; case-sensitive.
#pragma once

#include <string_view>

namespace sw {

enum class Wildcards { kStarOnly, kStarAndQuestionMark };

// '*' matches any run of characters (also none); with kStarAndQuestionMark '?' matches any one
// character, otherwise it is literal.
bool wildcard_match(std::string_view pattern, std::string_view name,
                    Wildcards wildcards = Wildcards::kStarAndQuestionMark);

}  // namespace sw
