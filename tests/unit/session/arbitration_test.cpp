// Console arbitration: the successful takeover (real capture), the refused takeover (crafted,
// the inferred 7063/7062) and the near misses that must stay quiet.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "sessionwatch/alert_json.hpp"
#include "unit/session/event_builder.hpp"
#include "unit/session/velociraptor_events.hpp"

namespace sw::test {
namespace {

constexpr std::string_view kAliceSid = "S-1-5-21-3623811015-3361044348-30300820-1104";
constexpr std::string_view kBobSid = "S-1-5-21-3623811015-3361044348-30300820-1107";

TrackerOptions scan_options() {
  TrackerOptions o;
  o.reorder_window = 24 * 3600 * kTicksPerSecond;  // whole files, read one after another
  return o;
}

void expect_velociraptor_takeover(const Collector& c) {
  const auto takeovers = c.of_kind("console_takeover");
  ASSERT_EQ(takeovers.size(), 1u);
  const Event& e = takeovers[0]->event;
  EXPECT_EQ(e.channel(), "sessionwatch");
  EXPECT_EQ(e.provider_name(), "sessionwatch");
  EXPECT_EQ(e.computer(), "dc.windomain.local");
  EXPECT_EQ(e.event_id, derived::kConsoleTakeover);
  EXPECT_EQ(e.payload("TargetUser"), "vagrant");
  EXPECT_EQ(e.payload("TargetDomain"), "WINDOMAIN");
  EXPECT_EQ(e.payload("SessionID"), "1");
  EXPECT_EQ(e.payload("ClientAddress"), "192.168.38.1");
  EXPECT_EQ(e.payload("ConsoleUser"), "vagrant");
  EXPECT_EQ(e.payload("ConsoleDomain"), "WINDOMAIN");
  EXPECT_EQ(e.payload("ConsoleSessionID"), "1");
  EXPECT_EQ(e.payload("ConsoleState"), "active");
  EXPECT_EQ(e.payload("ActivityID"), kRdpActivity);
  EXPECT_EQ(e.payload("Detection"), "observed");
  // Arbitration began with TS-LSM 41 and completed with the reconnect (25) of session 1.
  EXPECT_EQ(e.payload("StartTime"), "2021-02-12T12:34:28.2166221Z");
  EXPECT_EQ(format_time(e.time_created), "2021-02-12T12:34:30.9512982Z");
  // The console session was held since the Winlogon logon notification of session 1.
  EXPECT_EQ(e.payload("ConsoleSince"), "2021-02-12T12:33:51.9425973Z");
  const auto& evidence = takeovers[0]->evidence;
  auto has = [&](std::string_view channel, std::uint64_t record) {
    return std::any_of(evidence.begin(), evidence.end(), [&](const EvidenceRef& r) {
      return r.channel == channel && r.record_id == record;
    });
  };
  EXPECT_TRUE(has(kLsmChannel, 171)) << "41 begin";
  EXPECT_TRUE(has(kLsmChannel, 172)) << "40 reason 5";
  EXPECT_TRUE(has(kLsmChannel, 176)) << "25 reconnect";
  EXPECT_TRUE(has(kLsmChannel, 177)) << "42 end";
  EXPECT_TRUE(has(kRcmChannel, 35)) << "1149";
  EXPECT_TRUE(has("Security", 506508)) << "4624 type 10";
  EXPECT_TRUE(has("Security", 506516)) << "4779 Console";
  EXPECT_TRUE(c.of_kind("arbitration_refused").empty());
  EXPECT_TRUE(c.alerts.empty());
}

TEST(Arbitration, VelociraptorCaptureGivesOneTakeoverReadFileByFile) {
  Harness h(scan_options());
  h.run(velociraptor_by_file());
  expect_velociraptor_takeover(h.collector);
  // After the takeover session 1 is remote; then vagrant logs off.
  EXPECT_EQ(h.tracker.console(kDc).state, ConsoleState::kNone);
  EXPECT_TRUE(h.tracker.sessions(kDc).empty());
  EXPECT_EQ(h.tracker.stats().takeovers, 1u);
}

TEST(Arbitration, VelociraptorCaptureInTimeOrderWithTheDefaultWindow) {
  std::vector<Event> all = velociraptor_by_file();
  std::stable_sort(all.begin(), all.end(),
                   [](const Event& a, const Event& b) { return a.time_created < b.time_created; });
  Harness h;
  h.run(all);
  expect_velociraptor_takeover(h.collector);
}

TEST(Arbitration, VelociraptorCaptureShuffledWithinTheWindow) {
  std::vector<Event> all = velociraptor_by_file();
  std::mt19937 rng(7063);
  std::shuffle(all.begin(), all.end(), rng);
  Harness h(scan_options());
  h.run(all);
  expect_velociraptor_takeover(h.collector);
}

TEST(Arbitration, VelociraptorTimelineTellsTheStory) {
  Harness h(scan_options());
  h.run(velociraptor_by_file());
  std::vector<std::string> kinds;
  for (const TimelineEntry& t : h.tracker.timeline(kDc)) kinds.push_back(t.kind);
  const std::vector<std::string> expected = {
      "session_logon",       // 4624 type 2 (console)
      "session_logon",       // 4624 type 10 from 192.168.38.1
      "session_disconnect",  // 4779 Console
      "session_reconnect",   // 4778 RDP-Tcp#0
      "console_takeover",    // decided after the grace period
      "session_logoff",      // 4634 of the type-10 logon
      "session_logoff",      // 4647 of session 1
  };
  EXPECT_EQ(kinds, expected) << render_timeline(h.tracker);
}

// The refused takeover, shaped like the bundled demo: alice holds the (locked) console, bob's RDP
// logon authenticates, arbitration begins and ends with no session for him.
std::vector<Event> refused_sequence(std::string_view start_hms, std::uint64_t base_record,
                                    std::string_view activity, std::string_view logon_id,
                                    std::string_view session_id) {
  const std::string day = "2026-11-20T";
  const std::string hm(start_hms.substr(0, 6));
  const int s = std::stoi(std::string(start_hms.substr(6, 2)));
  auto ts = [&](int ds) {
    const int sec = s + ds;
    return day + hm + (sec < 10 ? "0" : "") + std::to_string(sec) + ".1000000Z";
  };
  EventBuilder connect = rcm1149(ts(0), base_record, "bob", "CORP", "10.20.30.41");
  return {
      connect.build(),
      logon(ts(1), base_record + 1, "bob", "CORP", kBobSid, 10, logon_id, "10.20.30.41"),
      lsm(41, ts(1), base_record + 2, {{"User", "CORP\\bob"}, {"SessionID", session_id}}, activity),
      lsm(42, ts(3), base_record + 3, {{"User", "CORP\\bob"}, {"SessionID", session_id}}, activity),
      lsm(40, ts(3), base_record + 4, {{"Session", session_id}, {"Reason", "0"}}, activity),
      logoff(ts(4), base_record + 5, "bob", "CORP", 10, logon_id)};
}

std::vector<Event> alice_at_the_console(bool locked) {
  std::vector<Event> events = {
      logon("2026-11-20T08:01:10.1234567Z", 1, "alice", "CORP", kAliceSid, 2, "0x5a1f2"),
      system("Microsoft-Windows-Winlogon", 7001, "2026-11-20T08:01:11Z", 2,
             {{"TSId", "1"}, {"UserSid", kAliceSid}}),
      lsm(21, "2026-11-20T08:01:12.5Z", 3,
          {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}},
          "{6A3F0E11-2B7C-4D4E-9A10-000000000001}")};
  if (locked) {
    events.push_back(security(4800, "2026-11-20T12:15:00Z", 4,
                              {{"TargetUserSid", kAliceSid},
                               {"TargetUserName", "alice"},
                               {"TargetDomainName", "CORP"},
                               {"TargetLogonId", "0x5a1f2"},
                               {"SessionId", "1"}}));
  }
  return events;
}

TEST(Arbitration, RefusedTakeoverGivesOneInferred7063NamingTheConsoleHolder) {
  Harness h;
  std::vector<Event> events = alice_at_the_console(true);
  for (Event& e : refused_sequence("13:02:05", 100, "{9C1D2E3F-4A5B-4C6D-8E9F-000000000002}",
                                   "0x7b3c1", "2")) {
    events.push_back(e);
  }
  h.run(events);
  const auto refused = h.collector.of_kind("arbitration_refused");
  ASSERT_EQ(refused.size(), 1u);
  const Event& e = refused[0]->event;
  EXPECT_EQ(e.event_id, derived::kArbitrationRefused);
  EXPECT_EQ(e.payload("Detection"), "inferred");
  EXPECT_EQ(e.payload("ErrorCode"), "7063");
  EXPECT_EQ(e.payload("TargetUser"), "bob");
  EXPECT_EQ(e.payload("TargetDomain"), "CORP");
  EXPECT_EQ(e.payload("SessionID"), "2");
  EXPECT_EQ(e.payload("ClientAddress"), "10.20.30.41");
  EXPECT_EQ(e.payload("ConsoleUser"), "alice");
  EXPECT_EQ(e.payload("ConsoleDomain"), "CORP");
  EXPECT_EQ(e.payload("ConsoleSessionID"), "1");
  EXPECT_EQ(e.payload("ConsoleState"), "locked");
  EXPECT_EQ(e.payload("ConsoleSince"), "2026-11-20T12:15:00.0000000Z");
  // The console holder was locked away: a console_idle event says so.
  EXPECT_EQ(h.collector.of_kind("console_idle").size(), 1u);
  EXPECT_TRUE(h.collector.of_kind("console_takeover").empty());

  ASSERT_EQ(h.collector.alerts.size(), 1u);
  const nlohmann::json doc = alert_to_json(h.collector.alerts[0]);
  EXPECT_EQ(doc["sessionwatch"]["detection"], "inferred");
  EXPECT_EQ(doc["sessionwatch"]["console"]["user"], "alice");
  EXPECT_EQ(doc["sessionwatch"]["console"]["source"]["user"], "tracker");
  EXPECT_EQ(doc["error"]["code"], "7063");
  EXPECT_EQ(doc["user"]["name"], "bob");
  EXPECT_EQ(doc["source"]["ip"], "10.20.30.41");
  EXPECT_EQ(doc["rule"]["id"], BuiltinDetections::inferred_rule().id);
  // Evidence: the 1149, 4624, 41, 42 and 40 of the attempt.
  std::vector<std::uint32_t> ids;
  for (const auto& ev : doc["sessionwatch"]["evidence"]) ids.push_back(ev["event_id"]);
  for (std::uint32_t want : {1149u, 4624u, 41u, 42u, 40u}) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), want), ids.end()) << want;
  }
  EXPECT_EQ(h.tracker.console("WS-FIN-07").user, "alice") << "alice keeps the console";
}

