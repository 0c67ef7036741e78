#include "rules/pattern.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace sw::rules {
namespace {

bool match(std::string_view pattern, std::string_view text, bool cased = false) {
  return StringPattern(parse_wildcards(pattern), cased).matches(text);
}

TEST(Pattern, CaseInsensitiveByDefault) {
  EXPECT_TRUE(match("C:\\Windows\\System32\\CMD.exe", "c:\\windows\\system32\\cmd.EXE"));
  EXPECT_FALSE(match("cmd.exe", "cmd.exe2"));
  EXPECT_FALSE(match("Cmd.exe", "cmd.exe", true));
  EXPECT_TRUE(match("cmd.exe", "cmd.exe", true));
}

TEST(Pattern, WildcardsAndShapes) {
  EXPECT_TRUE(match("*\\cmd.exe", "C:\\Windows\\cmd.exe"));
  EXPECT_FALSE(match("*\\cmd.exe", "C:\\Windows\\xcmd.exe"));
  EXPECT_FALSE(match("C:\\Users\\*", "c:\\users\\bob"));  // \* is an escaped star
  EXPECT_TRUE(match("C:\\Users\\\\*", "c:\\users\\bob"));
  EXPECT_TRUE(match("*mimikatz*", "run MimiKatz now"));
  EXPECT_TRUE(match("prog?.exe", "progA.exe"));
  EXPECT_FALSE(match("prog?.exe", "prog.exe"));
  EXPECT_TRUE(match("a*b*c", "aXXbYYc"));
  EXPECT_TRUE(match("a*b*c", "abbbc"));
  EXPECT_FALSE(match("a*b*c", "abbbcd"));
  EXPECT_TRUE(match("*", ""));
  EXPECT_TRUE(match("", ""));
  EXPECT_FALSE(match("", "x"));
  EXPECT_TRUE(match("?", "\xc3\xa9"));  // one code point, two bytes
}

TEST(Pattern, BackslashEscapes) {
  EXPECT_TRUE(match("a\\*b", "a*b"));
  EXPECT_FALSE(match("a\\*b", "axb"));
  EXPECT_TRUE(match("a\\?b", "a?b"));
  EXPECT_TRUE(match("C:\\\\*", "C:\\anything"));     // escaped backslash, then a wildcard
  EXPECT_TRUE(match("C:\\Windows", "C:\\Windows"));  // plain backslash stays
  EXPECT_TRUE(match("a\\\\\\*", "a\\*"));            // \\\* -> backslash + star
  EXPECT_TRUE(match("\\\\\\\\server", "\\\\server"));
}

TEST(Pattern, Windash) {
  Atoms a = parse_wildcards("* -enc *");
  apply_windash(a);
  StringPattern p(a, false);
  EXPECT_TRUE(p.matches("powershell -enc AAA"));
  EXPECT_TRUE(p.matches("powershell /enc AAA"));
  EXPECT_TRUE(
      p.matches("powershell \xe2\x80\x93"
                "enc AAA"));  // en dash
  EXPECT_TRUE(
      p.matches("powershell \xe2\x80\x95"
                "enc AAA"));  // horizontal bar
  EXPECT_FALSE(p.matches("powershell +enc AAA"));
  Atoms b = parse_wildcards("a-b");  // a dash between word characters is not a flag
  apply_windash(b);
  EXPECT_FALSE(StringPattern(b, false).matches("a/b"));
}

TEST(Encoding, Base64AndOffsets) {
  EXPECT_EQ(base64_encode("cmd"), "Y21k");
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(base64_encode("a"), "YQ==");
  // Every offset variant is found in the encoding of the value at that shift.
  const std::string value = "http://";
  auto variants = base64_offsets(value);
  ASSERT_EQ(variants.size(), 3u);
  for (int shift = 0; shift < 3; ++shift) {
    const std::string whole = base64_encode(std::string("xyz").substr(0, shift) + value + "tail");
    EXPECT_NE(whole.find(variants[shift]), std::string::npos) << shift << " " << whole;
  }
  EXPECT_EQ(variants[0], "aHR0cDovL");
}

TEST(Encoding, Utf16) {
  std::string out;
  ASSERT_TRUE(utf16_encode("cmd", false, false, out));
  EXPECT_EQ(out, std::string("c\0m\0d\0", 6));
  out.clear();
  ASSERT_TRUE(utf16_encode("cmd", true, false, out));
  EXPECT_EQ(out, std::string("\0c\0m\0d", 6));
  out.clear();
  ASSERT_TRUE(utf16_encode("A", false, true, out));
  EXPECT_EQ(out, std::string("\xff\xfe"
                             "A\0",
                             4));
  out.clear();
  EXPECT_FALSE(utf16_encode("\xff", false, false, out));
}

TEST(Ip, CidrV4AndV6) {
  auto net = parse_cidr("10.0.0.0/8");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->contains(*parse_ip("10.1.2.3")));
  EXPECT_FALSE(net->contains(*parse_ip("11.0.0.1")));
  EXPECT_TRUE(net->contains(*parse_ip("::ffff:10.9.9.9")));
  auto v6 = parse_cidr("fe80::/10");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*parse_ip("fe80::1%12")));
  EXPECT_FALSE(v6->contains(*parse_ip("2001:db8::1")));
  EXPECT_FALSE(v6->contains(*parse_ip("10.1.2.3")));
  auto host = parse_cidr("2001:db8:0:0:0:0:0:1/128");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->contains(*parse_ip("2001:db8::1")));
  EXPECT_FALSE(parse_ip("1.2.3"));
  EXPECT_FALSE(parse_ip("010.1.2.3"));  // octal to some parsers, decimal to others
  EXPECT_FALSE(parse_ip("1.2.3.256"));
  EXPECT_FALSE(parse_ip("1::2::3"));
  EXPECT_FALSE(parse_ip("-"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
}

}  // namespace
}  // namespace sw::rules

