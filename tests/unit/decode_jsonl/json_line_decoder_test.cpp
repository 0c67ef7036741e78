#include <gtest/gtest.h>

#include <optional>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/utf8.hpp"
#include "unit/decode_jsonl/event_testing.hpp"

namespace sw {
namespace {

using testing::field_or;
using testing::payload;
using testing::read_lines;

const std::string kData = SW_TEST_DATA_DIR "/jsonl/";

Event decode_ok(JsonLineDecoder& d, const std::string& line) {
  Event e;
  std::string error;
  EXPECT_TRUE(d.decode(line, e, error)) << error << "\n" << line.substr(0, 200);
  return e;
}

Ticks at(const char* iso) {
  return *parse_time(iso);
}

TEST(JsonLineDecoder, WinlogbeatSecurityLogon) {
  const auto lines = read_lines(kData + "winlogbeat.jsonl");
  ASSERT_EQ(lines.size(), 4u);
  JsonLineDecoder d;
  const Event e = decode_ok(d, lines[0]);
  EXPECT_EQ(e.event_id, 4624u);
  EXPECT_EQ(e.channel(), "Security");
  EXPECT_EQ(e.provider_name(), "Microsoft-Windows-Security-Auditing");
  EXPECT_EQ(e.provider_guid(), "{54849625-5478-4994-a5ba-3e3b0328c30d}");
  EXPECT_EQ(e.record_id, 8812345u);
  EXPECT_EQ(e.computer(), "ws-0042.contoso.local");
  EXPECT_EQ(e.time_created, at("2026-11-02T08:00:01.123Z"));
  EXPECT_EQ(e.level, 4);
  EXPECT_EQ(e.version, 2);
  EXPECT_EQ(e.keywords, 0x0020000000000000ull);
  EXPECT_EQ(e.process_id, 788u);
  EXPECT_EQ(e.thread_id, 4412u);
  EXPECT_EQ(e.task, 0);  // "Logon" is a name; the number is not in Winlogbeat's output
  EXPECT_EQ(e.message().substr(0, 38), "An account was successfully logged on.");
  const auto p = payload(e);
  ASSERT_EQ(p.size(), 15u);
  EXPECT_EQ(p[0], std::make_tuple(std::string("SubjectUserSid"), std::string("S-1-5-18"),
                                  FieldOrigin::kEventData));
  EXPECT_EQ(field_or(e, "TargetUserName"), "anna.adams");
  EXPECT_EQ(field_or(e, "TargetLogonId"), "0x2a4b1c");  // canonical hex
  EXPECT_EQ(field_or(e, "LogonProcessName"), "User32 ");
  EXPECT_EQ(field_or(e, "ElevatedToken"), "%%1842");
  // winlog.logon is Winlogbeat's own enrichment, not event data.
  EXPECT_EQ(field_or(e, "id"), "<absent>");
}

TEST(JsonLineDecoder, NumbersWhereWinlogbeatPrintsStrings) {
  const auto lines = read_lines(kData + "winlogbeat.jsonl");
  JsonLineDecoder d;
  const Event e = decode_ok(d, lines[1]);
  EXPECT_EQ(e.event_id, 4625u);
  EXPECT_EQ(e.record_id, 8812346u);
  EXPECT_EQ(e.keywords, 0x0010000000000000ull);
  EXPECT_EQ(field_or(e, "Status"), "0xc000015b");
  EXPECT_EQ(field_or(e, "IpPort"), "7063");
}

// Plain digits take a shorter road than the other spellings of a number; every spelling reads
// the same whichever road it takes, and what is not a number is still refused.
TEST(JsonLineDecoder, RecordIdsInEverySpellingOfANumber) {
  const auto record_id = [](const std::string& value) -> std::optional<std::uint64_t> {
    JsonLineDecoder d;
    Event e;
    std::string error;
    const std::string line = R"({"@timestamp":"2026-11-02T08:00:01Z","winlog":{"event_id":"4624",)"
                             R"("channel":"Security","computer_name":"ws","record_id":)" +
                             value + "}}";
    if (!d.decode(line, e, error)) return std::nullopt;
    return e.record_id;
  };
  EXPECT_EQ(record_id(R"("42")"), 42u);
  EXPECT_EQ(record_id("42"), 42u);
  EXPECT_EQ(record_id(R"(" 42 ")"), 42u);
  EXPECT_EQ(record_id(R"("0x2A")"), 42u);
  EXPECT_EQ(record_id(R"("0")"), 0u);
  EXPECT_EQ(record_id(R"("9999999999999999999")"), 9999999999999999999u);    // 19 digits
  EXPECT_EQ(record_id(R"("18446744073709551615")"), 18446744073709551615u);  // 20: the largest
  EXPECT_EQ(record_id(R"("-1")"), 18446744073709551615u);  // signed, as NXLog prints keywords
  EXPECT_EQ(record_id(R"("18446744073709551616")"), std::nullopt);  // one more
  EXPECT_EQ(record_id(R"("42a")"), std::nullopt);
  EXPECT_EQ(record_id(R"("4 2")"), std::nullopt);
  EXPECT_EQ(record_id(R"("")"), std::nullopt);
}

// Levels and keywords by name: the spelling Windows renders matches first; any other case of the
// same name reads the same, and a name that is none of them reads as nothing.
TEST(JsonLineDecoder, LevelAndKeywordNamesReadInAnyCase) {
  JsonLineDecoder d;
  auto read = [&](std::string_view level, std::string_view keyword) {
    return decode_ok(d, R"({"winlog":{"event_id":1,"keywords":[")" + std::string(keyword) +
                            R"("]},"log":{"level":")" + std::string(level) + R"("}})");
  };
  for (const auto& [level, keyword] : {std::pair{"information", "Audit Success"},
                                       {"INFORMATION", "audit success"},
                                       {"Information", "AUDIT SUCCESS"},
                                       {"info", "aUDIT sUCCESS"}}) {
    SCOPED_TRACE(std::string(level) + " / " + keyword);
    const Event e = read(level, keyword);
    EXPECT_EQ(e.level, 4);
    EXPECT_EQ(e.keywords, 0x0020000000000000ull);
  }
  EXPECT_EQ(read("Warning", "Audit Failure").level, 3);
  EXPECT_EQ(read("Warning", "Audit Failure").keywords, 0x0010000000000000ull);
  EXPECT_EQ(read("critical", "Classic").level, 1);
  EXPECT_EQ(read("notalevel", "Audit Successes").level, 0);
  EXPECT_EQ(read("notalevel", "Audit Successes").keywords, 0u);
}

