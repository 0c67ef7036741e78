#include "sessionwatch/utf8.hpp"

#include <gtest/gtest.h>

namespace sw {
namespace {

TEST(Utf8, ValidTextPassesUnchanged) {
  const std::string text = "Benutzer M\xC3\xBCller \xE2\x82\xAC \xF0\x9F\x98\x80";
  EXPECT_TRUE(is_valid_utf8(text));
  std::string out;
  append_sanitized_utf8(text, out);
  EXPECT_EQ(out, text);
}

TEST(Utf8, InvalidBytesBecomeReplacementCharacters) {
  std::string out;
  append_sanitized_utf8(
      "a\xFF"
      "b\xC0\xAF"
      "c\xED\xA0\x80"
      "d\xE2\x82",
      out);
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_EQ(out.substr(0, 4), "a\xEF\xBF\xBD");
  EXPECT_NE(out.find('d'), std::string::npos);
}

}  // namespace
}  // namespace sw
