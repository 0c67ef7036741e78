// The detector's state as parts (Detector::snapshot_parts): the daemon's checkpoints append only
// the parts changed since the previous checkpoint and rebuild the detector from them after a
// crash. The promise: a detector restored from the parts written so far holds the same state and
// raises the same alerts, with the same ids, as the one that never stopped.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/pipeline.hpp"

namespace sw {
namespace {

std::unique_ptr<Detector> live_detector() {
  DetectorOptions options;
  options.rule_paths = {std::string(SW_SOURCE_DIR) + "/rules"};
  options.tracker.reorder_window = 0;  // as the daemon runs it
  options.tracker.max_timeline_per_host = 0;
  std::vector<std::string> problems;
  auto detector = Detector::create(options, problems);
  for (const std::string& p : problems) ADD_FAILURE() << p;
  return detector;
}

// Session traffic on a few computers, with refused console reclaims (Win32 7063) from a few
// requesters, so that both the tracker and the correlation rules build up state.
std::string event_json(int n) {
  const std::string host = "ws-" + std::to_string(n % 5) + ".contoso.local";
  char stamp[40];
  std::snprintf(stamp, sizeof stamp, "2026-11-02T08:%02d:%02d.%03dZ", (n / 600) % 60, (n / 10) % 60,
                (n % 10) * 100);
  nlohmann::json j;
  j["@timestamp"] = stamp;
  j["host"]["name"] = host;
  const std::string user = "user" + std::to_string(n % 7);
  if (n % 3 == 0) {
    j["winlog"] = {{"channel", "Application"},
                   {"provider_name", "Contoso-SeatReclaimer"},
                   {"event_id", "1001"},
                   {"record_id", std::to_string(50000 + n)},
                   {"computer_name", host},
                   {"event_data",
                    {{"TargetUserName", user},
                     {"TargetDomainName", "CONTOSO"},
                     {"ConsoleUserName", "holder" + std::to_string(n % 2)},
                     {"ConsoleDomainName", "CONTOSO"},
                     {"Win32Status", "7063"}}}};
  } else {
    j["winlog"] = {{"channel", "Security"},
                   {"provider_name", "Microsoft-Windows-Security-Auditing"},
                   {"event_id", "4624"},
                   {"record_id", std::to_string(90000 + n)},
                   {"computer_name", host},
                   {"event_data",
                    {{"TargetUserName", user},
                     {"TargetDomainName", "CONTOSO"},
                     {"TargetUserSid", "S-1-5-21-1-2-3-" + std::to_string(1000 + n % 7)},
                     {"TargetLogonId", "0x" + std::to_string(4096 + n)},
                     {"LogonType", n % 2 ? "10" : "2"},
                     {"IpAddress", "10.0.0." + std::to_string(n % 250)}}}};
  }
  return j.dump();
}

std::vector<std::string> feed(Detector& detector, int from, int to) {
  JsonLineDecoder decoder;
  std::vector<std::string> ids;
  Event e;
  std::string error;
  for (int n = from; n < to; ++n) {
    e.clear();
    EXPECT_TRUE(decoder.decode(event_json(n), e, error)) << error;
    detector.process(e, [&](Alert&& a) { ids.push_back(a.id); });
  }
  return ids;
}

void apply_changes(const StateParts& changes, StatePartMap& saved) {
  for (const StatePart& p : changes) {
    if (p.value) {
      saved[p.key] = *p.value;
    } else {
      saved.erase(p.key);
    }
  }
}

StatePartMap all_parts(Detector& detector) {
  StateParts parts;
  detector.snapshot_parts(false, parts);
  StatePartMap map;
  apply_changes(parts, map);
  return map;
}

TEST(StateParts, ChangesAppliedInOrderRebuildTheSameDetector) {
  auto running = live_detector();
  ASSERT_TRUE(running);
  StatePartMap saved = all_parts(*running);
  std::size_t removals = 0;
  for (int from = 0; from < 1200; from += 37) {
    feed(*running, from, from + 37);
    StateParts changes;
    running->snapshot_parts(true, changes);
    for (const StatePart& p : changes) removals += !p.value;
    apply_changes(changes, saved);
  }
  EXPECT_GT(removals, 0u) << "correlation groups that fired are removed from the state";
  auto restored = live_detector();
  std::string error;
  ASSERT_TRUE(restored->restore_parts(saved, error)) << error;
  EXPECT_EQ(all_parts(*restored), all_parts(*running));
  // The same alerts, with the same ids, from here on: correlations completed by later events
  // included.
  const auto want = feed(*running, 1221, 1800);
  const auto got = feed(*restored, 1221, 1800);
  EXPECT_EQ(got, want);
  std::size_t correlations = 0;
  for (const auto& [key, value] : saved) correlations += key.starts_with("rules/");
  EXPECT_GT(correlations, 0u);
}

TEST(StateParts, ChangesHoldOnlyWhatTheEventsSinceTheLastCallTouched) {
  auto detector = live_detector();
  ASSERT_TRUE(detector);
  feed(*detector, 0, 500);
  StateParts parts;
  detector->snapshot_parts(true, parts);
  std::size_t hosts = 0, sid_maps = 0;
  for (const StatePart& p : parts) {
    hosts += p.key.starts_with("session/host/");
    sid_maps += p.key.starts_with("session/sids/");
  }
  EXPECT_EQ(hosts, 5u);
  EXPECT_EQ(sid_maps, 5u);
  // One logon on ws-1: its computer only, and the tracker's header.
  parts.clear();
  feed(*detector, 601, 602);
  detector->snapshot_parts(true, parts);
  std::vector<std::string> keys;
  for (const StatePart& p : parts) keys.push_back(p.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"session/tracker", "session/host/ws-1"}))
      << "the user's SID was seen before: its name map is unchanged";
  parts.clear();
  detector->snapshot_parts(true, parts);
  EXPECT_EQ(parts.size(), 1u) << "nothing changed since: the header only";
}

