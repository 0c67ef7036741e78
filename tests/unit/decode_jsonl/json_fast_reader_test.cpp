// The JSON-lines decoder reads a line with simdjson's DOM (fast) and falls back to On-Demand
// (exact) for what the DOM cannot render as written. These tests hold the two readers to the same
// events and the same errors, on the fixtures, on crafted lines that take each fallback, and on
// damaged copies of the fixtures.
#include <gtest/gtest.h>

#include <random>

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

}  // namespace
}  // namespace sw