TEST(Arbitration, RepeatedRefusalsAreCountedPerRequester) {
  Harness h;
  std::vector<Event> events = alice_at_the_console(false);
  for (auto [t, rec, act, logon_id, sid] :
       {std::tuple{"13:02:05", 100, "{9C1D2E3F-4A5B-4C6D-8E9F-000000000002}", "0x7b3c1", "2"},
        std::tuple{"13:20:40", 200, "{9C1D2E3F-4A5B-4C6D-8E9F-000000000003}", "0x7c002", "3"},
        std::tuple{"14:40:10", 300, "{9C1D2E3F-4A5B-4C6D-8E9F-000000000004}", "0x7d003", "4"}}) {
    for (Event& e : refused_sequence(t, static_cast<std::uint64_t>(rec), act, logon_id, sid)) {
      events.push_back(e);
    }
  }
  h.run(events);
  ASSERT_EQ(h.collector.alerts.size(), 3u);
  EXPECT_EQ(alert_to_json(h.collector.alerts[0])["sessionwatch"]["attempt"]["count_last_hour"], 1);
  EXPECT_EQ(alert_to_json(h.collector.alerts[1])["sessionwatch"]["attempt"]["count_last_hour"], 2);
  // 14:40 is more than an hour after 13:20.
  EXPECT_EQ(alert_to_json(h.collector.alerts[2])["sessionwatch"]["attempt"]["count_last_hour"], 1);
  EXPECT_TRUE(h.collector.of_kind("console_idle").empty()) << "alice is at her desk";
}

