// The JSON-lines decoder reads a line with a cursor over it (fast, json_cursor.hpp) and falls
// back to simdjson's On-Demand (exact) for whatever the cursor leaves. These tests hold the two
// readers to the same events and the same errors: on the fixtures, on crafted lines that take each
// fallback, on damaged copies of the fixtures and on generated lines; and they check that the fast
// reader reads the usual lines itself, so that agreement is not the exact reader agreeing with
// itself.
#include <gtest/gtest.h>

#include <random>
#include <string_view>

#include "sessionwatch/decode.hpp"
#include "unit/decode_jsonl/event_testing.hpp"

namespace sw {
namespace {

using testing::expect_same_event;
using testing::field_or;
using testing::payload;
using testing::read_lines;

const std::string kData = SW_TEST_DATA_DIR "/jsonl/";

struct Outcome {
  bool ok = false;
  std::string error;
  Event event;
};

Outcome decode_with(bool fast, const std::string& line) {
  JsonLineDecoder d;
  d.use_fast_reader(fast);
  Outcome o;
  o.ok = d.decode(line, o.event, o.error);
  return o;
}

// Both readers: the same success, error text, event and fields in the same order.
void expect_readers_agree(const std::string& line) {
  SCOPED_TRACE(line.substr(0, 160));
  const Outcome fast = decode_with(true, line);
  const Outcome exact = decode_with(false, line);
  ASSERT_EQ(fast.ok, exact.ok) << fast.error << " | " << exact.error;
  EXPECT_EQ(fast.error, exact.error);
  if (!fast.ok) return;
  expect_same_event(fast.event, exact.event);
  EXPECT_EQ(payload(fast.event), payload(exact.event));
}

std::vector<std::string> fixture_lines() {
  std::vector<std::string> lines;
  for (const char* f :
       {"winlogbeat.jsonl", "nxlog.jsonl", "malformed.jsonl", "bom_crlf_no_final_newline.jsonl"}) {
    for (auto& l : read_lines(kData + f)) lines.push_back(std::move(l));
  }
  return lines;
}

TEST(JsonFastReader, AgreesWithTheExactReaderOnEveryFixtureLine) {
  const auto lines = fixture_lines();
  ASSERT_GT(lines.size(), 20u);
  for (const auto& line : lines) expect_readers_agree(line);
}

// Each of these takes one of the fast reader's ways back to the exact one, or nearly does.
TEST(JsonFastReader, AgreesWhereItHandsTheLineToTheExactReader) {
  const std::vector<std::string> lines = {
      R"({"winlog":{"event_id":1,"event_data":{"A":1.50,"B":1e3,"C":-2.5E-3}}})",
      R"({"winlog":{"event_id":1,"event_data":{"Z":-0,"N":0}}})",
      R"({"winlog":{"event_id":1,"event_data":{"Z": -0 ,"D":"2026-11-02"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"N":0,"D":"a: -0 in text"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"Big":123456789012345678901234567890}}})",
      R"({"winlog":{"event_id":1,"event_data":{"L":[1, "two", {"t":3}],"E":[]}}})",
      R"({"winlog":{"event_id":1,"event_data":{"U":18446744073709551615,"I":-9223372036854775808}}})",
      R"({"winlog":{"event_id":1,"event_data":{"T":true,"F":false,"N":null}}})",
      R"({"winlog":{"event_id":1},"message":{"text":"an object where text is wanted"}})",
      R"({"winlog":{"event_id":1,"keywords":["Audit Success","0x10"]}})",
      R"({"winlog":{"event_id":1,"keywords":[1.5]}})",
      R"({"winlog":{"event_id":4624.0}})",
      R"({"winlog":{"event_id":99999999999}})",
      R"({"winlog":{"event_id":"7063","record_id":-1}})",
      R"({"EventID":4624,"Keywords":-9214364837600034816,"Version":0,"Task":12544,"A":0.0})",
      R"({"EventID":4624,"RecordNumber":5,"Nested":{"x":{"y":1}},"Arr":[1,2]})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"1","A":"2"}}})",
      R"({"winlog":{"event_id":1}} trailing)",
      R"({"winlog":{"event_id":1},})",
      R"([{"winlog":{"event_id":1}}])",
      "{\"winlog\":{\"event_id\":1,\"event_data\":{\"Bad\":\"\xff\xfe\"}}}",
      "{\"winlog\":{\"event_id\":1,\"event_data\":{\"Ctl\":\"a\\u0000b\\ud83d\\ude00\"}}}",
      R"({"winlog":{"event_id":1,"user_data":{"xml_name":"EventXML","Param1":2}}})",
      R"({"sessionwatch":{"error_code":7063,"extra":{"K":1.25}},"winlog":{"event_id":1}})",
  };
  for (const auto& line : lines) expect_readers_agree(line);
}

TEST(JsonFastReader, NumbersKeepTheirTextAsWritten) {
  JsonLineDecoder d;
  Event e;
  std::string error;
  ASSERT_TRUE(d.decode(
      R"({"winlog":{"event_id":7,"event_data":{"A":1.50,"B":-0,"C":1e3,"D":123456789012345678901234567890,"E":[1, 2],"F":18446744073709551615,"G":-5,"H":true,"I":null}}})",
      e, error))
      << error;
  EXPECT_EQ(field_or(e, "A"), "1.50");
  EXPECT_EQ(field_or(e, "B"), "-0");
  EXPECT_EQ(field_or(e, "C"), "1e3");
  EXPECT_EQ(field_or(e, "D"), "123456789012345678901234567890");
  EXPECT_EQ(field_or(e, "E"), "[1, 2]");
  EXPECT_EQ(field_or(e, "F"), "18446744073709551615");
  EXPECT_EQ(field_or(e, "G"), "-5");
  EXPECT_EQ(field_or(e, "H"), "true");
  EXPECT_EQ(field_or(e, "I"), "");
  // The next line, all integers, is read by the fast reader: nothing is left over.
  ASSERT_TRUE(d.decode(R"({"winlog":{"event_id":8,"event_data":{"A":0,"B":42}}})", e, error));
  EXPECT_EQ(payload(e).size(), 2u);
  EXPECT_EQ(field_or(e, "A"), "0");
  EXPECT_EQ(field_or(e, "B"), "42");
}

// Damaged copies of the fixtures (a byte changed, removed or doubled) fail or decode alike.
TEST(JsonFastReader, AgreesOnDamagedLines) {
  const auto lines = fixture_lines();
  std::mt19937 rng(7063);
  const std::string kBytes = "{}[]\",:0-9.eE \\x\xff";
  int tried = 0;
  for (int round = 0; round < 1500; ++round) {
    std::string line = lines[rng() % lines.size()];
    if (line.empty()) continue;
    const std::size_t at = rng() % line.size();
    switch (rng() % 3) {
      case 0:
        line[at] = kBytes[rng() % kBytes.size()];
        break;
      case 1:
        line.erase(at, 1);
        break;
      default:
        line.insert(at, 1, line[at]);
        break;
    }
    expect_readers_agree(line);
    ++tried;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(tried, 1000);
}

// Lines the fast reader reads itself: every fixture line in the two shapes, escapes of every
// kind, letters beyond ASCII, blanks between tokens, numbers as written, arrays where text is
// wanted, values not read.
TEST(JsonFastReader, ReadsTheUsualLinesItself) {
  JsonLineDecoder d;
  Event e;
  std::string error;
  int read = 0;
  for (const char* f : {"winlogbeat.jsonl", "nxlog.jsonl"}) {
    for (const auto& line : read_lines(kData + f)) {
      if (line.empty()) continue;
      ASSERT_TRUE(d.decode(line, e, error)) << error;
      ++read;
    }
  }
  EXPECT_GT(read, 5);
  const std::vector<std::string> lines = {
      R"({"winlog":{"event_id":1,"event_data":{"A":"q\"b\\s\/\b\f\n\r\t"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\u00e9\u20AC\ud83d\ude00\u0041"}}})",
      " {\t\"winlog\" :\r\n{ \"event_id\" : 1 , \"event_data\" : { \"A\" : \"1 2\" } } } ",
      R"({"winlog":{"event_id":2},"agent":{"a":[{"b":"\u0000\n"},-1.5e+3,true,null,[]],"c":{}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":-1,"B":150,"C":0,"D":true}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":-0,"B":1.50,"C":2E-7,"D":0.0}}})",
      "{\"winlog\":{\"event_id\":1,\"event_data\":{\"A\":\"J\xc3\xbcrgen \xe2\x82\xac "
      "\xf0\x9f\x98\x80\\n\"}}}",
      R"({"EventID":4624,"Hostname":"h","Nested":{"x":{"y":"z"}},"Arr":[1, "two"]})",
  };
  for (const auto& line : lines) {
    SCOPED_TRACE(line);
    ASSERT_TRUE(d.decode(line, e, error)) << error;
    EXPECT_EQ(d.lines_read_again(), 0u);
  }
  EXPECT_EQ(field_or(e, "Nested.x.y"), "z");
  EXPECT_EQ(field_or(e, "Arr"), R"([1, "two"])");
}

TEST(JsonFastReader, UnescapesAsJsonSays) {
  JsonLineDecoder d;
  Event e;
  std::string error;
  // Escapes at every offset of a 16-byte step, and after a long run without one.
  const std::string long_run(40, 'x');
  const std::string line = R"({"winlog":{"event_id":1,"event_data":{"A":"q\"b\\s\/\b\f\n\r\t",)"
                           R"("B":"\u00e9\u20AC\ud83d\ude00\u0041\u0000!",)"
                           R"("C":")" +
                           long_run + R"(\n)" + long_run + R"(\t"}}})";
  ASSERT_TRUE(d.decode(line, e, error)) << error;
  EXPECT_EQ(d.lines_read_again(), 0u);
  EXPECT_EQ(field_or(e, "A"), "q\"b\\s/\b\f\n\r\t");
  EXPECT_EQ(field_or(e, "B"), std::string("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
                                          "A") +
                                  std::string(1, '\0') + "!");
  EXPECT_EQ(field_or(e, "C"), long_run + "\n" + long_run + "\t");
  // Runs of escapes, as in an event's message, and one just before the closing quote.
  ASSERT_TRUE(d.decode(
      R"({"winlog":{"event_id":1},"message":"Logon:\n\n\tName:\t\tx\u00e9\n\t\"y\"\n"})", e, error))
      << error;
  EXPECT_EQ(e.message(), "Logon:\n\n\tName:\t\tx\xc3\xa9\n\t\"y\"\n");
  // An escape and a letter beyond ASCII at each offset of two 16-byte steps.
  for (std::size_t at = 0; at < 32; ++at) {
    const std::string before(at, 'x');
    ASSERT_TRUE(d.decode(R"({"winlog":{"event_id":1,"event_data":{"A":")" + before +
                             R"(\t\u00e9y","B":")" + before + "\xc3\xa9" + R"(\"z"}}})",
                         e, error))
        << error;
    EXPECT_EQ(field_or(e, "A"), before + "\t\xc3\xa9y");
    EXPECT_EQ(field_or(e, "B"), before + "\xc3\xa9\"z");
  }
  EXPECT_EQ(d.lines_read_again(), 0u);
}

