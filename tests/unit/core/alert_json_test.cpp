#include "sessionwatch/alert_json.hpp"

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sw {
namespace {

using nlohmann::json;

std::vector<std::string> corpus_alert_lines() {
  std::vector<std::string> lines;
  std::ifstream in(SW_TEST_DATA_DIR "/alerts/corpus_alerts.jsonl");
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string to_line(const Alert& alert) {
  std::string line;
  write_alert_json(alert, line);
  return line;
}

// Real alerts (7063 refusals with console holder and attempt, rule matches without): read back
// into typed members and extras, they serialize to the same bytes.
TEST(AlertJson, CorpusAlertsRoundTripByteForByte) {
  const std::vector<std::string> lines = corpus_alert_lines();
  ASSERT_EQ(lines.size(), 17u);
  for (const std::string& line : lines) {
    const std::optional<Alert> alert = parse_alert_json(line);
    ASSERT_TRUE(alert.has_value()) << line;
    EXPECT_EQ(to_line(*alert), line);
  }
}

TEST(AlertJson, ReadingTakesTheTypedFieldsOutOfTheExtras) {
  const std::optional<Alert> a = parse_alert_json(corpus_alert_lines().at(0));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->id, "9d39ce85f6689b211076e245eb6fe306");
  EXPECT_EQ(a->host, "fs02.offsec.lan");
  EXPECT_EQ(a->level, Level::kLow);
  EXPECT_EQ(a->event_code, "4825");
  ASSERT_TRUE(a->user.has_value());
  EXPECT_EQ(a->user->name, "svc6test1");
  EXPECT_EQ(a->user->domain, "OFFSEC");
  ASSERT_TRUE(a->console.has_value());
  EXPECT_FALSE(a->console->user.has_value());  // null: nobody known at the console
  EXPECT_EQ(a->console->state, "unknown");
  EXPECT_EQ(a->extras["host"], json({{"hostname", "fs02"}, {"os", {{"type", "windows"}}}}));
  EXPECT_FALSE(a->extras["event"].contains("id"));
  EXPECT_FALSE(a->extras.contains("user"));
  EXPECT_FALSE(a->extras["sessionwatch"]["console"].contains("state"));
}

// Typed members and extras merge into one object per level, keys in byte order, as nlohmann
// writes the same document.
TEST(AlertJson, TypedMembersAndExtrasMergeInKeyOrder) {
  Alert a;
  a.id = "id1";
  a.rule_id = "r";
  a.rule_name = "R";
  a.host = "WS01";
  a.console = AlertConsole{"alice", std::nullopt, 2, "locked", std::nullopt};
  a.extras = {{"zeta", 1},
              {"agent", {{"type", "sessionwatch"}}},
              {"host", {{"os", "windows"}, {"hostname", "ws01"}}},
              {"sessionwatch", {{"console", {{"source", json::object()}}}, {"b", true}}}};
  json expected = a.extras;
  expected["@timestamp"] = format_time(0);
  expected["event"] = {{"id", "id1"}};
  expected["host"]["name"] = "WS01";
  expected["rule"] = {{"id", "r"}, {"name", "R"}};
  expected["sessionwatch"]["rule"] = {{"level", "medium"}};
  expected["sessionwatch"]["console"].update({{"user", "alice"},
                                              {"domain", nullptr},
                                              {"session_id", 2},
                                              {"state", "locked"},
                                              {"since", nullptr}});
  EXPECT_EQ(to_line(a), expected.dump());
}

TEST(AlertJson, NotAnObjectIsRefused) {
  EXPECT_FALSE(parse_alert_json(std::string_view("[1,2]")).has_value());
  EXPECT_FALSE(parse_alert_json(std::string_view("{\"a\":")).has_value());
}

}  // namespace
}  // namespace sw
