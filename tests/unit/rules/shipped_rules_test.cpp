// The rules shipped in rules/: each fires on a representative event and not on a near miss.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sessionwatch/derived.hpp"
#include "sessionwatch/rules.hpp"

namespace sw {
namespace {

constexpr Ticks kMinute = 60 * kTicksPerSecond;

class ShippedRules : public ::testing::Test {
 protected:
  void SetUp() override {
    RuleLoadResult r = RuleSet::load({std::string(SW_SOURCE_DIR) + "/rules"});
    for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
    rules_ = std::move(r.rules);
  }

  std::vector<std::string> titles(const Event& e) {
    std::vector<std::string> out;
    rules_->match(e, [&](const RuleMatch& m) { out.push_back(m.rule.title); });
    return out;
  }
  bool fired(const Event& e, std::string_view title_part) {
    for (const std::string& t : titles(e)) {
      if (t.find(title_part) != std::string::npos) return true;
    }
    return false;
  }

  static Event refusal(std::string_view requester, std::string_view holder, Ticks t,
                       std::string_view state = "active", std::string_view code = "7063") {
    Event e;
    e.set_channel("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational");
    e.event_id = 0;
    e.set_computer("ws1.corp");
    e.time_created = t;
    e.record_id = static_cast<std::uint64_t>(t / kTicksPerSecond);
    e.add_field("Status", code);
    e.add_field("sessionwatch.error_code", code, FieldOrigin::kExtra);
    e.add_field("sessionwatch.requester", requester, FieldOrigin::kExtra);
    e.add_field("sessionwatch.console_user", holder, FieldOrigin::kExtra);
    e.add_field("sessionwatch.console_state", state, FieldOrigin::kExtra);
    return e;
  }

  static Event derived(std::string_view kind, Ticks t, std::string_view detection = "observed") {
    Event e;
    e.set_channel("sessionwatch");
    e.set_provider_name("sessionwatch");
    e.event_id = derived::event_id_of_kind(kind).value_or(0);  // as the tracker numbers them
    e.set_computer("ws1.corp");
    e.time_created = t;
    e.add_field("Kind", kind);
    e.add_field("TargetUser", "bob");
    e.add_field("ConsoleUser", "alice");
    e.add_field("Detection", detection);
    return e;
  }

  static Event process(std::string_view image, std::string_view cmdline) {
    Event e;
    e.set_channel("Microsoft-Windows-Sysmon/Operational");
    e.event_id = 1;
    e.set_computer("ws1.corp");
    e.add_field("Image", image);
    e.add_field("CommandLine", cmdline);
    return e;
  }