TEST(JsonLineDecoder, EscapedKeysAndValuesReadAsTheirPlainSpelling) {
  // Values and keys without an escape are read where they lie; these, spelled with escapes,
  // must decode to what the plain spelling gives.
  const std::string plain =
      R"({"@timestamp":"2026-11-02T08:00:01.123Z","winlog":{"channel":"Security","event_id":4624,)"
      R"("computer_name":"ws-1","event_data":{"TargetUserName":"anna","CommandLine":"C:\\x \"q\""}}})";
  const std::string escaped =
      R"({"@timestamp":"2026-11-02T08:00:01.123Z","winlog":{"chan\u006eel":"Secur\u0069ty",)"
      R"("event\u005fid":4624,"computer_name":"ws-1","event_data":{"Target\u0055serName":)"
      R"("\u0061nna","CommandLine":"C:\\x \"q\""}}})";
  JsonLineDecoder d;
  const Event a = decode_ok(d, plain);
  const Event b = decode_ok(d, escaped);
  EXPECT_EQ(a.channel(), "Security");
  EXPECT_EQ(b.channel(), "Security");
  EXPECT_EQ(b.event_id, 4624u);
  EXPECT_EQ(field_or(a, "TargetUserName"), "anna");
  EXPECT_EQ(field_or(b, "TargetUserName"), "anna");
  EXPECT_EQ(field_or(a, "CommandLine"), "C:\\x \"q\"");
  EXPECT_EQ(field_or(b, "CommandLine"), "C:\\x \"q\"");
  EXPECT_EQ(payload(a), payload(b));
}

TEST(JsonLineDecoder, UserDataAndItsElementName) {
  const auto lines = read_lines(kData + "winlogbeat.jsonl");
  JsonLineDecoder d;
  const Event e = decode_ok(d, lines[2]);
  EXPECT_EQ(e.event_id, 21u);
  EXPECT_EQ(e.user_data_name(), "EventXML");
  const auto p = payload(e);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], std::make_tuple(std::string("User"), std::string("CONTOSO\\marco.rossi"),
                                  FieldOrigin::kUserData));
  EXPECT_EQ(std::get<0>(p[2]), "Address");
}