// Broken grammar, escapes JSON does not have, control bytes, half surrogate pairs, keys with
// escapes, deep nesting in members nobody reads: the same event or the same error.
TEST(JsonFastReader, AgreesOnBrokenGrammarAndOddEscapes) {
  const std::vector<std::string> lines = {
      R"({"winlog":{"event_id":1,"event_data":{"A\u0042":"key with an escape"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\ud83d alone"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\ude00 alone"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\ud83d\u0041"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\u12G4"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\x41"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\n\n\x41"}}})",  // in a run of escapes
      R"({"winlog":{"event_id":1,"event_data":{"A":"\t\"\\\/\u00e9\n"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\n\n\q"}}})",
      "{\"winlog\":{\"event_id\":1,\"event_data\":{\"A\":\"raw\ttab\"}}}",
      std::string(R"({"winlog":{"event_id":1,"event_data":{"A":"nul)") + '\0' + R"("}}})",
      std::string(R"({"winlog":{"event_id":1}})") + '\0',
      R"({"winlog":{"event_id":1,"event_data":{"A":01}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":1.}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":.5}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":+1}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":1e}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":-}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":tru}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":truex}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":nul}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"unterminated}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"x" "B":"y"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"x",}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":[1,]}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":[1 2]}}})",
      R"({"winlog":{"event_id":1}}})",
      R"({"winlog":{"event_id":1}} {})",
      R"({"winlog":{"event_id":1},"agent":{"a":[1,{"b":[2,)" + std::string(70, '[') +
          std::string(70, ']') + R"(]}]}})",
      R"({"winlog":{"event_id":"x"}})",
      R"({"winlog":"not an object"})",
      R"("just a string")",
      "{\"winlog\":{\"event_id\":1,\"event_data\":{\"Bad\":\"\xc3\x28\"}}}",
      "{\"agent\":{\"n\":\"\xff\"},\"winlog\":{\"event_id\":1}}",
  };
  for (const auto& line : lines) expect_readers_agree(line);
}

