#include <gtest/gtest.h>

#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/gap_alert.hpp"

namespace sw::daemon {
namespace {

TEST(GapAlert, NamesSourceRangeCauseAndCount) {
  CollectionGap gap;
  gap.input = "security";
  gap.path = "/srv/evtx/Security.evtx";
  gap.cause = "record_ids_skipped";
  gap.unit = "records";
  gap.from = 101;
  gap.to = 499;
  gap.count = 399;
  const Alert a = make_gap_alert(gap, "collector01", 0);
  EXPECT_EQ(a.rule_id, "sessionwatch-collection-gap");
  EXPECT_EQ(alert_to_json(a)["rule"]["id"], "sessionwatch-collection-gap");
  EXPECT_EQ(alert_to_json(a)["event"]["action"], "collection_gap");
  EXPECT_EQ(alert_to_json(a)["event"]["id"], a.id);
  const auto g = alert_to_json(a)["sessionwatch"]["collection_gap"];
  EXPECT_EQ(g["input"], "security");
  EXPECT_EQ(g["source"], "/srv/evtx/Security.evtx");
  EXPECT_EQ(g["cause"], "record_ids_skipped");
  EXPECT_EQ(g["range"]["from"], 101);
  EXPECT_EQ(g["range"]["to"], 499);
  EXPECT_EQ(g["count"], 399);
  EXPECT_NE(alert_to_json(a)["message"].get<std::string>().find("101..499"), std::string::npos);
  // The same gap reported twice (after a crash) carries the same id; another gap does not.
  EXPECT_EQ(make_gap_alert(gap, "collector01", 12345).id, a.id);
  gap.from = 102;
  EXPECT_NE(make_gap_alert(gap, "collector01", 0).id, a.id);
}

TEST(GapAlert, UnknownCountIsNull) {
  CollectionGap gap{"in", "/var/log/a.log", "truncated", "bytes", 4096, 0, std::nullopt};
  const Alert a = make_gap_alert(gap, "h", 0);
  EXPECT_TRUE(alert_to_json(a)["sessionwatch"]["collection_gap"]["count"].is_null());
  EXPECT_FALSE(alert_to_json(a)["sessionwatch"]["collection_gap"]["range"].contains("to"));
}

TEST(GapAlert, RecordIdsSkippedInAFileNameTheStream) {
  CollectionGap gap;
  gap.input = "winlogbeat";
  gap.path = "/var/log/winlogbeat/security.jsonl";
  gap.cause = "record_ids_skipped";
  gap.unit = "records";
  gap.from = 101;
  gap.to = 104;
  gap.count = 4;
  gap.stream = "dc01.contoso.local Security";
  const Alert a = make_gap_alert(gap, "h", 0);
  EXPECT_EQ(alert_to_json(a)["sessionwatch"]["collection_gap"]["stream"],
            "dc01.contoso.local Security");
  const std::string message = alert_to_json(a)["message"];
  EXPECT_NE(message.find("101..104 of dc01.contoso.local Security"), std::string::npos) << message;
  // Another stream of the same file with the same ids is another gap.
  gap.stream = "ws01.contoso.local Security";
  EXPECT_NE(make_gap_alert(gap, "h", 0).id, a.id);
}

}  // namespace
}  // namespace sw::daemon
