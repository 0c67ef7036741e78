#include <gtest/gtest.h>

#include "sessionwatch/rules.hpp"

namespace sw {
namespace {

constexpr Ticks kSec = kTicksPerSecond;

const char* kBase = R"(title: Failed logon
id: base-fail
name: failed
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4625}
  condition: sel
---
title: Success logon
id: base-ok
name: success
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4624}
  condition: sel
)";

Event logon(std::uint32_t id, std::string_view user, Ticks t, std::string_view ip = "10.0.0.1") {
  Event e;
  e.set_channel("Security");
  e.event_id = id;
  e.set_computer("dc1");
  e.time_created = t;
  e.record_id = static_cast<std::uint64_t>(t / kSec);
  e.add_field("TargetUserName", user);
  e.add_field("IpAddress", ip);
  return e;
}

std::unique_ptr<RuleSet> load(const std::string& correlation, RuleOptions o = {}) {
  RuleLoadResult r = RuleSet::load_texts({{"base.yml", kBase}, {"corr.yml", correlation}}, o);
  for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
  return std::move(r.rules);
}

std::vector<CorrelationMatch> corr_hits(RuleSet& rs, const Event& e, int* plain = nullptr) {
  std::vector<CorrelationMatch> out;
  rs.match(e, [&](const RuleMatch& m) {
    if (m.correlation)
      out.push_back(*m.correlation);
    else if (plain)
      ++*plain;
  });
  return out;
}

TEST(Correlation, EventCountSlidesAndResets) {
  auto rs = load(R"(title: Brute force
id: c1
correlation:
  type: event_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 10s
  condition: {gte: 3}
)");
  int plain = 0;
  EXPECT_TRUE(corr_hits(*rs, logon(4625, "a", 0 * kSec), &plain).empty());
  EXPECT_TRUE(corr_hits(*rs, logon(4625, "a", 5 * kSec), &plain).empty());
  EXPECT_TRUE(corr_hits(*rs, logon(4625, "a", 12 * kSec), &plain).empty());  // first slid out
  auto hits = corr_hits(*rs, logon(4625, "a", 14 * kSec), &plain);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].count, 3u);
  EXPECT_EQ(hits[0].group,
            (std::vector<std::pair<std::string, std::string>>{{"IpAddress", "10.0.0.1"}}));
  ASSERT_EQ(hits[0].events.size(), 3u);
  EXPECT_EQ(hits[0].events[0].record_id, 5u);
  EXPECT_EQ(hits[0].events[2].computer, "dc1");
  EXPECT_EQ(plain, 0);  // base rule is silent: only used by a correlation without generate
  EXPECT_TRUE(corr_hits(*rs, logon(4625, "a", 15 * kSec)).empty());  // reset after firing
  // Another group does not mix in.
  EXPECT_TRUE(corr_hits(*rs, logon(4625, "a", 16 * kSec, "10.0.0.2")).empty());
}

TEST(Correlation, TemporalOrderedNeedsOrder) {
  auto rs = load(R"(title: Fail then success
id: c2
correlation:
  type: temporal_ordered
  rules: [failed, base-ok]
  group-by: [TargetUserName]
  timespan: 1m
)");
  EXPECT_TRUE(corr_hits(*rs, logon(4624, "bob", 0)).empty());  // success first: no order yet
  EXPECT_TRUE(corr_hits(*rs, logon(4625, "bob", 10 * kSec)).empty());
  EXPECT_TRUE(corr_hits(*rs, logon(4624, "alice", 11 * kSec)).empty());  // other user
  auto hits = corr_hits(*rs, logon(4624, "bob", 20 * kSec));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].type, "temporal_ordered");
  EXPECT_EQ(hits[0].count, 2u);
}

