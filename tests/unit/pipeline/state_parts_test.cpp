// The detector's state as parts (Detector::snapshot_parts): the daemon's checkpoints append only
// the parts changed since the previous checkpoint and rebuild the detector from them after a
// crash. The promise: a detector restored from the parts written so far holds the same state and
// raises the same alerts, with the same ids, as the one that never stopped.
#include <gtest/gtest.h>

#include <algorithm>

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

// The same parts, but for how SID names and logons are split (the restored detector settles the
// entries the running one keeps as changed): those are compared in the tracker's whole snapshot.
void expect_same_state(Detector& restored, Detector& running) {
  const auto without_layers = [](StatePartMap parts) {
    std::erase_if(parts, [](const auto& part) {
      return part.first.find("sids/") != std::string::npos ||
             part.first.find("logons/") != std::string::npos;
    });
    return parts;
  };
  EXPECT_EQ(without_layers(all_parts(restored)), without_layers(all_parts(running)));
  EXPECT_EQ(restored.tracker().snapshot(), running.tracker().snapshot());
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
  expect_same_state(*restored, *running);
  // The same alerts, with the same ids, from here on: correlations completed by later events
  // included.
  const auto want = feed(*running, 1221, 1800);
  const auto got = feed(*restored, 1221, 1800);
  EXPECT_EQ(got, want);
  std::size_t correlations = 0;
  for (const auto& [key, value] : saved) correlations += key.starts_with("rules/");
  EXPECT_GT(correlations, 0u);
}

TEST(StateParts, TheLastPartsAreMadeAsTheyAreReadAndRestoreTheSameDetector) {
  auto running = live_detector();
  ASSERT_TRUE(running);
  feed(*running, 0, 400);
  StateParts changes;
  running->snapshot_parts(true, changes);  // settled then, changed after: both layers in play
  feed(*running, 400, 900);
  StateParts last;
  running->last_parts(last);
  StatePartMap saved;
  std::size_t made_later = 0;
  for (const StatePart& p : last) {
    if (p.encode_when_written) {
      ++made_later;
      EXPECT_FALSE(p.value) << p.key << ": made at once";
      const PartText text = p.encode_when_written();
      ASSERT_TRUE(text) << p.key;
      saved[p.key] = *text;
    } else if (p.value) {
      saved[p.key] = *p.value;
    }
  }
  EXPECT_EQ(made_later, 3u * 5u) << "each computer's host, logons and SID names";
  EXPECT_EQ(
      std::count_if(saved.begin(), saved.end(),
                    [](const auto& part) { return part.first.find("/new") != std::string::npos; }),
      0)
      << "no layer of changes: every collection whole";
  auto restored = live_detector();
  std::string error;
  ASSERT_TRUE(restored->restore_parts(saved, error)) << error;
  expect_same_state(*restored, *running);
  EXPECT_EQ(feed(*restored, 900, 1400), feed(*running, 900, 1400));
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
  EXPECT_EQ(keys, (std::vector<std::string>{"session/tracker", "session/host/ws-1",
                                            "session/newlogons/ws-1"}))
      << "the user's SID was seen before: its name map is unchanged; the new logon only";
  EXPECT_EQ(nlohmann::json::parse(*parts.back().value)["logons"].size(), 1u);
  parts.clear();
  detector->snapshot_parts(true, parts);
  EXPECT_EQ(parts.size(), 1u) << "nothing changed since: the header only";
}