TEST(JsonLineDecoder, NxlogFlatShape) {
  const auto lines = read_lines(kData + "nxlog.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  JsonLineDecoder d;
  Event e = decode_ok(d, lines[0]);
  EXPECT_EQ(e.event_id, 4624u);
  EXPECT_EQ(e.computer(), "dc.windomain.local");
  EXPECT_EQ(e.channel(), "Security");
  EXPECT_EQ(e.provider_name(), "Microsoft-Windows-Security-Auditing");
  EXPECT_EQ(e.provider_guid(), "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  EXPECT_EQ(e.time_created, at("2021-02-12T12:34:28Z"));  // no zone: taken as UTC
  EXPECT_EQ(e.keywords, 0x8020000000000000ull);           // signed decimal in NXLog
  EXPECT_EQ(e.record_id, 203040u);
  EXPECT_EQ(e.task, 12544);
  EXPECT_EQ(e.version, 2);
  EXPECT_EQ(e.process_id, 612u);
  EXPECT_EQ(e.thread_id, 3464u);
  EXPECT_EQ(e.level, 4);  // from NXLog's SeverityValue 2 (INFO)
  EXPECT_EQ(e.activity_id(), "{B9D7A5F8-0132-0000-4EA6-D7B93201D701}");
  EXPECT_EQ(e.message(), "An account was successfully logged on.");
  std::vector<std::string> names;
  for (const auto& f : payload(e)) {
    EXPECT_EQ(std::get<2>(f), FieldOrigin::kEventData);
    names.push_back(std::get<0>(f));
  }
  const std::vector<std::string> expected = {
      "SubjectUserSid", "SubjectUserName",  "SubjectDomainName", "SubjectLogonId", "TargetUserSid",
      "TargetUserName", "TargetDomainName", "TargetLogonId",     "LogonType",      "IpAddress",
      "IpPort"};
  EXPECT_EQ(names, expected);

  e = decode_ok(d, lines[1]);
  EXPECT_EQ(e.event_id, 4625u);
  EXPECT_EQ(e.time_created, at("2021-02-12T11:35:01.25Z"));
  EXPECT_EQ(e.keywords, 0x8010000000000000ull);
  EXPECT_EQ(e.record_id, 203041u);
  EXPECT_EQ(e.level, 2);
  EXPECT_EQ(field_or(e, "LogonType"), "3");
  EXPECT_EQ(field_or(e, "Extra.Nested"), "true");
  EXPECT_EQ(field_or(e, "SubStatus"), "0xc000006a");
}

TEST(JsonLineDecoder, NestedEventDataBecomesDottedNames) {
  JsonLineDecoder d;
  const Event e = decode_ok(
      d,
      R"({"winlog":{"event_id":1,"event_data":{"A":{"B":{"C":"deep"},"D":[1,"x"]},"N":null,"T":false,"F":-1.5e3}}})");
  EXPECT_EQ(field_or(e, "A.B.C"), "deep");
  EXPECT_EQ(field_or(e, "A.D"), R"([1,"x"])");
  EXPECT_EQ(field_or(e, "N"), "");
  EXPECT_EQ(field_or(e, "T"), "false");
  EXPECT_EQ(field_or(e, "F"), "-1.5e3");
}

TEST(JsonLineDecoder, EscapesAndUnicode) {
  JsonLineDecoder d;
  const Event e = decode_ok(
      d,
      R"({"winlog":{"event_id":"7","event_data":{"Path":"C:\\Users\\M\u00fcller\t\"x\"","Emoji":"\ud83d\ude00"}},"message":"a\nb"})");
  EXPECT_EQ(field_or(e, "Path"), "C:\\Users\\M\xC3\xBCller\t\"x\"");
  EXPECT_EQ(field_or(e, "Emoji"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(e.message(), "a\nb");
}

TEST(JsonLineDecoder, InvalidUtf8IsReplacedNotRejected) {
  JsonLineDecoder d;
  const std::string line =
      "{\"winlog\":{\"event_id\":\"7\",\"event_data\":{\"Name\":\"M\xFCller\"}}}";
  const Event e = decode_ok(d, line);
  EXPECT_EQ(field_or(e, "Name"), "M\xEF\xBF\xBDller");
  EXPECT_TRUE(is_valid_utf8(field_or(e, "Name")));
}

TEST(JsonLineDecoder, EventCodeIsTheFallbackEventId) {
  JsonLineDecoder d;
  EXPECT_EQ(decode_ok(d, R"({"event":{"code":"4800"},"winlog":{"channel":"Security"}})").event_id,
            4800u);
  EXPECT_EQ(decode_ok(d, R"({"event":{"code":"4800"},"winlog":{"event_id":"4801"}})").event_id,
            4801u);
}

TEST(JsonLineDecoder, MalformedLinesFailAndTheNextLineStillDecodes) {
  const auto lines = read_lines(kData + "malformed.jsonl");
  ASSERT_EQ(lines.size(), 12u);
  JsonLineDecoder d;
  Event e;
  std::string error;
  std::vector<bool> ok;
  for (const auto& line : lines) {
    error.clear();
    const bool decoded = d.decode(line, e, error);
    ok.push_back(decoded);
    if (!decoded) {
      EXPECT_FALSE(error.empty()) << line;
    }
  }
  const std::vector<bool> expected = {true,  false, false, false, false, false,
                                      false, false, false, false, false, true};
  EXPECT_EQ(ok, expected);
  EXPECT_EQ(e.event_id, 4634u);
  EXPECT_EQ(e.channel(), "Security");
}

TEST(JsonLineDecoder, ErrorMessagesSayWhatIsWrong) {
  JsonLineDecoder d;
  Event e;
  std::string error;
  EXPECT_FALSE(d.decode(R"([{"winlog":{"event_id":"1"}}])", e, error));
  EXPECT_NE(error.find("not a JSON object"), std::string::npos) << error;
  EXPECT_FALSE(d.decode(R"({"winlog":{"channel":"Security"}})", e, error));
  EXPECT_NE(error.find("no event id"), std::string::npos) << error;
  EXPECT_FALSE(d.decode(R"({"winlog":{"event_id":"x"}})", e, error));
  EXPECT_NE(error.find("event id"), std::string::npos) << error;
  EXPECT_FALSE(d.decode("", e, error));
  EXPECT_EQ(error, "empty line");
}

TEST(JsonLineDecoder, BinaryGarbageAndDeepNestingAreErrors) {
  JsonLineDecoder d;
  Event e;
  std::string error;
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) & 0xFF));
  EXPECT_FALSE(d.decode(garbage, e, error));
  std::string deep = R"({"winlog":{"event_id":1,"event_data":)";
  for (int i = 0; i < 200; ++i) deep += R"({"a":)";
  deep += "1";
  for (int i = 0; i < 200; ++i) deep += "}";
  deep += "}}";
  EXPECT_FALSE(d.decode(deep, e, error));
  EXPECT_NE(error.find("nested"), std::string::npos) << error;
  EXPECT_TRUE(d.decode(R"({"winlog":{"event_id":5}})", e, error));
  EXPECT_EQ(e.event_id, 5u);
}

TEST(JsonLineDecoder, TenMegabyteField) {
  const std::string big(10 * 1024 * 1024, 'A');
  JsonLineDecoder d;
  const Event e =
      decode_ok(d, R"({"winlog":{"event_id":"1","event_data":{"Blob":")" + big + R"("}}})");
  EXPECT_EQ(field_or(e, "Blob").size(), big.size());
  // A truncated one is an error, not a crash.
  Event bad;
  std::string error;
  EXPECT_FALSE(d.decode(R"({"winlog":{"event_id":"1","event_data":{"Blob":")" + big, bad, error));
}

TEST(JsonLineDecoder, DecoderIsReusableAndMovable) {
  JsonLineDecoder a;
  Event e;
  std::string error;
  ASSERT_TRUE(a.decode(R"({"winlog":{"event_id":1,"event_data":{"X":"1"}}})", e, error));
  JsonLineDecoder b = std::move(a);
  ASSERT_TRUE(b.decode(R"({"winlog":{"event_id":2}})", e, error));
  EXPECT_EQ(e.event_id, 2u);
  EXPECT_TRUE(e.fields().empty());  // nothing left over from the previous line
}

}  // namespace
}  // namespace sw