TEST(Correlation, SnapshotRestoreKeepsWindows) {
  const std::string corr = R"(title: Spray
id: c3
correlation:
  type: value_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 1h
  condition: {gte: 3, field: TargetUserName}
)";
  auto first = load(corr);
  corr_hits(*first, logon(4625, "a", 0));
  corr_hits(*first, logon(4625, "b", kSec));
  EXPECT_EQ(first->stats().correlation_groups, 1u);
  const std::string snap = first->snapshot();
  auto second = load(corr);
  std::string error;
  ASSERT_TRUE(second->restore(snap, error)) << error;
  EXPECT_TRUE(corr_hits(*second, logon(4625, "b", 2 * kSec)).empty());  // b already counted
  auto hits = corr_hits(*second, logon(4625, "c", 3 * kSec));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].count, 3u);
  EXPECT_FALSE(second->restore("{not json", error));
  EXPECT_FALSE(error.empty());
}

// A rule file that is not UTF-8 (a Latin-1 id here) loads with the bad bytes replaced, so its
// state still goes into the JSON of a checkpoint and comes back (the dump threw before).
TEST(Correlation, RuleTextThatIsNotUtf8StillSnapshots) {
  const std::string corr =
      "title: Spray\nid: c3-\xe9t\xe9\ncorrelation:\n  type: event_count\n"
      "  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n"
      "  condition: {gte: 3}\n";
  auto first = load(corr);
  corr_hits(*first, logon(4625, "a", 0));
  std::string snap;
  ASSERT_NO_THROW(snap = first->snapshot());
  EXPECT_NE(snap.find("c3-\xef\xbf\xbdt\xef\xbf\xbd"), std::string::npos) << snap;
  StateParts parts;
  ASSERT_NO_THROW(first->snapshot_parts(false, parts));
  EXPECT_EQ(parts.size(), 1u);
  auto second = load(corr);
  std::string error;
  ASSERT_TRUE(second->restore(snap, error)) << error;
  EXPECT_EQ(second->snapshot(), snap);
}

Event sized_logon(std::string_view user, Ticks t, std::string_view bytes) {
  Event e = logon(4625, user, t);
  e.add_field("Bytes", bytes);
  return e;
}

std::string value_rule(const std::string& type, const std::string& condition) {
  return "title: " + type + "\nid: v-" + type + "\ncorrelation:\n  type: " + type +
         "\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10m\n  condition: {" +
         condition + "}\n";
}

TEST(Correlation, ValueSumAddsTheFieldPerGroupInsideTheWindow) {
  auto rs = load(value_rule("value_sum", "field: Bytes, gt: 1000"));
  EXPECT_TRUE(corr_hits(*rs, sized_logon("a", 0, "600")).empty());
  EXPECT_TRUE(corr_hits(*rs, sized_logon("b", kSec, "900")).empty());       // another group
  EXPECT_TRUE(corr_hits(*rs, sized_logon("a", 2 * kSec, "oops")).empty());  // not a number
  auto hits = corr_hits(*rs, sized_logon("a", 3 * kSec, "0x1F5"));          // 501
  ASSERT_EQ(hits.size(), 1u);
  ASSERT_TRUE(hits[0].value.has_value());
  EXPECT_DOUBLE_EQ(*hits[0].value, 1101.0);
  EXPECT_EQ(hits[0].count, 2u);
  // Outside the window the old value no longer counts.
  EXPECT_TRUE(corr_hits(*rs, sized_logon("b", 11 * 60 * kSec, "200")).empty());
}

TEST(Correlation, ValueAvgComparesTheMeanAndTakesAnUpperBound) {
  auto high = load(value_rule("value_avg", "field: Bytes, gt: 500.5"));
  EXPECT_TRUE(corr_hits(*high, sized_logon("a", 0, "400")).empty());
  auto hits = corr_hits(*high, sized_logon("a", kSec, "602"));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_DOUBLE_EQ(*hits[0].value, 501.0);
  auto low = load(value_rule("value_avg", "field: Bytes, lt: 10"));
  EXPECT_TRUE(corr_hits(*low, sized_logon("a", 0, "50")).empty());
  EXPECT_EQ(corr_hits(*low, sized_logon("c", kSec, "3")).size(), 1u);
}