// What the fast reader cannot read exactly as the exact reader would, it leaves to it, once.
TEST(JsonFastReader, LeavesToTheExactReaderWhatItCannotReadExactly) {
  const std::vector<std::string> lines = {
      R"({"winlog":{"event_id":1,"event_data":{"A\u0042":"a key with an escape"}}})",
      "{\"winlog\":{\"event_id\":1,\"event_data\":{\"K\xc3\xa9\":\"a key beyond ASCII\"}}}",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\ud83d alone"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\x41"}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":"\n\n\x41"}}})",  // in a run of escapes
      "{\"winlog\":{\"event_id\":1,\"event_data\":{\"A\":\"raw\ttab\"}}}",
      "{\"winlog\":{\"event_id\":1,\"event_data\":{\"Bad\":\"\xc3\x28\"}}}",
      "{\"winlog\":{\"event_id\":1,\"event_data\":{\"Cut\":\"\xe2\x82\"}}}",
      "{\"winlog\":{\"event_id\":1},\"agent\":{\"n\":\"\xff\"}}",
      R"({"winlog":{"event_id":1,"event_data":{"A":01}}})",
      R"({"winlog":{"event_id":1,"event_data":{"A":truex}}})",
      R"({"winlog":{"event_id":1}} {})",
      R"({"winlog":{"event_id":1},"agent":{"a":)" + std::string(70, '[') + std::string(70, ']') +
          "}}",
      R"({"winlog":{"event_id":"x"}})",
      R"("just a string")",
  };
  for (const auto& line : lines) {
    JsonLineDecoder d;
    Event e;
    std::string error;
    d.decode(line, e, error);
    EXPECT_EQ(d.lines_read_again(), 1u) << line;
    expect_readers_agree(line);
  }
}

