// Session lifecycle and messy-log cases, table-driven: each case is a sequence of events and the
// console, sessions and derived events the tracker must end with.
#include <gtest/gtest.h>

#include <algorithm>

#include "sessionwatch/error_catalog.hpp"
#include "unit/session/event_builder.hpp"

namespace sw::test {
namespace {

constexpr std::string_view kAliceSid = "S-1-5-21-3623811015-3361044348-30300820-1104";
constexpr std::string_view kBobSid = "S-1-5-21-3623811015-3361044348-30300820-1107";

struct LifecycleCase {
  std::string name;
  std::vector<Event> events;
  ConsoleState state;
  std::string console_user;  // "" when none expected
  std::optional<std::uint32_t> console_session;
  std::vector<std::string> kinds;  // derived kinds, in order
  std::size_t open_sessions;
};

std::vector<LifecycleCase> lifecycle_cases() {
  std::vector<LifecycleCase> cases;
  cases.push_back({"ConsoleLogonFromTsLsm",
                   {lsm(21, "2026-11-20T08:00:00Z", 1,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
                    lsm(22, "2026-11-20T08:00:01Z", 2,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}})},
                   ConsoleState::kActive,
                   "alice",
                   1,
                   {"session_logon"},
                   1});
  cases.push_back({"SecurityAndTsLsmGiveOneLogon",
                   {logon("2026-11-20T08:00:00Z", 10, "alice", "CORP", kAliceSid, 2, "0x5a1f2"),
                    logon("2026-11-20T08:00:00.1Z", 11, "alice", "CORP", kAliceSid, 2, "0x5a1f3"),
                    lsm(21, "2026-11-20T08:00:01Z", 1,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}})},
                   ConsoleState::kActive,
                   "alice",
                   1,
                   {"session_logon"},
                   1});
  cases.push_back({"SecurityOnlyConsoleHasNoSessionId",
                   {logon("2026-11-20T08:00:00Z", 10, "alice", "CORP", kAliceSid, 2, "0x5a1f2")},
                   ConsoleState::kActive,
                   "alice",
                   std::nullopt,
                   {"session_logon"},
                   1});
  cases.push_back(
      {"NetworkAndServiceLogonsAreNotSessions",
       {logon("2026-11-20T08:00:00Z", 10, "alice", "CORP", kAliceSid, 3, "0x1"),
        logon("2026-11-20T08:00:01Z", 11, "SYSTEM", "NT AUTHORITY", "S-1-5-18", 5, "0x3e7"),
        logon("2026-11-20T08:00:02Z", 12, "DWM-1", "Window Manager", "S-1-5-90-0-1", 2, "0xe447")},
       ConsoleState::kUnknown,
       "",
       std::nullopt,
       {},
       0});
  cases.push_back({"LockAndUnlock",
                   {lsm(21, "2026-11-20T08:00:00Z", 1,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
                    security(4800, "2026-11-20T12:15:00Z", 20,
                             {{"TargetUserSid", kAliceSid},
                              {"TargetUserName", "alice"},
                              {"TargetDomainName", "CORP"},
                              {"TargetLogonId", "0x5a1f2"},
                              {"SessionId", "1"}}),
                    security(4801, "2026-11-20T13:00:00Z", 21,
                             {{"TargetUserSid", kAliceSid},
                              {"TargetUserName", "alice"},
                              {"TargetDomainName", "CORP"},
                              {"TargetLogonId", "0x5a1f2"},
                              {"SessionId", "1"}}),
                    security(4800, "2026-11-20T14:00:00Z", 22,
                             {{"TargetUserSid", kAliceSid},
                              {"TargetUserName", "alice"},
                              {"TargetDomainName", "CORP"},
                              {"TargetLogonId", "0x5a1f2"},
                              {"SessionId", "1"}})},
                   ConsoleState::kLocked,
                   "alice",
                   1,
                   {"session_logon", "session_lock", "session_unlock", "session_lock"},
                   1});
  cases.push_back({"ConsoleDisconnectThenReconnect",
                   {lsm(21, "2026-11-20T08:00:00Z", 1,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
                    lsm(24, "2026-11-20T09:00:00Z", 2,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
                    security(4779, "2026-11-20T09:00:00.5Z", 30,
                             {{"AccountName", "alice"},
                              {"AccountDomain", "CORP"},
                              {"LogonID", "0x5a1f2"},
                              {"SessionName", "Console"},
                              {"ClientName", "Unknown"},
                              {"ClientAddress", "LOCAL"}}),
                    lsm(25, "2026-11-20T10:00:00Z", 3,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}})},
                   ConsoleState::kActive,
                   "alice",
                   1,
                   {"session_logon", "session_disconnect", "session_reconnect"},
                   1});
  cases.push_back(
      {"LogoffFreesTheConsole",
       {lsm(21, "2026-11-20T08:00:00Z", 1,
            {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
        lsm(23, "2026-11-20T17:00:00Z", 2, {{"User", "CORP\\alice"}, {"SessionID", "1"}})},
       ConsoleState::kNone,
       "",
       std::nullopt,
       {"session_logon", "session_logoff"},
       0});
  cases.push_back({"SecurityLogoffOfTheSessionLogon",
                   {logon("2026-11-20T08:00:00Z", 10, "alice", "CORP", kAliceSid, 2, "0x5a1f2"),
                    lsm(21, "2026-11-20T08:00:01Z", 1,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
                    security(4647, "2026-11-20T17:00:00Z", 11,
                             {{"TargetUserSid", kAliceSid},
                              {"TargetUserName", "alice"},
                              {"TargetDomainName", "CORP"},
                              {"TargetLogonId", "0x5a1f2"}})},
                   ConsoleState::kNone,
                   "",
                   std::nullopt,
                   {"session_logon", "session_logoff"},
                   0});
  cases.push_back({"ReconnectWithoutDisconnectCreatesTheSession",
                   {lsm(25, "2026-11-20T10:00:00Z", 3,
                        {{"User", "CORP\\bob"}, {"SessionID", "2"}, {"Address", "10.20.30.41"}})},
                   ConsoleState::kUnknown,
                   "",
                   std::nullopt,
                   {"session_reconnect"},
                   1});
  cases.push_back({"AgentStartedMidSessionSeesADisconnectedConsole",
                   {lsm(24, "2026-11-20T09:00:00Z", 2,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}})},
                   ConsoleState::kDisconnected,
                   "alice",
                   1,
                   {"session_disconnect"},
                   1});
  cases.push_back({"RemoteSessionIsNotTheConsole",
                   {lsm(21, "2026-11-20T08:00:00Z", 1,
                        {{"User", "CORP\\bob"}, {"SessionID", "2"}, {"Address", "10.20.30.41"}})},
                   ConsoleState::kUnknown,
                   "",
                   std::nullopt,
                   {"session_logon"},
                   1});
  cases.push_back({"WinlogonNamesTheConsoleUserThroughTheSid",
                   {logon("2026-11-20T08:00:00Z", 10, "alice", "CORP", kAliceSid, 2, "0x5a1f2"),
                    system("Microsoft-Windows-Winlogon", 7001, "2026-11-20T08:00:01Z", 40,
                           {{"TSId", "1"}, {"UserSid", kAliceSid}})},
                   ConsoleState::kActive,
                   "alice",
                   1,
                   {"session_logon"},
                   1});
  cases.push_back(
      {"RebootEndsEverySession",
       {lsm(21, "2026-11-20T08:00:00Z", 1,
            {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
        lsm(21, "2026-11-20T08:10:00Z", 2,
            {{"User", "CORP\\bob"}, {"SessionID", "2"}, {"Address", "10.20.30.41"}}),
        system("EventLog", 6006, "2026-11-20T09:00:00Z", 50),
        // The logoff records written while shutting down add nothing.
        lsm(23, "2026-11-20T09:00:01Z", 3, {{"User", "CORP\\alice"}, {"SessionID", "1"}})},
       ConsoleState::kNone,
       "",
       std::nullopt,
       {"session_logon", "session_logon", "session_logoff", "session_logoff"},
       0});
  cases.push_back({"User32ShutdownEndsEverySession",
                   {lsm(21, "2026-11-20T08:00:00Z", 1,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
                    system("User32", 1074, "2026-11-20T09:00:00Z", 50,
                           {{"param1", "C:\\Windows\\System32\\RuntimeBroker.exe (WS-FIN-07)"},
                            {"param5", "restart"},
                            {"param7", "CORP\\alice"}})},
                   ConsoleState::kNone,
                   "",
                   std::nullopt,
                   {"session_logon", "session_logoff"},
                   0});
  cases.push_back({"DuplicateRecordsCountOnce",
                   {lsm(21, "2026-11-20T08:00:00Z", 1,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
                    lsm(24, "2026-11-20T09:00:00Z", 2,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
                    lsm(24, "2026-11-20T09:00:00Z", 2,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}})},
                   ConsoleState::kDisconnected,
                   "alice",
                   1,
                   {"session_logon", "session_disconnect"},
                   1});
  cases.push_back({"ClockSkewBetweenChannelsStillLinksTheLogon",
                   {lsm(21, "2026-11-20T08:00:00Z", 1,
                        {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
                    // Security's clock runs 1.5 s behind: its 4624 lands after the TS-LSM logon.
                    logon("2026-11-20T08:00:01.5Z", 10, "alice", "CORP", kAliceSid, 2, "0x5a1f2")},
                   ConsoleState::kActive,
                   "alice",
                   1,
                   {"session_logon"},
                   1});
  return cases;
}

class Lifecycle : public ::testing::TestWithParam<LifecycleCase> {};

void check_case(const LifecycleCase& c, Harness& h) {
  const ConsoleInfo console = h.tracker.console("WS-FIN-07.corp.example");
  EXPECT_EQ(to_string(console.state), to_string(c.state));
  EXPECT_EQ(console.user, c.console_user);
  EXPECT_EQ(console.session_id, c.console_session);
  EXPECT_EQ(h.collector.kinds(), c.kinds);
  EXPECT_EQ(h.tracker.sessions("WS-FIN-07.corp.example").size(), c.open_sessions);
  EXPECT_TRUE(h.collector.alerts.empty());
}

TEST_P(Lifecycle, InTimeOrder) {
  const LifecycleCase& c = GetParam();
  Harness h;
  h.run(c.events);
  check_case(c, h);
}

TEST_P(Lifecycle, ReversedWithinTheReorderWindow) {
  // Channels read one after another arrive out of order; a window as wide as the case
  // restores the order.
  const LifecycleCase& c = GetParam();
  TrackerOptions options;
  options.reorder_window = 24 * 3600 * kTicksPerSecond;
  Harness h(options);
  std::vector<Event> reversed(c.events.rbegin(), c.events.rend());
  // Keep duplicates adjacent-in-order semantics: a duplicate is a duplicate either way.
  h.run(reversed);
  check_case(c, h);
}

TEST_P(Lifecycle, EveryEventIsEnrichedWithTheConsoleState) {
  const LifecycleCase& c = GetParam();
  Harness h;
  h.run(c.events);
  ASSERT_FALSE(h.collector.events.empty());
  for (const Event& e : h.collector.events) {
    EXPECT_TRUE(e.payload("sessionwatch.console_state").has_value());
  }
}

INSTANTIATE_TEST_SUITE_P(Session, Lifecycle, ::testing::ValuesIn(lifecycle_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(SessionTracker, DuplicatesAreDroppedAndCounted) {
  Harness h;
  Event e = lsm(21, "2026-11-20T08:00:00Z", 7,
                {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}});
  h.run({e, e, e});
  EXPECT_EQ(h.tracker.stats().duplicates, 2u);
  EXPECT_EQ(h.collector.events.size(), 1u);
}

TEST(SessionTracker, SameRecordIdOnAnotherChannelIsNotADuplicate) {
  Harness h;
  h.run({lsm(21, "2026-11-20T08:00:00Z", 7,
             {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
         logon("2026-11-20T08:00:01Z", 7, "alice", "CORP", kAliceSid, 2, "0x5a1f2")});
  EXPECT_EQ(h.tracker.stats().duplicates, 0u);
  EXPECT_EQ(h.collector.events.size(), 2u);
}

TEST(SessionTracker, EventsComeOutInTimeOrder) {
  Harness h;
  h.push({lsm(24, "2026-11-20T09:00:02Z", 2, {{"User", "CORP\\alice"}, {"SessionID", "1"}}),
          lsm(21, "2026-11-20T09:00:00Z", 1,
              {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}})});
  EXPECT_TRUE(h.collector.events.empty()) << "held for the reorder window";
  h.tracker.flush();
  ASSERT_EQ(h.collector.events.size(), 2u);
  EXPECT_EQ(h.collector.events[0].event_id, 21u);
  EXPECT_EQ(h.collector.events[1].event_id, 24u);
}

TEST(SessionTracker, WithoutAWindowEventsAreReleasedAtOnce) {
  TrackerOptions options;
  options.reorder_window = 0;
  Harness h(options);
  Event e = lsm(21, "2026-11-20T09:00:00Z", 1,
                {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}});
  h.tracker.push(e);
  EXPECT_EQ(h.collector.events.size(), 1u);
  EXPECT_EQ(e.payload("sessionwatch.console_user"), "CORP\\alice") << "enriched in place";
}

TEST(SessionTracker, ReleaseUntilFreesHeldEvents) {
  Harness h;
  h.push({lsm(21, "2026-11-20T09:00:00Z", 1,
              {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}})});
  EXPECT_TRUE(h.collector.events.empty());
  h.tracker.release_until(at("2026-11-20T09:00:10Z"));
  EXPECT_EQ(h.collector.events.size(), 1u);
}

TEST(SessionTracker, LateEventsAreCountedAndStillProcessed) {
  TrackerOptions options;
  options.reorder_window = kTicksPerSecond;
  Harness h(options);
  h.push({lsm(21, "2026-11-20T09:00:00Z", 1,
              {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
          lsm(22, "2026-11-20T09:00:30Z", 2,
              {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
          // Releases 09:00:30, so the next one arrives after its time was passed.
          lsm(54, "2026-11-20T09:01:00Z", 4, {}),
          lsm(24, "2026-11-20T09:00:05Z", 3,
              {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}})});
  h.tracker.flush();
  EXPECT_EQ(h.tracker.stats().late_events, 1u);
  EXPECT_EQ(h.collector.events.size(), 4u);
  EXPECT_EQ(h.tracker.console("WS-FIN-07").state, ConsoleState::kDisconnected);
}

TEST(SessionTracker, HostsAreKeyedByShortNameCaseInsensitively) {
  Harness h;
  h.run({lsm(21, "2026-11-20T08:00:00Z", 1,
             {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}, {},
             "WS-FIN-07.corp.example")});
  EXPECT_EQ(h.tracker.console("ws-fin-07").user, "alice");
  EXPECT_EQ(h.tracker.console("WS-FIN-07").user, "alice");
  EXPECT_EQ(h.tracker.console("WS-FIN-08").state, ConsoleState::kUnknown);
  EXPECT_EQ(host_key("10.1.2.3"), "10.1.2.3");
}

TEST(SessionTracker, OneMachineHasOneNameTheDnsNameItsEventsUse) {
  // The text line names the machine by its NetBIOS name, its own events by the DNS name: both
  // leave the tracker under the DNS name, whichever came first.
  Harness h;
  Event line;
  line.set_channel("Application");
  line.set_provider_name("sessionwatch-text");
  line.set_computer("WS-FIN-07");
  line.time_created = at("2026-11-20T07:59:00Z");
  line.set_message("2026-11-20 07:59:00 [WS-FIN-07] query session /server:WS-FIN-07");
  h.run({line,
         lsm(21, "2026-11-20T08:00:00Z", 1,
             {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
         security(4800, "2026-11-20T08:30:00Z", 2,
                  {{"TargetUserName", "alice"}, {"TargetDomainName", "CORP"}, {"SessionId", "1"}},
                  "ws-fin-07.CORP.example")});
  EXPECT_EQ(h.tracker.hosts(), std::vector<std::string>{"WS-FIN-07.corp.example"});
  ASSERT_EQ(h.collector.events.size(), 3u);
  for (const Event& e : h.collector.events) EXPECT_EQ(e.computer(), "WS-FIN-07.corp.example");
  ASSERT_FALSE(h.collector.derived.empty());
  for (const auto& d : h.collector.derived) EXPECT_EQ(d.event.computer(), "WS-FIN-07.corp.example");
  EXPECT_EQ(h.tracker.alert_context(h.collector.events[0]).hostname, "WS-FIN-07");
  // Another machine whose DNS name shares the first label keeps its own spelling.
  Harness other;
  other.run({lsm(21, "2026-11-20T08:00:00Z", 1, {{"User", "CORP\\alice"}, {"SessionID", "1"}}),
             lsm(21, "2026-11-20T08:00:01Z", 2, {{"User", "LAB\\carol"}, {"SessionID", "1"}}, {},
                 "WS-FIN-07.lab.example")});
  ASSERT_EQ(other.collector.events.size(), 2u);
  EXPECT_EQ(other.collector.events.back().computer(), "WS-FIN-07.lab.example");
}

TEST(SessionTracker, SnapshotKeepsTheMachinesNamesAndKind) {
  Harness h;
  h.run({lsm(21, "2026-11-20T08:00:00Z", 1, {{"User", "CORP\\alice"}, {"SessionID", "1"}}, {},
             "WS-FIN-07"),
         lsm(21, "2026-11-20T08:00:01Z", 2, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, {},
             "WS-FIN-07.corp.example"),
         lsm(22, "2026-11-20T08:01:00Z", 3, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, {},
             "WS-FIN-07.corp.example")});
  Harness restored;
  std::string error;
  ASSERT_TRUE(restored.tracker.restore(h.tracker.snapshot(), error)) << error;
  Event probe =
      logon("2026-11-20T09:00:00Z", 10, "bob", "CORP", kBobSid, 10, "0x99", "-", "ws-fin-07");
  restored.run({probe});
  const Event& e = restored.collector.events.back();
  EXPECT_EQ(e.computer(), "WS-FIN-07.corp.example");
  EXPECT_EQ(e.payload("sessionwatch.host_sessions"), "multi");
  EXPECT_EQ(restored.tracker.alert_context(e).hostname, "WS-FIN-07");
}

TEST(SessionTracker, TwoSessionsConnectedAtOnceMakeAMultiSessionHost) {
  // A server: alice at the console, bob's RDP session beside it, both stay connected.
  Harness h;
  h.run({lsm(21, "2026-11-20T08:00:00Z", 1,
             {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
         logon("2026-11-20T09:00:00Z", 2, "bob", "CORP", kBobSid, 10, "0x99", "10.20.30.41"),
         lsm(21, "2026-11-20T09:00:01Z", 3,
             {{"User", "CORP\\bob"}, {"SessionID", "2"}, {"Address", "10.20.30.41"}}),
         logon("2026-11-20T09:30:00Z", 4, "carol", "CORP", kAliceSid, 10, "0x9a", "10.20.30.42")});
  ASSERT_EQ(h.collector.events.size(), 4u);
  EXPECT_EQ(h.collector.events[1].payload("sessionwatch.host_sessions"), "unknown")
      << "nothing says yet what kind of machine it is";
  EXPECT_EQ(h.collector.events[3].payload("sessionwatch.host_sessions"), "multi");
}

TEST(SessionTracker, ATakeoverOnAClientIsNotMultiSession) {
  // A client edition: the arbitration gives bob a session and disconnects the console's.
  Harness h;
  const std::string_view act = "{9C1D2E3F-4A5B-4C6D-8E9F-000000000009}";
  h.run({lsm(21, "2026-11-20T08:00:00Z", 1,
             {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
         lsm(41, "2026-11-20T09:00:00Z", 2, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, act),
         lsm(21, "2026-11-20T09:00:01Z", 3,
             {{"User", "CORP\\bob"}, {"SessionID", "2"}, {"Address", "10.20.30.41"}}, act),
         lsm(24, "2026-11-20T09:00:02Z", 4,
             {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
         lsm(42, "2026-11-20T09:00:02.5Z", 5, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, act),
         logon("2026-11-20T09:30:00Z", 5, "carol", "CORP", kAliceSid, 10, "0x9a", "10.20.30.42")});
  EXPECT_EQ(h.collector.events.back().payload("sessionwatch.host_sessions"), "unknown");
}

TEST(SessionTracker, EnrichmentNamesTheConsoleAndTheRequester) {
  Harness h;
  h.run({lsm(21, "2026-11-20T08:00:00Z", 1,
             {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
         logon("2026-11-20T09:00:00Z", 10, "bob", "CORP", kBobSid, 3, "0x99")});
  const Event& e = h.collector.events.back();
  EXPECT_EQ(e.payload("sessionwatch.console_user"), "CORP\\alice");
  EXPECT_EQ(e.payload("sessionwatch.console_user_name"), "alice");
  EXPECT_EQ(e.payload("sessionwatch.console_domain"), "CORP");
  EXPECT_EQ(e.payload("sessionwatch.console_state"), "active");
  EXPECT_EQ(e.payload("sessionwatch.console_session_id"), "1");
  EXPECT_EQ(e.payload("sessionwatch.console_since"), "2026-11-20T08:00:00.0000000Z");
  EXPECT_EQ(e.payload("sessionwatch.requester"), "CORP\\bob");
  for (const Field& f : e.fields()) {
    if (field_name(f.id).starts_with("sessionwatch.")) {
      EXPECT_EQ(f.origin, FieldOrigin::kExtra);
    }
  }
}

TEST(SessionTracker, AnEventItsInputSearchedForErrorsIsNotSearchedAgain) {
  // The file input searches each event on its own thread; the detection thread takes its word.
  const ErrorInfo* refused = ErrorCatalog::builtin().find_win32(7063);
  Event told = system("Contoso-Tool", 1001, "2026-11-20T09:00:00Z", 7, {{"Detail", "no code"}});
  told.found_error = {.searched = true, .error = refused, .form = ErrorForm::kHex};
  Event searched_clean =
      system("Contoso-Tool", 1001, "2026-11-20T09:00:01Z", 8, {{"Win32Status", "7063"}});
  searched_clean.found_error = {.searched = true};
  Event not_searched =
      system("Contoso-Tool", 1001, "2026-11-20T09:00:02Z", 9, {{"Win32Status", "7063"}});
  Harness h;
  h.run({told, searched_clean, not_searched});
  ASSERT_EQ(h.collector.events.size(), 3u);
  EXPECT_EQ(h.collector.events[0].payload("sessionwatch.error_code"), "7063");
  EXPECT_EQ(h.collector.events[0].payload("sessionwatch.error_form"), "hex");
  EXPECT_FALSE(h.collector.events[1].payload("sessionwatch.error_code").has_value());
  EXPECT_EQ(h.collector.events[2].payload("sessionwatch.error_code"), "7063");
  EXPECT_EQ(h.collector.events[2].payload("sessionwatch.error_form"), "decimal");
}

TEST(SessionTracker, UnknownConsoleStaysUnknown) {
  Harness h;
  h.run({logon("2026-11-20T09:00:00Z", 10, "bob", "CORP", kBobSid, 3, "0x99")});
  const Event& e = h.collector.events.back();
  EXPECT_EQ(e.payload("sessionwatch.console_state"), "unknown");
  EXPECT_FALSE(e.payload("sessionwatch.console_user").has_value());
  EXPECT_FALSE(e.payload("sessionwatch.console_since").has_value());
}

TEST(SessionTracker, SessionCapEvictsTheLeastRecentAndReportsIt) {
  TrackerOptions options;
  options.max_sessions_per_host = 16;
  Harness h(options);
  std::size_t reported = 0;
  std::string what;
  h.tracker.set_eviction_hook([&](std::string_view, std::string_view w, std::size_t n) {
    reported += n;
    what = w;
  });
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) {
    const std::string t = "2026-11-20T08:" + std::string(i / 60 < 10 ? "0" : "") +
                          std::to_string(i / 60) + ":" + (i % 60 < 10 ? "0" : "") +
                          std::to_string(i % 60) + "Z";
    const std::string user = "CORP\\user" + std::to_string(i);
    const std::string sid = std::to_string(100 + i);
    events.push_back(
        lsm(21, t, 1 + i, {{"User", user}, {"SessionID", sid}, {"Address", "10.0.0.1"}}));
  }
  h.run(events);
  const auto sessions = h.tracker.sessions("WS-FIN-07");
  EXPECT_LE(sessions.size(), 16u);
  EXPECT_GE(h.tracker.stats().sessions_evicted, 84u);
  EXPECT_EQ(reported, h.tracker.stats().sessions_evicted);
  EXPECT_EQ(what, "session-cap");
  // The newest survive.
  EXPECT_TRUE(std::any_of(sessions.begin(), sessions.end(),
                          [](const SessionRecord& s) { return s.user == "user99"; }));
}

TEST(SessionTracker, StaleSessionsExpire) {
  TrackerOptions options;
  options.stale_after = 24 * 3600 * kTicksPerSecond;
  Harness h(options);
  std::size_t expired = 0;
  h.tracker.set_eviction_hook([&](std::string_view, std::string_view w, std::size_t n) {
    if (w == "stale") expired += n;
  });
  h.run({lsm(21, "2026-11-20T08:00:00Z", 1,
             {{"User", "CORP\\bob"}, {"SessionID", "2"}, {"Address", "10.0.0.1"}}),
         lsm(21, "2026-11-23T08:00:00Z", 2,
             {{"User", "CORP\\carol"}, {"SessionID", "3"}, {"Address", "10.0.0.2"}})});
  const auto sessions = h.tracker.sessions("WS-FIN-07");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].user, "carol");
  EXPECT_EQ(expired, 1u);
  EXPECT_EQ(h.tracker.stats().sessions_expired, 1u);
}

TEST(SessionTracker, HostCapEvictsTheQuietestHost) {
  TrackerOptions options;
  options.max_hosts = 2;
  Harness h(options);
  h.run({lsm(21, "2026-11-20T08:00:00Z", 1,
             {{"User", "CORP\\a"}, {"SessionID", "1"}, {"Address", "LOCAL"}}, {}, "host-a"),
         lsm(21, "2026-11-20T09:00:00Z", 1,
             {{"User", "CORP\\b"}, {"SessionID", "1"}, {"Address", "LOCAL"}}, {}, "host-b"),
         lsm(21, "2026-11-20T10:00:00Z", 1,
             {{"User", "CORP\\c"}, {"SessionID", "1"}, {"Address", "LOCAL"}}, {}, "host-c")});
  EXPECT_EQ(h.tracker.hosts(), (std::vector<std::string>{"host-b", "host-c"}));
  EXPECT_EQ(h.tracker.stats().hosts_evicted, 1u);
}

// At its cap the tracker evicts from a list of the quietest hosts chosen an eighth of the cap at
// a time; a host heard from after it was chosen is skipped, and the spellings of an evicted host
// no longer lead to it.
TEST(SessionTracker, HostCapKeepsTheHostsHeardFromLatest) {
  TrackerOptions options;
  options.max_hosts = 16;
  Harness h(options);
  std::vector<Event> events;
  const auto logon = [&](int minute, const std::string& host) {
    char time[32];
    std::snprintf(time, sizeof time, "2026-11-20T%02d:%02d:00Z", 8 + minute / 60, minute % 60);
    events.push_back(lsm(21, time, static_cast<std::uint64_t>(minute + 1),
                         {{"User", "CORP\\u"}, {"SessionID", "1"}, {"Address", "LOCAL"}}, {},
                         host));
  };
  for (int i = 0; i < 16; ++i) logon(i, "host-" + std::to_string(i));
  logon(16, "host-16");              // evicts host-0; host-1 is the next chosen
  logon(17, "HOST-1.corp.example");  // host-1 heard from again, by its DNS name: skipped
  for (int i = 17; i < 40; ++i) logon(i + 1, "host-" + std::to_string(i));
  logon(41, "host-0");  // evicted long ago: starts afresh under the same spelling
  h.run(events);
  // The 16 hosts heard from latest.
  std::vector<std::string> expected = {"host-0"};
  for (int i = 25; i < 40; ++i) expected.push_back("host-" + std::to_string(i));
  std::vector<std::string> kept = h.tracker.hosts();
  std::sort(kept.begin(), kept.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(kept, expected);
  EXPECT_EQ(h.tracker.stats().hosts_evicted, 25u);
}

TEST(SessionTracker, TimelineListsEveryStep) {
  Harness h;
  h.run({lsm(21, "2026-11-20T08:00:00Z", 1,
             {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}}),
         lsm(24, "2026-11-20T09:00:00Z", 2,
             {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}})});
  const std::string text = render_timeline(h.tracker);
  EXPECT_NE(text.find("== WS-FIN-07.corp.example (console CORP\\alice session 1 disconnected "
                      "since 2026-11-20T09:00:00.0000000Z)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("session_logon"), std::string::npos);
  EXPECT_NE(text.find("session_disconnect"), std::string::npos);
  EXPECT_NE(text.find("open sessions"), std::string::npos);
}

}  // namespace
}  // namespace sw::test

namespace sw::test {
namespace {

// `count` RDP logons of distinct users, `step` apart from 08:00, none ever getting a session or
// a logoff (Windows logs one on every reconnect), after one console logon known from Security.
std::vector<Event> console_then_unanswered_rdp_logons(int count, Ticks step) {
  std::vector<Event> events;
  events.push_back(logon("2026-11-20T07:59:00Z", 1, "alice", "CORP", kAliceSid, 2, "0x500"));
  const Ticks start = at("2026-11-20T08:00:00Z");
  for (int i = 0; i < count; ++i) {
    const std::string user = "user" + std::to_string(i);
    const std::string logon_id = "0x" + std::to_string(10000 + i);
    events.push_back(logon(format_time(start + i * step), 2 + static_cast<std::uint64_t>(i), user,
                           "CORP", "S-1-5-21-1-2-3-" + std::to_string(2000 + i), 10, logon_id,
                           "10.0.0.9"));
  }
  return events;
}

std::size_t remote_logons(const std::vector<SessionRecord>& records) {
  return static_cast<std::size_t>(std::count_if(records.begin(), records.end(),
                                                [](const SessionRecord& r) { return !r.console; }));
}

TEST(SessionTracker, UnansweredRemoteLogonsAgeOutAfterTheLongestWindow) {
  Harness h;
  std::size_t reported = 0;
  h.tracker.set_eviction_hook([&](std::string_view, std::string_view w, std::size_t n) {
    if (w == "stale") reported += n;
  });
  // 400 logons 30 s apart: 3 h 20 min, far beyond the 1 h attempt window.
  std::vector<Event> events = console_then_unanswered_rdp_logons(400, 30 * kTicksPerSecond);
  // The newest logon's logoff still pairs with it.
  events.push_back(logoff(format_time(at("2026-11-20T08:00:00Z") + 400 * 30 * kTicksPerSecond),
                          1000, "user399", "CORP", 10, "0x10399"));
  h.run(events);
  const auto records = h.tracker.sessions("WS-FIN-07");
  // Only about the last hour's logons stay (120 of them), and the console's logon is kept.
  EXPECT_LE(remote_logons(records), 125u);
  EXPECT_GE(remote_logons(records), 115u);
  EXPECT_FALSE(std::any_of(records.begin(), records.end(),
                           [](const SessionRecord& r) { return r.user == "user0"; }));
  EXPECT_TRUE(std::any_of(records.begin(), records.end(),
                          [](const SessionRecord& r) { return r.user == "user398"; }));
  EXPECT_EQ(h.tracker.console("WS-FIN-07").state, ConsoleState::kActive);
  EXPECT_EQ(h.tracker.console("WS-FIN-07").user, "alice");
  EXPECT_EQ(reported, h.tracker.stats().sessions_expired);
  EXPECT_GE(reported, 270u);
  const auto logoffs = h.collector.of_kind("session_logoff");
  ASSERT_EQ(logoffs.size(), 1u);
  EXPECT_EQ(logoffs[0]->event.payload("TargetUser"), "user399");
}

TEST(SessionTracker, UnansweredRemoteLogonsAreCappedPerHostOldestFirst) {
  Harness h;
  // 1000 logons 2 s apart: all within the hour, so only the per-host cap bounds them.
  h.run(console_then_unanswered_rdp_logons(1000, 2 * kTicksPerSecond));
  const auto records = h.tracker.sessions("WS-FIN-07");
  EXPECT_LE(records.size(), 256u);
  EXPECT_GE(remote_logons(records), 200u);
  EXPECT_TRUE(std::any_of(records.begin(), records.end(),
                          [](const SessionRecord& r) { return r.user == "user999"; }));
  EXPECT_FALSE(std::any_of(records.begin(), records.end(),
                           [](const SessionRecord& r) { return r.user == "user0"; }));
  EXPECT_EQ(h.tracker.console("WS-FIN-07").user, "alice");
  // Every logon was announced once, whether kept or not.
  EXPECT_EQ(h.collector.of_kind("session_logon").size(), 1001u);
}

// sessions() lists logons without a session first, by logon id, then sessions by session id,
// each once and with the fields of its logon.
TEST(SessionTracker, SessionsListsHeldLogonsByIdThenSessions) {
  Harness h;
  std::vector<Event> events = console_then_unanswered_rdp_logons(60, 2 * kTicksPerSecond);
  // Logged in an order unlike their ids.
  std::reverse(events.begin() + 1, events.end());
  h.run(events);
  const auto records = h.tracker.sessions("WS-FIN-07");
  ASSERT_EQ(remote_logons(records), 60u);
  for (std::size_t i = 1; i < records.size(); ++i) {
    const SessionRecord& a = records[i - 1];
    const SessionRecord& b = records[i];
    EXPECT_TRUE(a.session_id < b.session_id ||
                (a.session_id == b.session_id && a.logon_id < b.logon_id))
        << i;
  }
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[0].logon_id, 0x500u);  // alice at the console
  EXPECT_EQ(records[0].address, "LOCAL");
  const SessionRecord& remote = records[1];
  EXPECT_EQ(remote.logon_id, 0x10000u);
  EXPECT_EQ(remote.user, "user0");
  EXPECT_EQ(remote.address, "10.0.0.9");
  EXPECT_EQ(remote.sid, "S-1-5-21-1-2-3-2000");
}

// `sessionwatch report` draws console holds and remote sessions from this hook: it is told of
// each change, with the change already visible through console() and sessions(), and not of
// events that are not about sessions.
TEST(TrackerStateHook, ToldOfEachConsoleAndRemoteChangeWithTheChangeApplied) {
  struct Seen {
    std::string time;
    ConsoleState console;
    std::size_t sessions;
  };
  std::vector<Seen> seen;
  TrackerOptions options;
  options.reorder_window = 0;
  options.on_state_change = [&](const SessionTracker& t, std::string_view host, Ticks time) {
    seen.push_back(
        {format_time(time).substr(11, 5), t.console(host).state, t.sessions(host).size()});
  };
  Harness h(options);
  const Pairs alice{{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}};
  h.run({lsm(21, "2026-11-20T08:00:00Z", 1, alice),
         system("Service Control Manager", 7036, "2026-11-20T08:00:01Z", 2),  // no session
         security(4800, "2026-11-20T12:15:00Z", 20,
                  {{"TargetUserSid", kAliceSid},
                   {"TargetUserName", "alice"},
                   {"TargetDomainName", "CORP"},
                   {"TargetLogonId", "0x5a1f2"},
                   {"SessionId", "1"}}),
         // bob's remote logon and logoff leave the console as it is.
         logon("2026-11-20T13:00:00Z", 30, "bob", "CORP", kBobSid, 10, "0x77"),
         logoff("2026-11-20T13:05:00Z", 31, "bob", "CORP", 10, "0x77"),
         lsm(23, "2026-11-20T17:45:00Z", 3, {{"User", "CORP\\alice"}, {"SessionID", "1"}})});
  std::vector<std::string> got;
  for (const Seen& s : seen) {
    got.push_back(s.time + " " + std::string(to_string(s.console)) + " " +
                  std::to_string(s.sessions));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"08:00 active 1", "12:15 locked 1", "13:00 locked 2",
                                           "13:05 locked 1", "17:45 none 0"}));
}

}  // namespace
}  // namespace sw::test