TEST(Arbitration, RefusedWhileAnotherUsersRemoteSessionIsInUseGives7062) {
  Harness h;
  std::vector<Event> events = {
      lsm(21, "2026-11-20T13:00:00Z", 1,
          {{"User", "CORP\\carol"}, {"SessionID", "2"}, {"Address", "10.20.30.50"}})};
  for (Event& e : refused_sequence("13:02:05", 100, "{9C1D2E3F-4A5B-4C6D-8E9F-000000000002}",
                                   "0x7b3c1", "3")) {
    events.push_back(e);
  }
  h.run(events);
  const auto refused = h.collector.of_kind("arbitration_refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]->event.payload("ErrorCode"), "7062");
  EXPECT_EQ(refused[0]->event.payload("ConsoleUser"), "carol");
  ASSERT_EQ(h.collector.alerts.size(), 1u);
  EXPECT_EQ(alert_to_json(h.collector.alerts[0])["error"]["code"], "7062");
}

TEST(Arbitration, RefusalWithNobodyKnownAtTheConsoleIsNotGuessed) {
  Harness h;
  h.run(
      refused_sequence("13:02:05", 100, "{9C1D2E3F-4A5B-4C6D-8E9F-000000000002}", "0x7b3c1", "2"));
  EXPECT_TRUE(h.collector.of_kind("arbitration_refused").empty());
  EXPECT_TRUE(h.collector.alerts.empty());
}

TEST(Arbitration, SuccessfulTakeoverOfAnotherUsersConsoleIsATakeoverNotARefusal) {
  // Client edition: bob's RDP logon disconnects alice's console session and gets its own.
  Harness h;
  std::vector<Event> events = alice_at_the_console(false);
  const std::string_view act = "{9C1D2E3F-4A5B-4C6D-8E9F-0000000000AA}";
  events.push_back(rcm1149("2026-11-20T13:02:05Z", 100, "bob", "CORP", "10.20.30.41"));
  events.push_back(
      logon("2026-11-20T13:02:06Z", 101, "bob", "CORP", kBobSid, 10, "0x7b3c1", "10.20.30.41"));
  events.push_back(
      lsm(41, "2026-11-20T13:02:06.1Z", 102, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, act));
  events.push_back(lsm(40, "2026-11-20T13:02:06.5Z", 103, {{"Session", "1"}, {"Reason", "5"}}));
  events.push_back(lsm(24, "2026-11-20T13:02:07Z", 104,
                       {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}));
  events.push_back(lsm(21, "2026-11-20T13:02:08Z", 105,
                       {{"User", "CORP\\bob"}, {"SessionID", "2"}, {"Address", "10.20.30.41"}},
                       act));
  events.push_back(
      lsm(42, "2026-11-20T13:02:08.1Z", 106, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, act));
  h.run(events);
  const auto takeovers = h.collector.of_kind("console_takeover");
  ASSERT_EQ(takeovers.size(), 1u);
  EXPECT_EQ(takeovers[0]->event.payload("TargetUser"), "bob");
  EXPECT_EQ(takeovers[0]->event.payload("ConsoleUser"), "alice");
  EXPECT_EQ(takeovers[0]->event.payload("SessionID"), "2");
  EXPECT_TRUE(h.collector.of_kind("arbitration_refused").empty());
  EXPECT_TRUE(h.collector.alerts.empty());
  EXPECT_EQ(h.tracker.console("WS-FIN-07").state, ConsoleState::kDisconnected);
}

// An event as text: its identity and every field, in order.
std::string describe(const Event& e) {
  std::string out = std::string(e.channel()) + "/" + std::to_string(e.event_id) + "/" +
                    std::to_string(e.record_id) + "/" + format_time(e.time_created) + "/" +
                    std::string(e.computer());
  for (const Field& f : e.fields())
    out += " " + std::string(field_name(f.id)) + "=" + std::string(e.value(f));
  return out;
}

// A sink that wants one kind of derived event (the built-in detections want only inferred
// refusals) gets exactly those, the same as a sink that wants all would, and the tracker ends in
// the same state: skipping the others only skips building them.
TEST(Arbitration, ASinkWantingOneKindGetsExactlyThoseAndTheStateIsTheSame) {
  std::vector<Event> events = alice_at_the_console(true);
  for (Event& e : refused_sequence("13:02:05", 100, "{9C1D2E3F-4A5B-4C6D-8E9F-000000000002}",
                                   "0x7b3c1", "2")) {
    events.push_back(e);
  }
  for (Event& e : velociraptor_by_file()) events.push_back(e);
  Harness all(scan_options()), one(scan_options());
  one.collector.wanted = {derived::kArbitrationRefused};
  all.run(events);
  one.run(events);

  std::vector<std::string> expected, got;
  for (const auto& d : all.collector.derived) {
    if (d.event.event_id == derived::kArbitrationRefused) expected.push_back(describe(d.event));
  }
  for (const auto& d : one.collector.derived) got.push_back(describe(d.event));
  ASSERT_EQ(expected.size(), 1u);
  EXPECT_EQ(got, expected);
  EXPECT_GT(all.collector.derived.size(), 5u);  // sessions, a takeover, console_idle ...
  EXPECT_EQ(one.tracker.stats().derived_events, all.tracker.stats().derived_events);
  EXPECT_EQ(one.tracker.snapshot(), all.tracker.snapshot());
  ASSERT_EQ(one.collector.events.size(), all.collector.events.size());
  for (std::size_t i = 0; i < all.collector.events.size(); ++i)
    EXPECT_EQ(describe(one.collector.events[i]), describe(all.collector.events[i])) << i;
  std::vector<std::string> alerts_all, alerts_one;
  for (const Alert& a : all.collector.alerts) alerts_all.push_back(alert_to_json(a).dump());
  for (const Alert& a : one.collector.alerts) alerts_one.push_back(alert_to_json(a).dump());
  EXPECT_EQ(alerts_one, alerts_all);
}

// A sink that wants only the events reporting an error (the built-in detections) gets those,
// enriched as a sink that wants every event gets them, and the same derived events; the tracker
// ends in the same state: the others are only not enriched nor handed over.
TEST(Arbitration, ASinkWantingOnlyErrorEventsGetsThemEnrichedTheSame) {
  std::vector<Event> events = alice_at_the_console(true);
  for (Event& e : refused_sequence("13:02:05", 100, "{9C1D2E3F-4A5B-4C6D-8E9F-000000000002}",
                                   "0x7b3c1", "2")) {
    events.push_back(e);
  }
  // A tool's report of the refusal, which the recognizer reads as 7063.
  events.push_back(
      system("Contoso-SeatReclaimer", 1001, "2026-11-20T13:02:07Z", 300,
             {{"TargetUserName", "bob"}, {"TargetDomainName", "CORP"}, {"Win32Status", "7063"}}));
  for (Event& e : velociraptor_by_file()) events.push_back(e);
  const auto reports_error = [](const Event& e) {
    return e.payload("sessionwatch.error_code").has_value();
  };
  Harness all(scan_options()), some(scan_options());
  some.collector.event_filter = reports_error;
  all.run(events);
  some.run(events);

  std::vector<std::string> expected, got;
  for (const Event& e : all.collector.events)
    if (reports_error(e)) expected.push_back(describe(e));
  for (const Event& e : some.collector.events) got.push_back(describe(e));
  ASSERT_EQ(expected.size(), 1u);
  EXPECT_NE(expected[0].find("sessionwatch.console_user=CORP\\alice"), std::string::npos)
      << expected[0];
  EXPECT_EQ(got, expected);
  EXPECT_GT(all.collector.events.size(), 20u);
  ASSERT_EQ(some.collector.derived.size(), all.collector.derived.size());
  for (std::size_t i = 0; i < all.collector.derived.size(); ++i)
    EXPECT_EQ(describe(some.collector.derived[i].event), describe(all.collector.derived[i].event));
  EXPECT_EQ(some.tracker.stats().events_out, all.tracker.stats().events_out);
  EXPECT_EQ(some.tracker.snapshot(), all.tracker.snapshot());
}

TEST(Arbitration, DerivedEventIdsAreDeterministic) {
  auto run = [] {
    Harness h(scan_options());
    h.run(velociraptor_by_file());
    std::vector<std::uint64_t> ids;
    for (const auto& d : h.collector.derived) ids.push_back(d.event.record_id);
    return ids;
  };
  const auto a = run();
  const auto b = run();
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  std::vector<std::uint64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "ids are unique";
}

}  // namespace
}  // namespace sw::test
