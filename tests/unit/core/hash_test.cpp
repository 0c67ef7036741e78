// FNV-1a 64: the published test vectors, so ids derived from it stay stable across releases.
#include "sessionwatch/hash.hpp"

#include <gtest/gtest.h>

namespace sw {
namespace {

TEST(Hash, Fnv1aMatchesPublishedVectors) {
  EXPECT_EQ(fnv1a(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a("foobar"), 0x85944171f73967e8ULL);
}

TEST(Hash, ChainedPartsEqualTheConcatenation) {
  EXPECT_EQ(fnv1a("bar", fnv1a("foo")), fnv1a("foobar"));
  EXPECT_NE(fnv1a("foo", 1), fnv1a("foo"));
}

TEST(Hash, HighBytesHashAsUnsigned) {
  // A byte >= 0x80 is xored as 0x80..0xFF, not sign-extended.
  const std::uint64_t expected = (kFnv1aOffset ^ 0xC4ULL) * kFnv1aPrime;
  EXPECT_EQ(fnv1a("\xC4"), expected);
}

static_assert(fnv1a("a") == 0xaf63dc4c8601ec8cULL);

}  // namespace
}  // namespace sw