// The computers' texts (the correlation groups are encoded afresh each time).
std::map<std::string, const std::string*> computer_texts(const StateParts& parts) {
  std::map<std::string, const std::string*> out;
  for (const StatePart& p : parts) {
    if (p.key != "session/tracker" && p.key.starts_with("session/"))
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
  ASSERT_EQ(after.size(), 16u) << "5 computers' host, logons and SID names, and ws-1's new logon";
  for (const auto& [key, text] : after) {
    if (key == "session/newlogons/ws-1") {
      EXPECT_FALSE(before.count(key));
    } else if (key == "session/host/ws-1") {
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
  // The handed-on texts are what encoding gives now.
  expect_same_state(*restored, *running);
}

// A console logon on `host` by a user of SID ...-<account> named `user`.
std::string named_logon_json(const std::string& host, int account, const std::string& user,
                             int record) {
  nlohmann::json j;
  j["@timestamp"] = "2026-11-02T09:00:00.000Z";
  j["host"]["name"] = host;
  j["winlog"] = {{"channel", "Security"},
                 {"provider_name", "Microsoft-Windows-Security-Auditing"},
                 {"event_id", "4624"},
                 {"record_id", std::to_string(record)},
                 {"computer_name", host},
                 {"event_data",
                  {{"TargetUserName", user},
                   {"TargetDomainName", "CONTOSO"},
                   {"TargetUserSid", "S-1-5-21-7-8-9-" + std::to_string(account)},
                   {"TargetLogonId", "0x" + std::to_string(record)},
                   {"LogonType", "2"},
                   {"IpAddress", "-"}}}};
  return j.dump();
}

// Accounts [from, to) log on to `host`, named "u<account><suffix>".
void name_accounts(Detector& detector, int from, int to, const std::string& suffix = "",
                   const std::string& host = "ws-9") {
  static int record = 1;
  JsonLineDecoder decoder;
  Event e;
  std::string error;
  for (int account = from; account < to; ++account) {
    e.clear();
    ASSERT_TRUE(decoder.decode(
        named_logon_json(host, account, "u" + std::to_string(account) + suffix, ++record), e,
        error))
        << error;
    detector.process(e, [](Alert&&) {});
  }
}

std::map<std::string, std::size_t> names_per_part(const StateParts& parts) {
  std::map<std::string, std::size_t> out;
  for (const StatePart& p : parts) {
    if (p.key.find("sids/") == std::string::npos) continue;
    out[p.key] = p.value ? nlohmann::json::parse(*p.value).size() : ~std::size_t{0};
  }
  return out;
}

// A checkpoint costs the SID names added since the last one, not the host's whole map: they go
// to a small part of their own until they outgrow a fraction of the settled names.
TEST(StateParts, NewSidNamesAreSavedApartFromTheSettledOnes) {
  auto running = live_detector();
  ASSERT_TRUE(running);
  StatePartMap saved;
  name_accounts(*running, 0, 200);
  StateParts parts;
  running->snapshot_parts(true, parts);
  EXPECT_EQ(names_per_part(parts),
            (std::map<std::string, std::size_t>{{"session/sids/ws-9", 200}}));
  apply_changes(parts, saved);
  parts.clear();
  name_accounts(*running, 200, 205);
  running->snapshot_parts(true, parts);
  EXPECT_EQ(names_per_part(parts),
            (std::map<std::string, std::size_t>{{"session/newsids/ws-9", 5}}))
      << "the 5 names added, the settled 200 not written again";
  apply_changes(parts, saved);
  parts.clear();
  name_accounts(*running, 205, 240);
  running->snapshot_parts(true, parts);
  EXPECT_EQ(names_per_part(parts),
            (std::map<std::string, std::size_t>{{"session/sids/ws-9", 240},
                                                {"session/newsids/ws-9", ~std::size_t{0}}}))
      << "40 new names are more than the minimum and an eighth of 200: merged, the part removed";
  apply_changes(parts, saved);
  auto restored = live_detector();
  std::string error;
  ASSERT_TRUE(restored->restore_parts(saved, error)) << error;
  expect_same_state(*restored, *running);
}

void process_json(Detector& detector, const std::string& line) {
  JsonLineDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(decoder.decode(line, e, error)) << error;
  detector.process(e, [](Alert&&) {});
}

// The logoff of the logon `named_logon_json` made with record `logon`.
std::string logoff_json(int account, int logon) {
  nlohmann::json j = nlohmann::json::parse(named_logon_json("ws-9", account, "u", logon + 1));
  j["winlog"]["event_id"] = "4634";
  j["winlog"]["event_data"]["TargetLogonId"] = "0x" + std::to_string(logon);
  return j.dump();
}

// As the SID names: a checkpoint saves the logons added, changed or gone since the settled ones.
TEST(StateParts, ChangedLogonsAreSavedApartFromTheSettledOnes) {
  auto running = live_detector();
  ASSERT_TRUE(running);
  StatePartMap saved;
  for (int i = 0; i < 40; ++i)
    process_json(*running, named_logon_json("ws-9", i, "u" + std::to_string(i), 700000 + 2 * i));
  StateParts parts;
  running->snapshot_parts(true, parts);
  EXPECT_EQ(nlohmann::json::parse(*parts.at(2).value).size(), 40u) << parts.at(2).key;
  apply_changes(parts, saved);
  parts.clear();
  process_json(*running, logoff_json(3, 700006));
  process_json(*running, named_logon_json("ws-9", 0, "u0", 700080));  // a known SID
  running->snapshot_parts(true, parts);
  std::vector<std::string> keys;
  for (const StatePart& p : parts) keys.push_back(p.key);
  ASSERT_EQ(keys, (std::vector<std::string>{"session/tracker", "session/host/ws-9",
                                            "session/newlogons/ws-9"}));
  const auto changes = nlohmann::json::parse(*parts.back().value);
  EXPECT_EQ(changes["logons"].size(), 1u) << "the new logon, not the 39 settled";
  EXPECT_EQ(changes["gone"], nlohmann::json::parse("[7340038]")) << "0x700006, logged off";
  apply_changes(parts, saved);
  auto restored = live_detector();
  std::string error;
  ASSERT_TRUE(restored->restore_parts(saved, error)) << error;
  expect_same_state(*restored, *running);
  EXPECT_EQ(restored->tracker().snapshot().find("7340038"), std::string::npos);
}

// Each logon counts once towards folding the new logons into the settled part, however often
// one event touches it (indexed, announced): 10 new logons stay a small part of their own.
TEST(StateParts, ALogonCountsOnceTowardsFoldingTheNewLogons) {
  auto running = live_detector();
  ASSERT_TRUE(running);
  for (int i = 0; i < 40; ++i)
    process_json(*running, named_logon_json("ws-9", i, "u" + std::to_string(i), 700000 + 2 * i));
  StateParts parts;
  running->snapshot_parts(true, parts);
  parts.clear();
  for (int i = 40; i < 50; ++i)
    process_json(*running, named_logon_json("ws-9", i, "u" + std::to_string(i), 700000 + 2 * i));
  running->snapshot_parts(true, parts);
  std::vector<std::string> keys;
  for (const StatePart& p : parts) keys.push_back(p.key);
  EXPECT_NE(std::find(keys.begin(), keys.end(), "session/newlogons/ws-9"), keys.end());
  EXPECT_EQ(std::find(keys.begin(), keys.end(), "session/logons/ws-9"), keys.end())
      << "10 new logons beside 40 settled are not folded (the threshold is 16)";
}

// A SID renamed since the settled part was written has its new name after a restart.
TEST(StateParts, ARenamedSidKeepsItsNewNameAcrossARestore) {
  auto running = live_detector();
  ASSERT_TRUE(running);
  StatePartMap saved = all_parts(*running);
  name_accounts(*running, 0, 50);
  StateParts parts;
  running->snapshot_parts(true, parts);
  apply_changes(parts, saved);
  parts.clear();
  name_accounts(*running, 10, 12, "-renamed");
  running->snapshot_parts(true, parts);
  EXPECT_EQ(names_per_part(parts),
            (std::map<std::string, std::size_t>{{"session/newsids/ws-9", 2}}));
  apply_changes(parts, saved);
  ASSERT_NE(saved.at("session/sids/ws-9").find("\"u10\""), std::string::npos);
  auto restored = live_detector();
  std::string error;
  ASSERT_TRUE(restored->restore_parts(saved, error)) << error;
  const std::string state = restored->tracker().snapshot();
  EXPECT_NE(state.find(R"("S-1-5-21-7-8-9-10":["CONTOSO","u10-renamed"])"), std::string::npos);
  EXPECT_EQ(state.find(R"("S-1-5-21-7-8-9-10":["CONTOSO","u10"])"), std::string::npos);
  EXPECT_EQ(state, running->tracker().snapshot());
  // A full snapshot holds both parts, and they rebuild the same state.
  auto again = live_detector();
  ASSERT_TRUE(again->restore_parts(all_parts(*running), error)) << error;
  expect_same_state(*again, *running);
}

// The tracker keeps one copy of each SID and account text for all computers: a SID one computer
// names differently from another (a local account, a rename not yet seen everywhere) keeps each
// computer's name, also when one of them renames it.
TEST(StateParts, OneSidNamedTwoWaysOnTwoComputersKeepsEachName) {
  auto running = live_detector();
  ASSERT_TRUE(running);
  name_accounts(*running, 0, 3, "", "ws-9");
  name_accounts(*running, 0, 3, "-local", "ws-8");
  name_accounts(*running, 1, 2, "-renamed", "ws-9");
  const StatePartMap saved = all_parts(*running);
  const std::string ws9 = saved.at("session/sids/ws-9"), ws8 = saved.at("session/sids/ws-8");
  EXPECT_NE(ws9.find(R"("S-1-5-21-7-8-9-1":["CONTOSO","u1-renamed"])"), std::string::npos) << ws9;
  EXPECT_NE(ws9.find(R"("S-1-5-21-7-8-9-2":["CONTOSO","u2"])"), std::string::npos) << ws9;
  EXPECT_NE(ws8.find(R"("S-1-5-21-7-8-9-1":["CONTOSO","u1-local"])"), std::string::npos) << ws8;
  EXPECT_NE(ws8.find(R"("S-1-5-21-7-8-9-2":["CONTOSO","u2-local"])"), std::string::npos) << ws8;
  auto restored = live_detector();
  std::string error;
  ASSERT_TRUE(restored->restore_parts(saved, error)) << error;
  expect_same_state(*restored, *running);
}

}  // namespace
}  // namespace sw
