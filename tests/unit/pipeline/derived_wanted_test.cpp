// The detector tells the tracker which derived events it can act on (TrackerSink::
// wants_derived): the built-in detections only inferred refusals, rules the channel and event
// ids they are indexed by. The others are not built; the alerts are what they were.
#include <gtest/gtest.h>

#include <algorithm>

#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/pipeline.hpp"
#include "unit/decode_dispatch/temp_dir.hpp"
#include "unit/session/velociraptor_events.hpp"

namespace sw {
namespace {

class DerivedWanted : public testing::TempDirTest {
 protected:
  std::unique_ptr<Detector> detector(const std::string& rules_yaml) {
    DetectorOptions options;
    if (!rules_yaml.empty()) options.rule_paths = {write("rules.yml", rules_yaml)};
    options.tracker.reorder_window = 24 * 3600 * kTicksPerSecond;  // files one after another
    std::vector<std::string> problems;
    auto d = Detector::create(options, problems);
    for (const std::string& p : problems) ADD_FAILURE() << p;
    return d;
  }
  static std::vector<std::string> run(Detector& d) {
    std::vector<std::string> alerts;
    const Detector::AlertCallback collect = [&](Alert&& a) {
      alerts.push_back(alert_to_json(a).dump());
    };
    for (Event& e : test::velociraptor_by_file()) d.process(e, collect);
    d.flush(collect);
    return alerts;
  }
};

constexpr const char* kTakeoverRule = R"(title: Takeover
id: 5f0d7a52-0000-4000-8000-000000000001
logsource:
  product: sessionwatch
detection:
  selection:
    EventID: 10
  condition: selection
level: medium
)";

TEST_F(DerivedWanted, BuiltInDetectionsTakeOnlyInferredRefusals) {
  auto d = detector("");
  run(*d);
  // The capture derives sessions and a takeover, and has no refusal: none is handed over.
  EXPECT_GT(d->tracker().stats().derived_events, 3u);
  EXPECT_EQ(d->stats().derived_events, 0u);
}

TEST_F(DerivedWanted, RulesTakeTheIdsTheyAreIndexedBy) {
  auto d = detector(kTakeoverRule);
  const std::vector<std::string> alerts = run(*d);
  EXPECT_EQ(d->stats().derived_events, 1u);  // the one takeover
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_NE(alerts[0].find("\"Takeover\""), std::string::npos) << alerts[0];
  EXPECT_GT(d->tracker().stats().derived_events, d->stats().derived_events);
}

// A rule that names the kind, as the shipped ones do, takes the same one derived event: on the
// tracker's channel a kind is one event id.
TEST_F(DerivedWanted, AKindNamesItsEventId) {
  std::string by_kind = kTakeoverRule;
  by_kind.replace(by_kind.find("EventID: 10"), 11, "Kind: console_takeover");
  auto d = detector(by_kind);
  const std::vector<std::string> alerts = run(*d);
  EXPECT_EQ(d->stats().derived_events, 1u);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_NE(alerts[0].find("\"Takeover\""), std::string::npos) << alerts[0];
  // Kind tested for part of its text: every derived event is handed over, the alert the same.
  std::string by_part = kTakeoverRule;
  by_part.replace(by_part.find("EventID: 10"), 11, "Kind|endswith: _takeover");
  auto loose = detector(by_part);
  EXPECT_EQ(run(*loose).size(), 1u);
  EXPECT_EQ(loose->stats().derived_events, loose->tracker().stats().derived_events);
}

}  // namespace
}  // namespace sw