// The computers' texts (the correlation groups are encoded afresh each time).
std::map<std::string, const std::string*> computer_texts(const StateParts& parts) {
  std::map<std::string, const std::string*> out;
  for (const StatePart& p : parts) {
    if (p.key.starts_with("session/host/") || p.key.starts_with("session/sids/"))
      out[p.key] = p.value.shared().get();
  }
  return out;
}

// A checkpoint hands on the text it was given last time for a computer without events since:
// only the changed computers are encoded again, and the texts still rebuild the same detector.
TEST(StateParts, AFullSnapshotEncodesOnlyTheComputersThatChanged) {
  auto running = live_detector();
  ASSERT_TRUE(running);
  feed(*running, 0, 500);
  StateParts first, second, third;
  running->snapshot_parts(false, first);
  running->snapshot_parts(false, second);
  const auto before = computer_texts(first);
  EXPECT_EQ(computer_texts(second), before) << "nothing changed: no computer encoded again";
  ASSERT_TRUE(before.count("session/host/ws-1"));
  feed(*running, 601, 602);  // one logon on ws-1
  running->snapshot_parts(false, third);
  const auto after = computer_texts(third);
  ASSERT_EQ(after.size(), 10u);
  for (const auto& [key, text] : after) {
    if (key == "session/host/ws-1") {
      EXPECT_NE(text, before.at(key)) << "changed: encoded again";
      EXPECT_NE(*text, *before.at(key));
    } else {
      EXPECT_EQ(text, before.at(key)) << key << " did not change: its text is handed on";
    }
  }
  StatePartMap saved;
  apply_changes(third, saved);
  auto restored = live_detector();
  std::string error;
  ASSERT_TRUE(restored->restore_parts(saved, error)) << error;
  EXPECT_EQ(all_parts(*restored), saved) << "the handed-on texts are what encoding gives now";
}

}  // namespace
}  // namespace sw
