// The ASCII text helpers every module shares: case folding is ASCII only (bytes >= 0x80 are
// never folded, so UTF-8 text is compared byte for byte).
#include "sessionwatch/text.hpp"

#include <gtest/gtest.h>

namespace sw::text {
namespace {

TEST(Text, LowerFoldsOnlyAsciiCapitals) {
  EXPECT_EQ(lower('A'), 'a');
  EXPECT_EQ(lower('Z'), 'z');
  EXPECT_EQ(lower('@'), '@');
  EXPECT_EQ(lower('['), '[');
  EXPECT_EQ(lower('\xC4'), '\xC4');
  EXPECT_EQ(lowered("Microsoft-Windows-Security-Auditing"), "microsoft-windows-security-auditing");
  EXPECT_EQ(lowered("\xC3\x84Z"), "\xC3\x84z");
}

TEST(Text, IequalsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(iequals("Security", "SECURITY"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Security", "Securit"));
  EXPECT_FALSE(iequals("Security", "Securitx"));
  EXPECT_FALSE(iequals("\xC3\x84", "\xC3\xA4"));  // Ä vs ä: not ASCII, not folded
  EXPECT_FALSE(iequals("@", "`"));                // 0x40 vs 0x60: not letters
}

TEST(Text, IequalsLowerWantsTheSecondSideFolded) {
  EXPECT_TRUE(iequals_lower("CONSOLE", "console"));
  EXPECT_FALSE(iequals_lower("console", "CONSOLE"));
}

TEST(Text, PrefixSuffixAndContainsIgnoreCase) {
  EXPECT_TRUE(istarts_with("NT AUTHORITY\\SYSTEM", "nt authority\\"));
  EXPECT_FALSE(istarts_with("NT", "nt authority"));
  EXPECT_TRUE(iends_with("ERROR_CTX_NO_FORCE_LOGOFF", "_logoff"));
  EXPECT_FALSE(iends_with("LOGOFF", "x_logoff"));
  EXPECT_TRUE(icontains_lower("Win32Status", "status"));
  EXPECT_FALSE(icontains_lower("Win32Stat", "status"));
  EXPECT_TRUE(icontains_lower("anything", ""));
}

TEST(Text, TrimRemovesAsciiWhitespaceAtBothEnds) {
  EXPECT_EQ(trim(" \t\r\n 7063 \r\n"), "7063");
  EXPECT_EQ(trim("a b"), "a b");
  EXPECT_EQ(trim(" \n\t"), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim_right("  x \r\n"), "  x");
  EXPECT_EQ(trim("\xC2\xA0x"), "\xC2\xA0x");  // no-break space is not ASCII whitespace
}

static_assert(iequals("Console", "console"));
static_assert(trim("  x ") == "x");

}  // namespace
}  // namespace sw::text