// The exact reader's answer on a malformed line was once that line's and the padding's: what a
// longer line before left there changed the error (found by fuzzing the readers against each
// other). A line's result is its own, whatever came before.
TEST(JsonFastReader, ALinesResultDoesNotDependOnTheLineBefore) {
  // The fuzzer's two lines: the first, not UTF-8, is read again with its bytes replaced, which
  // leaves its tail where the second line's padding goes.
  const std::string before =
      "{\"@timestamp\":\"2026-11-02T08:00:03.000Z\",\"host\":{\"name\":\"rds-0010.contoso.local\"},"
      "\"log\":{\"level\":\"inform/ation\"},\"event\":{\"code\":\"{\"@timbstamp\":\"not a "
      "time\",\"winlog\":{\"ev\"wiLLLLLL;LLLLLLLLLLLLLLLLLLLLLLLLLLs-LocalSessionManager\",\"event_"
      "id\":\"21\",\"record_id\":\"53120\",\"computer_name{\"@timbstamp\":\"not a "
      "time\",\"winlog\":\"rds-0010~\xff\xff\xfe.contoso.local\",\"task\":\"\":{\"ev\"winlog\":{"
      "\"event_id\":\"1\"}}";
  const std::string broken =
      "{\"@timestam\",\"user_data\":{\"User\":\xd8"
      "CONTOSO\\\\mp\":ent_arco.rossi\",\"Seid010.contoso.local\"},\"log\":{\"level\":\"inform/"
      "ation\"},\"event\":{\"code\":\"{\"@timbstamp\":\"not a "
      "time\",\"winlog\":{\"ev\"wiLLLLLL;LLLLLLLLLLLLLLLLLLLLLLLLLLs-LocalSessionManager\",\"event_"
      "id\":\"21\",\"record_id\":\"53120\",\"computer_name{\"@timbstamp\":\"not a "
      "time\",\"winlog\":\"rds-0010.contoso.local\",\"task\":\"\":{\"ev\"winlog\":{\"event_id\":"
      "\"1\"}}";
  for (bool fast : {true, false}) {
    JsonLineDecoder alone;
    alone.use_fast_reader(fast);
    JsonLineDecoder after;
    after.use_fast_reader(fast);
    Event e;
    std::string alone_error, after_error;
    EXPECT_FALSE(alone.decode(broken, e, alone_error));
    EXPECT_FALSE(after.decode(before, e, after_error));
    EXPECT_FALSE(after.decode(broken, e, after_error));
    EXPECT_EQ(alone_error, after_error) << "fast reader " << fast;
  }
}