TEST(Correlation, ValuePercentileFindsRareValues) {
  auto rs = load(value_rule("value_percentile", "field: IpAddress, lte: 10"));
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(corr_hits(*rs, logon(4625, "a", i * kSec, "10.0.0.1")).empty()) << i;
  }
  // One event in eleven (9.1 %) comes from a new address.
  auto hits = corr_hits(*rs, logon(4625, "a", 10 * kSec, "10.9.9.9"));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NEAR(*hits[0].value, 100.0 / 11, 1e-9);
}

TEST(Correlation, ValueAggregatesSurviveARestart) {
  const std::string corr = value_rule("value_sum", "field: Bytes, gte: 100");
  auto first = load(corr);
  corr_hits(*first, sized_logon("a", 0, "60"));
  StateParts parts;
  first->snapshot_parts(false, parts);
  StatePartMap saved;
  for (const StatePart& p : parts) saved[p.key] = *p.value;
  auto second = load(corr);
  std::string error;
  ASSERT_TRUE(second->restore_parts(saved, error)) << error;
  auto hits = corr_hits(*second, sized_logon("a", kSec, "40"));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_DOUBLE_EQ(*hits[0].value, 100.0);
}

TEST(Correlation, ValueAggregatesNeedOneFieldAndCountsStayWhole) {
  auto problems = [](const std::string& yaml) {
    return RuleSet::load_texts({{"base.yml", kBase}, {"c.yml", yaml}}).problems;
  };
  auto no_field = problems(value_rule("value_sum", "gt: 3"));
  ASSERT_EQ(no_field.size(), 1u);
  EXPECT_EQ(no_field[0].message, "value_sum needs 'field' in its condition");
  auto upper = problems(value_rule("value_sum", "field: Bytes, lt: 3"));
  ASSERT_EQ(upper.size(), 1u);
  EXPECT_TRUE(upper[0].unsupported());
  auto fraction = problems(value_rule("event_count", "gte: 2.5"));
  ASSERT_EQ(fraction.size(), 1u);
  EXPECT_EQ(fraction[0].message, "'2.5' is not a count");
}

TEST(Correlation, GroupsAreBounded) {
  RuleOptions o;
  o.max_groups_per_correlation = 16;
  auto rs = load(R"(title: Many
id: c4
correlation:
  type: event_count
  rules: [failed]
  group-by: [TargetUserName]
  timespan: 1d
  condition: {gte: 2}
)",
                 o);
  for (int i = 0; i < 200; ++i) corr_hits(*rs, logon(4625, "user" + std::to_string(i), i * kSec));
  EXPECT_LE(rs->stats().correlation_groups, 16u);
  // The most recent group survived eviction and still counts.
  EXPECT_EQ(corr_hits(*rs, logon(4625, "user199", 300 * kSec)).size(), 1u);
}

TEST(Correlation, ReferenceErrorsAndUnsupportedConditions) {
  RuleLoadResult r =
      RuleSet::load_texts({{"base.yml", kBase},
                           {"c.yml",
                            "title: x\nid: cx\ncorrelation:\n  type: event_count\n  rules: [nope]\n"
                            "  group-by: [A]\n  timespan: 5m\n  condition: {gte: 2}\n"}});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].message.find("'nope'"), std::string::npos);
  EXPECT_EQ(r.problems[0].line, 4);
  RuleLoadResult lt = RuleSet::load_texts(
      {{"base.yml", kBase},
       {"c.yml",
        "title: x\nid: cy\ncorrelation:\n  type: event_count\n  rules: [failed]\n"
        "  group-by: [A]\n  timespan: 5m\n  condition: {lt: 2}\n"}});
  ASSERT_EQ(lt.problems.size(), 1u);
  EXPECT_TRUE(lt.problems[0].unsupported());
}

}  // namespace
}  // namespace sw
