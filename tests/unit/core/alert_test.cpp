#include "sessionwatch/alert.hpp"

#include <gtest/gtest.h>

namespace sw {
namespace {

TEST(AlertId, StableAndSensitiveToEveryPart) {
  const std::string id = stable_alert_id("HOST", "Security", "42", "rule-a");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id, stable_alert_id("HOST", "Security", "42", "rule-a"));
  EXPECT_NE(id, stable_alert_id("HOST2", "Security", "42", "rule-a"));
  EXPECT_NE(id, stable_alert_id("HOST", "System", "42", "rule-a"));
  EXPECT_NE(id, stable_alert_id("HOST", "Security", "43", "rule-a"));
  EXPECT_NE(id, stable_alert_id("HOST", "Security", "42", "rule-b"));
  // Part boundaries matter: ("AB","C") differs from ("A","BC").
  EXPECT_NE(stable_alert_id("AB", "C", "", ""), stable_alert_id("A", "BC", "", ""));
}

TEST(AlertId, SameValueAsEveryEarlierRelease) {
  // Collectors deduplicate on this id: its value is part of the contract, not only its shape.
  EXPECT_EQ(stable_alert_id("HOST", "Security", "42", "rule-a"),
            "54226b13c03986e79c03e8ce6b6e75d2");
}

TEST(Level, ParseAndSeverity) {
  Level l;
  ASSERT_TRUE(parse_level("high", l));
  EXPECT_EQ(l, Level::kHigh);
  EXPECT_EQ(syslog_severity(l), 3);
  EXPECT_EQ(to_string(Level::kCritical), "critical");
  EXPECT_FALSE(parse_level("urgent", l));
}

}  // namespace
}  // namespace sw
