// The tracker's state survives a restart: its snapshot text restored into a new tracker (the
// daemon stores it in the state file, tests/unit/daemon/state_test.cpp).
#include <gtest/gtest.h>

#include "unit/session/event_builder.hpp"

namespace sw::test {
namespace {

constexpr std::string_view kAliceSid = "S-1-5-21-3623811015-3361044348-30300820-1104";

std::vector<Event> a_busy_morning() {
  const std::string_view act = "{9C1D2E3F-4A5B-4C6D-8E9F-000000000002}";
  return {
      logon("2026-11-20T08:01:10Z", 1, "alice", "CORP", kAliceSid, 2, "0x5a1f2"),
      lsm(21, "2026-11-20T08:01:12.5Z", 2,
          {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
      security(4800, "2026-11-20T12:15:00Z", 3,
               {{"TargetUserSid", kAliceSid},
                {"TargetUserName", "alice"},
                {"TargetDomainName", "CORP"},
                {"TargetLogonId", "0x5a1f2"},
                {"SessionId", "1"}}),
      lsm(21, "2026-11-20T12:20:00Z", 4,
          {{"User", "CORP\\carol"}, {"SessionID", "3"}, {"Address", "10.20.30.50"}}),
      rcm1149("2026-11-20T13:02:05Z", 100, "bob", "CORP", "10.20.30.41"),
      lsm(41, "2026-11-20T13:02:06Z", 102, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, act),
      lsm(42, "2026-11-20T13:02:08Z", 103, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, act),
  };
}

TEST(Snapshot, RoundTripKeepsConsoleSessionsAndAttempts) {
  Harness before;
  before.run(a_busy_morning());
  const std::string text = before.tracker.snapshot();

  Harness after;
  std::string error;
  ASSERT_TRUE(after.tracker.restore(text, error)) << error;
  EXPECT_EQ(after.tracker.snapshot(), text);
  const ConsoleInfo c = after.tracker.console("WS-FIN-07");
  EXPECT_EQ(c.user, "alice");
  EXPECT_EQ(c.state, ConsoleState::kLocked);
  EXPECT_EQ(c.session_id, 1u);
  EXPECT_EQ(c.since, at("2026-11-20T12:15:00Z"));
  EXPECT_EQ(after.tracker.sessions("WS-FIN-07").size(),
            before.tracker.sessions("WS-FIN-07").size());

  // The restored tracker carries on: the refusal counted before the restart counts after it.
  Event probe = security(4625, "2026-11-20T13:05:00Z", 200,
                         {{"TargetUserName", "bob"}, {"TargetDomainName", "CORP"}});
  const AlertContext ctx = after.tracker.alert_context(probe);
  EXPECT_EQ(ctx.attempts_last_hour, 1u);
  ASSERT_TRUE(ctx.recent_refusal.has_value());
  EXPECT_EQ(ctx.recent_refusal->user, "bob");
  EXPECT_EQ(ctx.recent_refusal->address, "10.20.30.41");
  after.run({lsm(23, "2026-11-20T17:45:01Z", 5, {{"User", "CORP\\alice"}, {"SessionID", "1"}})});
  EXPECT_EQ(after.tracker.console("WS-FIN-07").state, ConsoleState::kNone);
  EXPECT_EQ(after.collector.kinds(), std::vector<std::string>{"session_logoff"});
}

TEST(Snapshot, RejectsOtherVersionsAndGarbageWithoutChangingState) {
  Harness h;
  h.run(a_busy_morning());
  const std::string good = h.tracker.snapshot();
  std::string error;
  std::string future = good;
  const std::string version_key = "\"version\":1";
  ASSERT_NE(future.find(version_key), std::string::npos);
  future.replace(future.find(version_key), version_key.size(), "\"version\":99");
  EXPECT_FALSE(h.tracker.restore(future, error));
  EXPECT_NE(error.find("version 99"), std::string::npos) << error;
  for (std::string_view bad : {"", "{", "[]", "{\"format\":\"other\"}",
                               "{\"format\":\"sessionwatch-session-tracker\",\"version\":1}"}) {
    error.clear();
    EXPECT_FALSE(h.tracker.restore(bad, error)) << bad;
    EXPECT_FALSE(error.empty());
  }
  EXPECT_EQ(h.tracker.snapshot(), good);
}

// A host's keys added after version 1 was first written (last_released, last_sweep,
// last_logon_ageing) may be missing; short_name and multi_session are written only when set.
TEST(Snapshot, OlderHostsWithoutLaterKeysRestoreAndUnsetKeysAreNotWritten) {
  Harness before;
  before.run(a_busy_morning());
  std::string text = before.tracker.snapshot();
  // alice at the console and carol from afar at once: a multi-session host.
  EXPECT_NE(text.find("\"multi_session\":true"), std::string::npos) << text;
  EXPECT_EQ(text.find("\"short_name\""), std::string::npos);  // events spelled the DNS name only
  Harness single;
  single.run({a_busy_morning().front()});
  EXPECT_EQ(single.tracker.snapshot().find("\"multi_session\""), std::string::npos);
  for (std::string_view key : {"last_released", "last_sweep", "last_logon_ageing"}) {
    const std::string quoted = "\"" + std::string(key) + "\":";
    const auto at_key = text.find(quoted);
    ASSERT_NE(at_key, std::string::npos) << key;
    text.erase(at_key, text.find(',', at_key) + 1 - at_key);
  }
  Harness after;
  std::string error;
  ASSERT_TRUE(after.tracker.restore(text, error)) << error;
  EXPECT_EQ(after.tracker.console("WS-FIN-07").user, "alice");
  const std::string resaved = after.tracker.snapshot();
  EXPECT_NE(resaved.find("\"last_sweep\":0"), std::string::npos) << resaved;

  std::string missing_required = before.tracker.snapshot();
  const auto rebooted = missing_required.find("\"rebooted\":");
  ASSERT_NE(rebooted, std::string::npos);
  missing_required.erase(rebooted, missing_required.find(',', rebooted) + 1 - rebooted);
  EXPECT_FALSE(after.tracker.restore(missing_required, error));
  EXPECT_NE(error.find("rebooted"), std::string::npos) << error;
}

}  // namespace
}  // namespace sw::test

namespace sw::test {
namespace {

// The restored logons are found again by the lookups that go through the tracker's indexes:
// the console known only from Security, the token twin a logoff also ends, and an RDP logon a
// later TS-LSM session takes over.
TEST(Snapshot, RestoredLogonsAreFoundByConsoleTwinsAndLinking) {
  Harness before;
  before.run({logon("2026-11-20T08:00:00Z", 1, "alice", "CORP", kAliceSid, 2, "0xa1"),
              logon("2026-11-20T08:00:00.2Z", 2, "alice", "CORP", kAliceSid, 2, "0xa2"),
              logon("2026-11-20T09:00:00Z", 3, "bob", "CORP", "S-1-5-21-1-2-3-1107", 10, "0xb1",
                    "10.0.0.7")});
  Harness after;
  std::string error;
  ASSERT_TRUE(after.tracker.restore(before.tracker.snapshot(), error)) << error;
  EXPECT_EQ(after.tracker.console("WS-FIN-07").user, "alice");
  EXPECT_EQ(after.tracker.console("WS-FIN-07").state, ConsoleState::kActive);

  after.run({lsm(21, "2026-11-20T09:00:01Z", 10,
                 {{"User", "CORP\\bob"}, {"SessionID", "2"}, {"Address", "10.0.0.7"}}),
             logoff("2026-11-20T10:00:00Z", 11, "alice", "CORP", 2, "0xa1")});
  // Both of alice's tokens ended, so the console is free from the logoff on.
  EXPECT_EQ(after.tracker.console("WS-FIN-07").state, ConsoleState::kNone);
  EXPECT_EQ(after.tracker.console("WS-FIN-07").since, at("2026-11-20T10:00:00Z"));
  const auto records = after.tracker.sessions("WS-FIN-07");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].user, "bob");
  EXPECT_EQ(records[0].session_id, 2u);
  EXPECT_EQ(records[0].logon_id, 0xb1u);
  // bob's logon was announced before the snapshot: his session is not announced again.
  EXPECT_TRUE(after.collector.of_kind("session_logon").empty());
}

}  // namespace
}  // namespace sw::test
