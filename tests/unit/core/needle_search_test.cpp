#include "sessionwatch/needle_search.hpp"

#include <gtest/gtest.h>

#include "sessionwatch/text.hpp"

namespace sw {
namespace {

using Needle = NeedleSearch::Needle;
using Method = NeedleSearch::Method;

// Each method this CPU has is held to the same answers (one it lacks answers by another).
constexpr Method kMethods[] = {Method::kBytewise, Method::kSsse3, Method::kAvx2};

bool found_naively(const std::vector<Needle>& needles, std::string_view text) {
  for (const Needle& n : needles) {
    for (std::size_t at = 0; at + n.text.size() <= text.size(); ++at) {
      const std::string_view there = text.substr(at, n.text.size());
      if (n.any_case ? text::iequals(there, n.text) : there == n.text) return true;
    }
  }
  return false;
}

// Texts built from the needles' own letters in both cases (so near misses, overlaps and
// partial needles abound), short and long, with a needle planted now and then at any place: the
// searches sixteen and thirty-two places at a time, the byte-at-a-time one and a search per
// needle agree.
TEST(NeedleSearch, AgreesWithASearchPerNeedle) {
  const std::vector<std::vector<Needle>> sets = {
      {{"lready", false}, {"ermission", false}, {"urrently", false}, {"dministrator", false}},
      {{"7063", false}, {"1b97", true}, {"2147017833", false}, {"error_ctx_no_force_logoff", true}},
      {{"abc", false}},
      {{"aab", true}, {"ab", false}, {"abba", false}},
      {{"x", true}, {"yx", false}},
      {{"ready", false}, {"lready", false}, {"READY", true}},
      // more windows than buckets: buckets are shared
      {{"abxq", false},
       {"bcxqz", false},
       {"cdxq", false},
       {"dexq", false},
       {"eaxq", false},
       {"acxq", true},
       {"bdxq", false},
       {"cexq", false},
       {"daxq", true},
       {"ebxq", false},
       {"zq", false}},
      {{std::string("a\0b", 3), false}, {std::string("b\0\0", 3), false}}};
  std::uint32_t seed = 12345;
  auto next = [&seed] { return (seed = seed * 1103515245u + 12345u) >> 8; };
  for (const auto& needles : sets) {
    const NeedleSearch search(needles);
    std::string letters;
    for (const Needle& n : needles) letters += n.text + text::lowered(n.text);
    letters += "ABX .";
    for (int round = 0; round < 6000; ++round) {
      std::string text(next() % (round % 2 ? 40 : 150), ' ');
      for (char& c : text) c = letters[next() % letters.size()];
      if (round % 3 == 0)
        text.insert(next() % (text.size() + 1), needles[next() % needles.size()].text);
      SCOPED_TRACE(text);
      const bool expected = found_naively(needles, text);
      for (const Method method : kMethods) EXPECT_EQ(search.found_in(text, method), expected);
    }
  }
}

// Each needle at every place of texts of every length around the sixteen- and thirty-two-byte
// steps, known by a window at its start or inside it: the last places are read from a padded copy
// and must neither miss a needle nor read past the text.
TEST(NeedleSearch, FindsANeedleAtEveryPlaceOfEveryLength) {
  const std::vector<Needle> needles = {
      {"1b97", true}, {"ermission", false}, {"ERROR_CTX_NO_FORCE_LOGOFF", true}, {"7z", false}};
  const NeedleSearch search(needles);
  for (const Needle& needle : needles) {
    const std::size_t size = needle.text.size();
    for (std::size_t length = size; length < 80; ++length) {
      for (std::size_t at = 0; at + size <= length; ++at) {
        std::string text(length, '.');
        text.replace(at, size, text::lowered(needle.text));
        const std::string_view cut = std::string_view(text).substr(0, at + size - 1);
        std::string broken = text;
        broken[at + size - 1] = '.';
        for (const Method method : kMethods) {
          EXPECT_TRUE(search.found_in(text, method)) << text;
          EXPECT_FALSE(search.found_in(broken, method)) << broken;
          EXPECT_FALSE(search.found_in(cut, method)) << cut;
        }
      }
    }
  }
}

TEST(NeedleSearch, NoNeedlesFindNothingAndAnEmptyOneFindsEverything) {
  EXPECT_FALSE(NeedleSearch().found_in("anything at all"));
  EXPECT_FALSE(NeedleSearch(std::vector<Needle>{}).found_in("anything at all"));
  EXPECT_TRUE(NeedleSearch({{"", false}}).found_in(""));
  EXPECT_TRUE(NeedleSearch({{"", false}, {"zzz", false}}).found_in("abc", Method::kBytewise));
  EXPECT_FALSE(NeedleSearch({{"lready", false}}).found_in("lread"));
  EXPECT_TRUE(NeedleSearch({{"y", false}}).found_in("lready"));
  EXPECT_FALSE(NeedleSearch({{"y", false}, {"zz", true}}).found_in("lread z"));
  EXPECT_FALSE(NeedleSearch({{"lready", false}}).found_in("LREADY"));
  EXPECT_TRUE(NeedleSearch({{"lready", true}}).found_in("ALREADY"));
}

// A needle holding another is found only where the other is, so only the other is searched;
// one in any case does not stand for one as written, nor the reverse.
TEST(NeedleSearch, LeavesOutNeedlesThatHoldAnother) {
  EXPECT_EQ(NeedleSearch({{"1b97", true}, {"80071b97", true}, {"0xC0071B97", false}}).size(), 1u);
  EXPECT_EQ(NeedleSearch({{"7063", false}, {"7063", false}}).size(), 1u);
  EXPECT_EQ(NeedleSearch({{"abc", false}, {"xABCx", true}}).size(), 2u);
  EXPECT_EQ(NeedleSearch({{"abc", true}, {"abc", false}}).size(), 1u);
}

}  // namespace
}  // namespace sw