  std::unique_ptr<RuleSet> rules_;
};

TEST_F(ShippedRules, AllLoadAndCarryAuthor) {
  ASSERT_TRUE(rules_);
  const auto all = rules_->rules();
  EXPECT_GE(all.size(), 12u);
  for (const RuleInfo* r : all) {
    EXPECT_FALSE(r->author.empty()) << r->title;
    EXPECT_FALSE(r->id.empty()) << r->title;
  }
}

TEST_F(ShippedRules, Refusal7063And7062) {
  EXPECT_TRUE(fired(refusal("bob", "alice", 0), "ERROR_CTX_NO_FORCE_LOGOFF"));
  EXPECT_TRUE(fired(refusal("bob", "alice", 0, "active", "7062"), "ERROR_CTX_NO_FORCE_LOGOFF"));
  // Near miss: a different error code, and the tracker's own derived event.
  EXPECT_FALSE(fired(refusal("bob", "alice", 0, "active", "1326"), "ERROR_CTX_NO_FORCE_LOGOFF"));
  Event d = derived("arbitration_refused", 0);
  d.add_field("sessionwatch.error_code", "7063", FieldOrigin::kExtra);
  EXPECT_FALSE(fired(d, "ERROR_CTX_NO_FORCE_LOGOFF"));
}

TEST_F(ShippedRules, InferredArbitrationRefusal) {
  EXPECT_TRUE(fired(derived("arbitration_refused", 0, "inferred"), "Arbitration Refused"));
  EXPECT_FALSE(fired(derived("arbitration_refused", 0, "observed"), "Arbitration Refused"));
  // Same Kind on a non-sessionwatch channel is not the tracker's event.
  Event other = derived("arbitration_refused", 0, "inferred");
  other.set_channel("Application");
  EXPECT_FALSE(fired(other, "Arbitration Refused"));
}

TEST_F(ShippedRules, ConsoleTakeover) {
  EXPECT_TRUE(fired(derived("console_takeover", 0), "Taken Over"));
  Event self = derived("console_takeover", 0);
  self.set_field(intern_field("ConsoleUser"), "BOB");  // reconnecting to one's own session
  EXPECT_FALSE(fired(self, "Taken Over"));
  EXPECT_FALSE(fired(derived("session_logon", 0), "Taken Over"));
}

TEST_F(ShippedRules, RepeatedRefusalsByOneRequester) {
  const std::string title = "Repeated Console Logon Refusals";
  EXPECT_FALSE(fired(refusal("bob", "alice", 0), title));
  EXPECT_FALSE(fired(refusal("carol", "alice", 1 * kMinute), title));  // other requester
  EXPECT_FALSE(fired(refusal("bob", "alice", 2 * kMinute), title));
  EXPECT_TRUE(fired(refusal("bob", "alice", 3 * kMinute), title));
  // Fired once, then the window starts over.
  EXPECT_FALSE(fired(refusal("bob", "alice", 4 * kMinute), title));
  // Near miss: three refusals spread over more than 15 minutes.
  EXPECT_FALSE(fired(refusal("dave", "alice", 100 * kMinute), title));
  EXPECT_FALSE(fired(refusal("dave", "alice", 110 * kMinute), title));
  EXPECT_FALSE(fired(refusal("dave", "alice", 126 * kMinute), title));
}

TEST_F(ShippedRules, ManyRequestersBlockedByOneHolder) {
  const std::string title = "Many Users Blocked";
  EXPECT_FALSE(fired(refusal("bob", "alice", 0), title));
  EXPECT_FALSE(fired(refusal("bob", "alice", kMinute), title));  // same requester again
  EXPECT_FALSE(fired(refusal("carol", "alice", 2 * kMinute), title));
  EXPECT_FALSE(fired(refusal("erin", "zoe", 3 * kMinute), title));  // another holder
  EXPECT_TRUE(fired(refusal("dave", "alice", 4 * kMinute), title));
}

TEST_F(ShippedRules, RefusedWhileConsoleUnattended) {
  const std::string title = "Left Disconnected Or Locked";
  EXPECT_FALSE(fired(derived("console_idle", 0), title));
  // Near miss: refused while the console is active.
  EXPECT_FALSE(fired(refusal("bob", "alice", 10 * kMinute, "active"), title));
  EXPECT_TRUE(fired(refusal("bob", "alice", 20 * kMinute, "locked"), title));
  // Near miss: the idle report is older than the 2h window.
  EXPECT_FALSE(fired(derived("console_idle", 300 * kMinute), title));
  EXPECT_FALSE(fired(refusal("bob", "alice", 430 * kMinute, "disconnected"), title));
}

TEST_F(ShippedRules, RdpLogonWhileConsoleInUse) {
  // As the tracker enriches a 4624: the holder as DOMAIN\user, and user and domain apart.
  auto logon = [](std::string_view state, std::string_view type, std::string_view user = "bob",
                  std::string_view host_sessions = "unknown") {
    Event e;
    e.set_channel("Security");
    e.event_id = 4624;
    e.add_field("TargetUserName", user);
    e.add_field("TargetDomainName", "WINDOMAIN");
    e.add_field("LogonType", type);
    e.add_field("sessionwatch.console_state", state, FieldOrigin::kExtra);
    e.add_field("sessionwatch.console_user", "WINDOMAIN\\vagrant", FieldOrigin::kExtra);
    e.add_field("sessionwatch.console_user_name", "vagrant", FieldOrigin::kExtra);
    e.add_field("sessionwatch.console_domain", "WINDOMAIN", FieldOrigin::kExtra);
    e.add_field("sessionwatch.host_sessions", host_sessions, FieldOrigin::kExtra);
    return e;
  };
  EXPECT_TRUE(fired(logon("active", "10"), "RDP Logon"));
  EXPECT_FALSE(fired(logon("none", "10"), "RDP Logon"));
  EXPECT_FALSE(fired(logon("active", "3"), "RDP Logon"));
  // The console's own user reconnecting (the velociraptor capture), in any case.
  EXPECT_FALSE(fired(logon("active", "10", "vagrant"), "RDP Logon"));
  EXPECT_FALSE(fired(logon("active", "10", "VAGRANT"), "RDP Logon"));
  // A multi-session server: sessions beside the console are normal.
  EXPECT_FALSE(fired(logon("active", "10", "bob", "multi"), "RDP Logon"));
}

TEST_F(ShippedRules, TsconHijackAndForcedLogoff) {
  EXPECT_TRUE(fired(process("C:\\Windows\\System32\\tscon.exe", "tscon 2 /dest:console"), "tscon"));
  EXPECT_TRUE(
      fired(process("C:\\Windows\\System32\\tscon.exe", "tscon 2 -dest:rdp-tcp#1"), "tscon"));
  EXPECT_FALSE(fired(process("C:\\Windows\\System32\\tscon.exe", "tscon /?"), "tscon"));
  EXPECT_TRUE(
      fired(process("C:\\Windows\\System32\\logoff.exe", "logoff 3 /server:ws1"), "Forced Logoff"));
  EXPECT_TRUE(
      fired(process("C:\\Windows\\System32\\reset.exe", "reset session 2"), "Forced Logoff"));
  EXPECT_FALSE(fired(process("C:\\Windows\\System32\\logoff.exe", "logoff"), "Forced Logoff"));
}

TEST_F(ShippedRules, AccessDeniedToldApartFrom7063) {
  Event denied;
  denied.set_channel("Application");
  denied.add_field("Data", "Logon failed: 0x8007042E");
  EXPECT_TRUE(fired(denied, "Access Denied"));
  Event refused = refusal("bob", "alice", 0);
  refused.add_field("Detail", "Access is denied");
  EXPECT_FALSE(fired(refused, "Access Denied"));
  // The tracker's own summary of an event repeats what that event said: searched there, once.
  Event summary = derived("logon", 0);
  summary.add_field("Detail", "Access is denied");
  EXPECT_FALSE(fired(summary, "Access Denied"));
  summary.set_channel("Application");
  EXPECT_TRUE(fired(summary, "Access Denied"));
}

}  // namespace
}  // namespace sw