// A JSON text of random shape: nested values, every escape, non-ASCII text, random blanks.
class LineGenerator {
 public:
  explicit LineGenerator(std::uint32_t seed) : rng_(seed) {}

  std::string line() {
    std::string out = "{";
    blank(out);
    member(out, "winlog");
    out += "{";
    member(out, "event_id");
    out += pick({"4624", "\"4625\"", "7063", "1.0", "\"x\""});
    out += ",";
    member(out, "event_data");
    object(out, 2);
    out += "}";
    for (const char* top : {"agent", "message", "host"}) {
      if (rng_() % 2 == 0) continue;
      out += ",";
      member(out, top);
      value(out, 2);
    }
    blank(out);
    out += "}";
    return out;
  }

 private:
  std::string pick(std::initializer_list<const char*> choices) {
    return *(choices.begin() + rng_() % choices.size());
  }
  void blank(std::string& out) {
    static constexpr std::string_view kBlanks[] = {"", "", "", " ", "\t", "\r\n", "  "};
    out += kBlanks[rng_() % std::size(kBlanks)];
  }
  void member(std::string& out, std::string_view key) {
    blank(out);
    out += '"';
    out += key;
    out += '"';
    blank(out);
    out += ':';
    blank(out);
  }
  void string(std::string& out) {
    static constexpr std::string_view kPieces[] = {"a",
                                                   "Account Name:",
                                                   "\\n",
                                                   "\\t",
                                                   "\\\"",
                                                   "\\\\",
                                                   "\\/",
                                                   "\\u00e9",
                                                   "\\u20ac",
                                                   "\\ud83d\\ude00",
                                                   "\xc3\xa9",
                                                   "\xe2\x82\xac",
                                                   "0123456789abcdef",
                                                   "-0"};
    out += '"';
    const int n = static_cast<int>(rng_() % 12);
    for (int i = 0; i < n; ++i) out += kPieces[rng_() % std::size(kPieces)];
    out += '"';
  }
  void object(std::string& out, int depth) {
    out += '{';
    const int n = static_cast<int>(rng_() % 5);
    for (int i = 0; i < n; ++i) {
      if (i > 0) out += ',';
      member(out, pick({"A", "B", "TargetUserName", "Data", "xml_name", "B"}));
      value(out, depth - 1);
    }
    blank(out);
    out += '}';
  }
  void value(std::string& out, int depth) {
    switch (rng_() % (depth > 0 ? 8 : 6)) {
      case 0:
      case 1:
        return string(out);
      case 2:
        out += pick({"0", "-0", "42", "-7", "1.5", "2e10", "-1E-3", "18446744073709551616"});
        return;
      case 3:
        out += pick({"true", "false", "null"});
        return;
      case 4:
        out += "[]";
        return;
      case 5:
        return string(out);
      case 6:
        return object(out, depth);
      default:
        out += '[';
        value(out, depth - 1);
        out += ',';
        blank(out);
        value(out, depth - 1);
        out += ']';
        return;
    }
  }

  std::mt19937 rng_;
};

TEST(JsonFastReader, AgreesOnGeneratedLines) {
  LineGenerator generate(7063);
  JsonLineDecoder fast;
  Event e;
  std::string error;
  int decoded = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string line = generate.line();
    expect_readers_agree(line);
    if (::testing::Test::HasFailure()) break;
    decoded += fast.decode(line, e, error) ? 1 : 0;
  }
  // Most generated lines are events; the fast reader reads every one, and leaves to the exact
  // reader only the lines refused (an event id of 1.0 or "x"), for their error text.
  EXPECT_GT(decoded, 1500);
  EXPECT_EQ(fast.lines_read_again(), 3000u - static_cast<unsigned>(decoded));
}

}  // namespace
}  // namespace sw
