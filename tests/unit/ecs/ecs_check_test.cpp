#include <gtest/gtest.h>

#include "ecs_check/ecs_check.hpp"
#include "sessionwatch/alert_ecs.hpp"
#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/gap_alert.hpp"

namespace sw {
namespace {

using nlohmann::json;

bool names(const std::vector<std::string>& problems, const std::string& field) {
  for (const std::string& p : problems) {
    if (p.starts_with(field + ":")) return true;
  }
  return false;
}

// The checker itself: each mistake the ECS review found is reported under its field.
TEST(EcsChecker, ReportsWhatAnEcsMappingWouldRejectOrMisfile) {
  const test::EcsChecker checker(SW_ECS_FIELDS);
  const json doc = {
      {"@timestamp", "2026-11-20T13:02:08.0400000Z"},
      {"event", {{"kind", "alert"}, {"category", {"authentication"}}, {"severity", "high"}}},
      {"rule", {{"author", "someone"}, {"level", "high"}}},
      {"source", {{"ip", "LAPTOP-BOB"}}},
      {"host", {{"name", ""}}},
      {"log", {{"level", json::array({"a", "b"})}}},
      {"winlog", {{"event_data", {{"sessionwatch.console_user", "alice"}}}}},
      {"user", {{"name", "bob"}}}};
  const auto problems = checker.check(doc);
  EXPECT_TRUE(names(problems, "event.type")) << "category without type";
  EXPECT_TRUE(names(problems, "event.severity")) << "not a long";
  EXPECT_TRUE(names(problems, "rule.author")) << "not an array";
  EXPECT_TRUE(names(problems, "rule.level")) << "not an ECS field";
  EXPECT_TRUE(names(problems, "source.ip")) << "not an address";
  EXPECT_TRUE(names(problems, "host.name")) << "empty string";
  EXPECT_TRUE(names(problems, "log.level")) << "an array in a single-valued field";
  EXPECT_TRUE(names(problems, "winlog.event_data.sessionwatch.console_user")) << "dotted key";
  EXPECT_TRUE(names(problems, "related.user")) << "user.name not in related.user";
  EXPECT_TRUE(names(problems, "ecs.version")) << "missing";
}

TEST(EcsChecker, EventTypeMustFitTheCategory) {
  const test::EcsChecker checker(SW_ECS_FIELDS);
  json doc = {{"event", {{"category", {"process"}}, {"type", {"start"}}}}};
  EXPECT_FALSE(names(checker.check(doc), "event.type"));
  doc["event"]["type"] = {"denied"};
  EXPECT_TRUE(names(checker.check(doc), "event.type"));
  doc["event"]["type"] = {"not-a-type"};
  EXPECT_TRUE(names(checker.check(doc), "event.type"));
}

TEST(EcsAlert, CollectionGapAlertIsCleanEcs) {
  CollectionGap gap{"in", "/var/log/a.log", "truncated", "bytes", 4096, 0, std::nullopt};
  const Alert a = make_gap_alert(gap, "collector01", 0);
  const auto problems = test::EcsChecker(SW_ECS_FIELDS).check(alert_to_json(a));
  std::string all;
  for (const std::string& p : problems) all += "\n  " + p;
  EXPECT_TRUE(problems.empty()) << all;
  EXPECT_EQ(alert_to_json(a)["event"]["severity"], ecs_severity(Level::kHigh));
}

TEST(EcsAlert, SeverityGrowsWithTheLevel) {
  EXPECT_LT(ecs_severity(Level::kInformational), ecs_severity(Level::kLow));
  EXPECT_LT(ecs_severity(Level::kLow), ecs_severity(Level::kMedium));
  EXPECT_LT(ecs_severity(Level::kMedium), ecs_severity(Level::kHigh));
  EXPECT_LT(ecs_severity(Level::kHigh), ecs_severity(Level::kCritical));
}

TEST(EcsAlert, AttackTagsBecomeThreatFields) {
  Alert a;
  a.level = Level::kHigh;
  complete_ecs(a, {"attack.lateral_movement", "attack.t1021.001", "attack.t1078", "cve.2021-1"}, 0);
  const json doc = alert_to_json(a);
  EXPECT_EQ(doc["threat"]["framework"], "MITRE ATT&CK");
  EXPECT_EQ(doc["threat"]["technique"]["id"], json::array({"T1021.001", "T1078"}));
  EXPECT_EQ(doc["threat"]["tactic"]["id"], json::array({"TA0008"}));
  EXPECT_EQ(doc["tags"].size(), 4u);
}

}  // namespace
}  // namespace sw