namespace sw::rules {
namespace {

// Case-insensitive contains against the obvious definition (fold both, then find), over every
// needle of a small alphabet where case, repeats and partial matches collide.
TEST(Pattern, ContainsAgreesWithFoldThenFind) {
  const std::vector<std::string> hays = {
      "",           "a",      "Aa", "aAaB",   "xAAb-aB", "Access is DENIED",
      "0x8007042e", "aaaaab", "ba", "B-A-b-a"};
  const std::vector<std::string> needles = {"a",          "ab", "aab",    "b-a", "access is denied",
                                            "0x8007042e", "x",  "aaaaab", "bb",  "-"};
  for (const std::string& hay : hays) {
    for (const std::string& needle : needles) {
      const bool expected = text::lowered(hay).find(needle) != std::string::npos;
      EXPECT_EQ(contains(hay, needle, false), expected) << hay << " / " << needle;
      EXPECT_EQ(contains(hay, needle, true), hay.find(needle) != std::string::npos);
    }
  }
}

// One pass for several needles finds what searching for each in turn finds: random texts over an
// alphabet where cases, shared first bytes and partial matches collide, and short needles.
TEST(Pattern, AnySubstringAgreesWithContainsForEachNeedle) {
  const std::string alphabet = "aAbB-0x\xc3\xa9 ";
  std::mt19937 random(7063);
  auto text = [&](std::size_t most) {
    std::string s(random() % (most + 1), ' ');
    for (char& c : s) c = alphabet[random() % alphabet.size()];
    return s;
  };
  int found = 0;
  for (int round = 0; round < 2000; ++round) {
    const bool cased = round % 2 == 1;
    std::vector<std::string> needles(1 + random() % 4);
    for (std::string& n : needles) {
      do n = text(4);
      while (n.empty());
      if (!cased) n = text::lowered(n);
    }
    const std::vector<std::string_view> views(needles.begin(), needles.end());
    const AnySubstring search(views, cased);
    for (int k = 0; k < 10; ++k) {
      const std::string hay = text(12);
      bool expected = false;
      for (const std::string& n : needles) expected = expected || contains(hay, n, cased);
      found += expected;
      ASSERT_EQ(search.found_in(hay), expected)
          << "'" << hay << "' cased " << cased << " first needle '" << needles[0] << "'";
    }
  }
  EXPECT_GT(found, 2000);  // both outcomes are exercised
  EXPECT_LT(found, 18000);
  // Longer needles and texts, where the search skips ahead by up to a needle's length.
  found = 0;
  for (int round = 0; round < 2000; ++round) {
    const bool cased = round % 2 == 1;
    std::vector<std::string> needles(1 + random() % 4);
    for (std::string& n : needles) {
      do n = text(9);
      while (n.size() < 2);
      if (!cased) n = text::lowered(n);
    }
    const std::vector<std::string_view> views(needles.begin(), needles.end());
    const AnySubstring search(views, cased);
    for (int k = 0; k < 10; ++k) {
      // Half the texts carry a needle, in a random case when the search ignores case.
      std::string hay = text(60);
      if (k % 2 == 0) {
        std::string planted = needles[random() % needles.size()];
        if (!cased)
          for (char& c : planted)
            if (c >= 'a' && c <= 'z' && random() % 2) c = static_cast<char>(c - 32);
        hay.insert(random() % (hay.size() + 1), planted);
      }
      bool expected = false;
      for (const std::string& n : needles) expected = expected || contains(hay, n, cased);
      found += expected;
      ASSERT_EQ(search.found_in(hay), expected)
          << "'" << hay << "' cased " << cased << " first needle '" << needles[0] << "'";
    }
  }
  EXPECT_GT(found, 10000);
  EXPECT_LT(found, 19000);
}

}  // namespace
}  // namespace sw::rules
