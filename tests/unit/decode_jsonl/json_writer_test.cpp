#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sessionwatch/decode.hpp"
#include "unit/decode_jsonl/event_testing.hpp"

namespace sw {
namespace {

using testing::expect_same_event;
using testing::read_lines;

Event round_trip(const Event& original, std::string* json_out = nullptr) {
  std::string json;
  write_event_json(original, json);
  if (json_out) *json_out = json;
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_TRUE(nlohmann::json::accept(json)) << json;
  JsonLineDecoder d;
  Event back;
  std::string error;
  EXPECT_TRUE(d.decode(json, back, error)) << error << "\n" << json;
  return back;
}

Event full_event() {
  Event e;
  e.event_id = 4624;
  e.qualifiers = 16384;
  e.has_qualifiers = true;
  e.version = 2;
  e.level = 4;
  e.task = 12544;
  e.opcode = 1;
  e.keywords = 0x8020000000000000ull;
  e.time_created = *parse_time("2021-02-12T12:34:28.1944370Z");
  e.record_id = 203040;
  e.process_id = 612;
  e.thread_id = 3464;
  e.set_provider_name("Microsoft-Windows-Security-Auditing");
  e.set_provider_guid("{54849625-5478-4994-A5BA-3E3B0328C30D}");
  e.set_channel("Security");
  e.set_computer("dc.windomain.local");
  e.set_user_sid("S-1-5-18");
  e.set_activity_id("{B9D7A5F8-0132-0000-4EA6-D7B93201D701}");
  e.set_related_activity_id("{00000000-0000-0000-0000-000000000001}");
  e.set_message("An account was successfully logged on.\r\n\tLogon Type:\t10");
  e.add_field("SubjectUserSid", "S-1-5-18");
  e.add_field("TargetUserName", "vagrant");
  e.add_field("TargetLogonId", "0xae31a");
  e.add_field("Empty", "");
  e.add_field("Dup", "first");
  e.add_field("Dup", "second");
  e.add_field("sessionwatch.error_code", "7063", FieldOrigin::kExtra);
  e.add_field("sessionwatch.holder.user", "anna", FieldOrigin::kExtra);
  e.add_field("Enrichment", "yes", FieldOrigin::kExtra);
  return e;
}

TEST(WriteEventJson, FullEventRoundTrips) {
  const Event e = full_event();
  std::string json;
  const Event back = round_trip(e, &json);
  expect_same_event(e, back);
  const auto doc = nlohmann::json::parse(json);
  EXPECT_EQ(doc["@timestamp"], "2021-02-12T12:34:28.1944370Z");
  EXPECT_EQ(doc["winlog"]["time_created"], "2021-02-12T12:34:28.1944370Z");
  EXPECT_EQ(doc["winlog"]["event_id"], "4624");
  EXPECT_EQ(doc["event"]["code"], "4624");
  EXPECT_EQ(doc["host"]["name"], "dc.windomain.local");
  EXPECT_EQ(doc["log"]["level"], "information");
  EXPECT_EQ(doc["winlog"]["keywords"],
            nlohmann::json::array({"Audit Success", "0x8000000000000000"}));
  EXPECT_EQ(doc["winlog"]["event_data"]["TargetUserName"], "vagrant");
  EXPECT_EQ(doc["winlog"]["process"]["thread"]["id"], 3464);
  EXPECT_EQ(doc["winlog"]["user"]["identifier"], "S-1-5-18");
  EXPECT_EQ(doc["sessionwatch"]["error_code"], "7063");
  EXPECT_EQ(doc["sessionwatch"]["holder.user"], "anna");
  EXPECT_EQ(doc["sessionwatch"]["extra"]["Enrichment"], "yes");
  EXPECT_FALSE(doc["winlog"].contains("user_data"));
}

TEST(WriteEventJson, UserDataEventRoundTrips) {
  Event e;
  e.event_id = 21;
  e.set_channel("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational");
  e.set_user_data_name("EventXML");
  e.add_field("User", "CONTOSO\\marco", FieldOrigin::kUserData);
  e.add_field("SessionID", "3", FieldOrigin::kUserData);
  e.add_field("Nested.Inner", "x", FieldOrigin::kUserData);
  const Event back = round_trip(e);
  expect_same_event(e, back);
}

TEST(WriteEventJson, MinimalAndOddValuesRoundTrip) {
  Event minimal;  // everything zero or empty: event id 0 at the epoch
  expect_same_event(minimal, round_trip(minimal));

  Event odd;
  odd.event_id = 4294967295u;
  odd.level = 200;                         // not a named level
  odd.keywords = 0xFFFFFFFFFFFFFFFFull;    // every bit
  odd.time_created = -116444736000000000;  // FILETIME 0 (1601)
  odd.record_id = 18446744073709551615ull;
  odd.set_user_data_name("OnlyName");
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  controls += "\x7F\"\\/\xE2\x80\xA8 end";
  odd.set_message(controls);
  odd.add_field("Controls", controls);
  odd.add_field("Unicode", "M\xC3\xBCller \xF0\x9F\x98\x80");
  odd.add_field("Quote\"Name", "v");
  expect_same_event(odd, round_trip(odd));
}

TEST(WriteEventJson, InvalidUtf8IsWrittenAsReplacementCharacters) {
  Event e;
  e.event_id = 1;
  e.add_field("Bad",
              "a\xFF"
              "b");
  const Event back = round_trip(e);
  EXPECT_EQ(testing::field_or(back, "Bad"),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(WriteEventJson, TextEventsRoundTrip) {
  DecodeOptions options;
  options.default_computer = "JUMPHOST";
  TextLineDecoder text(options);
  Event e;
  std::string error;
  ASSERT_TRUE(text.decode("2024-03-01 10:22:31 logoff 2 /server:WS-0042 failed: Error code 7063", 0,
                          e, error));
  expect_same_event(e, round_trip(e));
}

TEST(WriteEventJson, FixtureLinesRoundTrip) {
  for (const char* file : {"winlogbeat.jsonl", "nxlog.jsonl"}) {
    JsonLineDecoder d;
    for (const auto& line : read_lines(std::string(SW_TEST_DATA_DIR "/jsonl/") + file)) {
      Event e;
      std::string error;
      ASSERT_TRUE(d.decode(line, e, error)) << error;
      SCOPED_TRACE(line.substr(0, 120));
      expect_same_event(e, round_trip(e));
    }
  }
}

}  // namespace
}  // namespace sw
