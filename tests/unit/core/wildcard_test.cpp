// wildcard_match, as both callers use it: input globs ('*' and '?') and Sigma search
// identifiers ('*' only; '?' is a literal there).
#include "sessionwatch/wildcard.hpp"

#include <gtest/gtest.h>

namespace sw {
namespace {

TEST(Wildcard, QuestionMarkIsOneCharacterInGlobs) {
  EXPECT_TRUE(wildcard_match("a?c", "abc"));
  EXPECT_FALSE(wildcard_match("a?c", "ac"));
  EXPECT_TRUE(wildcard_match("*.evtx", "Security.evtx"));
  EXPECT_FALSE(wildcard_match("*.evtx", "Security.evtx.tmp"));
}

TEST(Wildcard, QuestionMarkIsLiteralInSearchIdentifiers) {
  EXPECT_FALSE(wildcard_match("sel?", "sel1", Wildcards::kStarOnly));
  EXPECT_TRUE(wildcard_match("sel?", "sel?", Wildcards::kStarOnly));
  EXPECT_TRUE(wildcard_match("selection_*", "selection_img", Wildcards::kStarOnly));
  EXPECT_TRUE(wildcard_match("*", "", Wildcards::kStarOnly));
  EXPECT_FALSE(wildcard_match("selection_*", "filter_img", Wildcards::kStarOnly));
}

TEST(Wildcard, BacktracksToTheLastStar) {
  EXPECT_TRUE(wildcard_match("*ab*ab", "xabyabab"));
  EXPECT_FALSE(wildcard_match("*ab*ab", "xabyaba"));
  EXPECT_TRUE(wildcard_match("a**b", "ab"));
}

}  // namespace
}  // namespace sw
