// The JSON string escaper: the same bytes nlohmann writes (alerts are byte-identical through it).
#include "sessionwatch/json_escape.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sw {
namespace {

std::string nlohmann_dump(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string escaped(std::string_view s) {
  std::string out;
  append_json_escaped(s, out);
  return out;
}

TEST(JsonEscape, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(escaped("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(escaped("\b\f\n\r\t"), "\\b\\f\\n\\r\\t");
  EXPECT_EQ(escaped(std::string_view("\x00\x01\x1f", 3)), "\\u0000\\u0001\\u001f");
  EXPECT_EQ(escaped("plain / text \x7f"), "plain / text \x7f");
  EXPECT_EQ(escaped("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(JsonEscape, FindsEscapesInsideAndAfterSixteenByteBlocks) {
  // Escapes at every position of a 40-byte string cross the SSE2 block edges.
  for (std::size_t at = 0; at < 40; ++at) {
    std::string s(40, 'x');
    s[at] = '"';
    EXPECT_EQ(find_json_escape(s, 0), at);
    EXPECT_EQ(find_json_escape(s, at + 1), s.size());
    std::string with_high(40, '\xC3');
    with_high[at] = '\n';
    EXPECT_EQ(find_json_escape(with_high, 0), at) << "bytes >= 0x80 are not controls";
  }
}

TEST(JsonEscape, QuotedStringMatchesNlohmannForEveryByte) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // é € 😀
  EXPECT_EQ(json_string(all), nlohmann_dump(all));
}

TEST(JsonEscape, InvalidUtf8IsReplacedAsNlohmannDoes) {
  for (std::string_view bad : {std::string_view("a\xFF"
                                                "b"),
                               std::string_view("\xE2\x82"
                                                "A"),
                               std::string_view("\xC0\x80"), std::string_view("end\xF0\x9F")}) {
    EXPECT_TRUE(has_invalid_utf8(bad));
    EXPECT_EQ(json_string(bad), nlohmann_dump(bad));
  }
  EXPECT_FALSE(has_invalid_utf8("caf\xC3\xA9"));
}

TEST(JsonEscape, AppendKeepsWhatIsThere) {
  std::string out = "{\"k\":";
  append_json_string("v\n", out);
  EXPECT_EQ(out, "{\"k\":\"v\\n\"");
}

}  // namespace
}  // namespace sw
