// The alert: observed 7063 in every form the recognizer knows, near misses, enrichment sources,
// disagreements, deterministic ids and the table rendering.
#include <gtest/gtest.h>

#include "sessionwatch/alert_ecs.hpp"
#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/alert_table.hpp"

#include "unit/session/event_builder.hpp"

#include "sessionwatch/error_catalog.hpp"

namespace sw::test {
namespace {

using nlohmann::json;

constexpr std::string_view kAliceSid = "S-1-5-21-3623811015-3361044348-30300820-1104";
constexpr std::string_view kBobSid = "S-1-5-21-3623811015-3361044348-30300820-1107";
constexpr std::string_view kMessage7063 =
    "The user CORP\\alice is already logged on to the console of this computer. You do not have "
    "permission to log in at this time. To resolve this issue, contact CORP\\alice and have them "
    "log off.";

std::vector<Event> alice_at_the_console() {
  return {logon("2026-11-20T08:01:10Z", 1, "alice", "CORP", kAliceSid, 2, "0x5a1f2"),
          lsm(21, "2026-11-20T08:01:12.5Z", 3,
              {{"User", "CORP\\alice"}, {"SessionID", "1"}, {"Address", "LOCAL"}})};
}

EventBuilder application(std::uint32_t id, std::string_view time, std::uint64_t record,
                         std::string_view provider = "HelpdeskTools") {
  return EventBuilder("Application", provider, id, time, record, "WS-FIN-07.corp.example");
}

struct ObservedCase {
  std::string name;
  Event event;
  std::string form;  // to_string(ErrorForm) expected
};

std::vector<ObservedCase> observed_cases() {
  std::vector<ObservedCase> c;
  c.push_back({"NumericStatusField",
               application(1001, "2026-11-20T13:03:30Z", 11).data({{"ErrorCode", "7063"}}),
               std::string(to_string(ErrorForm::kDecimal))});
  c.push_back({"HexField",
               application(1001, "2026-11-20T13:03:30Z", 12).data({{"Status", "0x1B97"}}),
               std::string(to_string(ErrorForm::kHex))});
  c.push_back({"Hresult",
               application(3002, "2026-11-20T13:03:30Z", 13, "InventoryAgent")
                   .data({{"Operation", "OpenConsoleSession"},
                          {"Account", "CORP\\svc-inventory"},
                          {"HResult", "0x80071B97"}}),
               std::string(to_string(ErrorForm::kHresult))});
  c.push_back({"SymbolicName",
               application(1001, "2026-11-20T13:03:30Z", 14)
                   .data({{"Detail", "WTSConnectSession failed: ERROR_CTX_NO_FORCE_LOGOFF"}}),
               std::string(to_string(ErrorForm::kSymbol))});
  c.push_back(
      {"ToolOutput",
       application(1001, "2026-11-20T13:03:30Z", 15)
           .data({{"param1", "rwinsta 1 /server:WS-FIN-07"}, {"param2", "Error code 7063"}}),
       std::string(to_string(ErrorForm::kToolOutput))});
  c.push_back({"MessageAlone", application(1001, "2026-11-20T13:03:30Z", 16).message(kMessage7063),
               std::string(to_string(ErrorForm::kMessage))});
  return c;
}

class Observed : public ::testing::TestWithParam<ObservedCase> {};

TEST_P(Observed, GivesExactlyOneObservedAlert) {
  const ObservedCase& c = GetParam();
  Harness h;
  std::vector<Event> events = alice_at_the_console();
  events.push_back(c.event);
  h.run(events);
  ASSERT_EQ(h.collector.alerts.size(), 1u);
  const Alert& a = h.collector.alerts[0];
  const json doc = alert_to_json(a);
  EXPECT_EQ(doc["sessionwatch"]["detection"], "observed");
  EXPECT_EQ(doc["error"]["code"], "7063");
  EXPECT_EQ(doc["error"]["id"], "ERROR_CTX_NO_FORCE_LOGOFF");
  EXPECT_EQ(doc["sessionwatch"]["error"]["form"], c.form);
  // Where the error was found: a field of the event as logged (or its message) and the text in
  // it, not the agent's own restatement (sessionwatch.error_symbol).
  const std::string field = doc["sessionwatch"]["error"]["field"];
  const std::string matched = doc["sessionwatch"]["error"]["matched"];
  bool found_there = field == "Message" && c.event.message().find(matched) != std::string::npos;
  for (const Field& f : c.event.fields()) {
    if (field_name(f.id) == field && c.event.value(f).find(matched) != std::string_view::npos)
      found_there = true;
  }
  EXPECT_TRUE(found_there) << "field '" << field << "', matched '" << matched << "'";
  EXPECT_EQ(doc["rule"]["id"], BuiltinDetections::observed_rule().id);
  EXPECT_EQ(doc["event"]["code"], std::to_string(c.event.event_id));
  EXPECT_EQ(doc["winlog"]["record_id"], c.event.record_id);
  // The console holder is known to the tracker whatever the form.
  EXPECT_EQ(doc["sessionwatch"]["console"]["user"], "alice");
  EXPECT_EQ(doc["sessionwatch"]["console"]["session_id"], 1);
  EXPECT_EQ(doc["sessionwatch"]["console"]["source"]["session_id"], "tracker");
  EXPECT_EQ(doc["error"]["message"], std::string(kMessage7063));
  const Event& released = h.collector.events.back();
  EXPECT_EQ(released.payload("sessionwatch.error_code"), "7063");
  EXPECT_EQ(released.payload("sessionwatch.error_symbol"), "ERROR_CTX_NO_FORCE_LOGOFF");
  EXPECT_EQ(released.payload("sessionwatch.error_form"), c.form);
}

INSTANTIATE_TEST_SUITE_P(Session, Observed, ::testing::ValuesIn(observed_cases()),
                         [](const auto& info) { return info.param.name; });

struct NearMissCase {
  std::string name;
  Event event;
};

std::vector<NearMissCase> near_misses() {
  return {
      {"LogonTypeNotGranted4625", security(4625, "2026-11-20T13:00:00Z", 50,
                                           {{"TargetUserName", "bob"},
                                            {"TargetDomainName", "CORP"},
                                            {"Status", "0xC000015B"},
                                            {"SubStatus", "0x0"},
                                            {"LogonType", "10"},
                                            {"IpAddress", "10.20.30.41"}})},
      {"RdpDenied4825", security(4825, "2026-11-20T13:00:00Z", 51,
                                 {{"AccountName", "bob"},
                                  {"AccountDomain", "CORP"},
                                  {"LogonID", "0x7b3c1"},
                                  {"ClientAddress", "10.20.30.41"}})},
      {"AccessDenied5", application(1001, "2026-11-20T13:00:00Z", 52).data({{"ErrorCode", "5"}})},
      {"SevenThousandSixtyThreeAsAPort", security(4624, "2026-11-20T13:00:00Z", 53,
                                                  {{"TargetUserName", "bob"},
                                                   {"TargetDomainName", "CORP"},
                                                   {"TargetLogonId", "0x1"},
                                                   {"LogonType", "3"},
                                                   {"IpPort", "7063"}})},
  };
}

class NearMiss : public ::testing::TestWithParam<NearMissCase> {};

TEST_P(NearMiss, GivesNoAlert) {
  Harness h;
  std::vector<Event> events = alice_at_the_console();
  events.push_back(GetParam().event);
  h.run(events);
  EXPECT_TRUE(h.collector.alerts.empty());
  EXPECT_FALSE(h.collector.events.back().payload("sessionwatch.error_code").has_value());
}

INSTANTIATE_TEST_SUITE_P(Session, NearMiss, ::testing::ValuesIn(near_misses()),
                         [](const auto& info) { return info.param.name; });

TEST(Alert, DocumentHasTheEcsShape) {
  Harness h;
  std::vector<Event> events = alice_at_the_console();
  events.push_back(application(3002, "2026-11-20T14:05:00Z", 20, "InventoryAgent")
                       .data({{"Operation", "OpenConsoleSession"},
                              {"Account", "CORP\\svc-inventory"},
                              {"HResult", "0x80071B97"}}));
  h.run(events);
  ASSERT_EQ(h.collector.alerts.size(), 1u);
  const Alert& a = h.collector.alerts[0];
  const json doc = alert_to_json(a);
  EXPECT_EQ(doc["@timestamp"], "2026-11-20T14:05:00.0000000Z");
  EXPECT_EQ(doc["event"]["kind"], "alert");
  EXPECT_EQ(doc["event"]["id"], a.id);
  EXPECT_EQ(doc["event"]["outcome"], "failure");
  EXPECT_EQ(doc["event"]["category"], json::array({"authentication", "session"}));
  EXPECT_EQ(doc["event"]["severity"], ecs_severity(Level::kHigh));
  EXPECT_EQ(doc["event"]["type"], json::array({"start"}));
  EXPECT_EQ(doc["event"]["action"], "console-logon-refused");
  EXPECT_EQ(doc["host"]["name"], "WS-FIN-07.corp.example");
  EXPECT_EQ(a.host, "WS-FIN-07.corp.example");
  EXPECT_EQ(doc["user"]["name"], "svc-inventory");
  EXPECT_EQ(doc["user"]["domain"], "CORP");
  EXPECT_EQ(doc["sessionwatch"]["attempt"]["source"]["user"], "event");
  EXPECT_EQ(doc["rule"]["author"], json::array({"sessionwatch"}));
  EXPECT_EQ(doc["sessionwatch"]["rule"]["level"], "high");
  EXPECT_FALSE(doc["rule"].contains("level")) << "not an ECS rule field";
  EXPECT_EQ(doc["winlog"]["channel"], "Application");
  EXPECT_EQ(doc["winlog"]["provider_name"], "InventoryAgent");
  EXPECT_EQ(doc["winlog"]["event_data"]["HResult"], "0x80071b97");
  EXPECT_FALSE(doc["winlog"]["event_data"].contains("sessionwatch.console_user"))
      << "enrichment lives under sessionwatch.*, not in the Windows event";
  EXPECT_EQ(doc["sessionwatch"]["console"]["state"], "active");
  EXPECT_EQ(doc["sessionwatch"]["console"]["since"], "2026-11-20T08:01:12.5000000Z");
  const std::string remediation = doc["sessionwatch"]["remediation"];
  for (std::string_view want :
       {"CORP\\alice", "quser /server:WS-FIN-07.corp.example", "qwinsta",
        "logoff 1 /server:WS-FIN-07.corp.example", "Task Manager", "mstsc /admin",
        "fSingleSessionPerUser", "Allow log on locally",
        "Allow log on through Remote Desktop Services", "0xC000015B", "4825"}) {
    EXPECT_NE(remediation.find(want), std::string::npos) << want << "\n" << remediation;
  }
  ASSERT_EQ(doc["sessionwatch"]["evidence"].size(), 1u);
  EXPECT_EQ(doc["sessionwatch"]["evidence"][0]["record_id"], 20);
}

TEST(Alert, RuleAuthorAndMetadataAreCarried) {
  RuleInfo rule;
  rule.id = "0f4c7e1e-1111-4222-8333-444455556666";
  rule.title = "Console takeover";
  rule.description = "A remote user took over the console";
  rule.author = "Jane Analyst, Joe Hunter";
  rule.level = Level::kMedium;
  rule.references = {"https://example.org/takeover"};
  rule.source = "rules/takeover.yml";
  Event e = lsm(25, "2026-11-20T13:00:00Z", 9,
                {{"User", "CORP\\bob"}, {"SessionID", "2"}, {"Address", "10.20.30.41"}});
  const Alert a = build_alert(rule, e, {}, nullptr);
  EXPECT_EQ(alert_to_json(a)["rule"]["author"], json::array({"Jane Analyst", "Joe Hunter"}));
  EXPECT_EQ(alert_to_json(a)["rule"]["name"], "Console takeover");
  EXPECT_EQ(alert_to_json(a)["rule"]["description"], "A remote user took over the console");
  EXPECT_EQ(alert_to_json(a)["sessionwatch"]["rule"]["level"], "medium");
  EXPECT_EQ(alert_to_json(a)["rule"]["ruleset"], "sigma");
  EXPECT_EQ(alert_to_json(a)["sessionwatch"]["rule"]["file"], "rules/takeover.yml");
  EXPECT_EQ(alert_to_json(a)["rule"]["reference"], "https://example.org/takeover");
  // TS-LSM 25: a session reconnected, with Winlogbeat's action name.
  EXPECT_EQ(alert_to_json(a)["event"]["action"], "session-reconnected");
  EXPECT_EQ(a.rule_id, rule.id);
  EXPECT_EQ(a.level, Level::kMedium);
  // Not a 7063: no error, no remediation, nothing guessed about the console.
  EXPECT_FALSE(alert_to_json(a).contains("error"));
  EXPECT_TRUE(alert_to_json(a)["sessionwatch"]["remediation"].is_null());
  EXPECT_TRUE(alert_to_json(a)["sessionwatch"]["console"]["user"].is_null());
  EXPECT_EQ(alert_to_json(a)["sessionwatch"]["console"]["state"], "unknown");
  EXPECT_TRUE(alert_to_json(a)["sessionwatch"]["attempt"]["count_last_hour"].is_null());
  EXPECT_EQ(alert_to_json(a)["user"]["name"], "bob");
  EXPECT_EQ(alert_to_json(a)["source"]["ip"], "10.20.30.41");
  EXPECT_EQ(alert_to_json(a)["winlog"]["user_data"]["SessionID"], "2");
}

TEST(Alert, TrackerAndMessageDisagreementIsStated) {
  Harness h;
  std::vector<Event> events = alice_at_the_console();
  std::string text(kMessage7063);
  for (std::size_t p; (p = text.find("alice")) != std::string::npos;) text.replace(p, 5, "carol");
  events.push_back(application(1001, "2026-11-20T13:03:30Z", 30).message(text));
  h.run(events);
  ASSERT_EQ(h.collector.alerts.size(), 1u);
  const json console = alert_to_json(h.collector.alerts[0])["sessionwatch"]["console"];
  EXPECT_EQ(console["user"], "carol");
  EXPECT_EQ(console["source"]["user"], "message");
  EXPECT_TRUE(console["session_id"].is_null()) << "alice's session id is not carol's";
  EXPECT_EQ(console["tracker"]["user"], "alice");
  EXPECT_EQ(console["tracker"]["session_id"], 1);
  const std::string disagreement = console["disagreement"];
  EXPECT_NE(disagreement.find("CORP\\carol"), std::string::npos) << disagreement;
  EXPECT_NE(disagreement.find("CORP\\alice"), std::string::npos) << disagreement;
}

TEST(Alert, TrackerAndMessageAgreementIsConfirmed) {
  Harness h;
  std::vector<Event> events = alice_at_the_console();
  events.push_back(application(1001, "2026-11-20T13:03:30Z", 31).message(kMessage7063));
  h.run(events);
  ASSERT_EQ(h.collector.alerts.size(), 1u);
  const json console = alert_to_json(h.collector.alerts[0])["sessionwatch"]["console"];
  EXPECT_EQ(console["user"], "alice");
  EXPECT_EQ(console["source"]["user"], "message");
  EXPECT_EQ(console["confirmed_by"], "tracker");
  EXPECT_FALSE(console.contains("disagreement"));
}

TEST(Alert, MessageNamesTheHolderWhenTheTrackerKnowsNothing) {
  Harness h;
  h.run({application(1001, "2026-11-20T13:03:30Z", 32).message(kMessage7063)});
  ASSERT_EQ(h.collector.alerts.size(), 1u);
  const json doc = alert_to_json(h.collector.alerts[0]);
  EXPECT_EQ(doc["sessionwatch"]["console"]["user"], "alice");
  EXPECT_EQ(doc["sessionwatch"]["console"]["domain"], "CORP");
  EXPECT_EQ(doc["sessionwatch"]["console"]["state"], "unknown");
  EXPECT_TRUE(doc["sessionwatch"]["console"]["session_id"].is_null());
  EXPECT_FALSE(doc.contains("user")) << "nobody known was refused";
  EXPECT_TRUE(doc["sessionwatch"]["attempt"]["user"].is_null());
  const std::string remediation = doc["sessionwatch"]["remediation"];
  EXPECT_NE(remediation.find("logoff <ID> /server:"), std::string::npos) << remediation;
}

TEST(Alert, RequesterFromTheRefusedArbitrationJustBefore) {
  Harness h;
  std::vector<Event> events = alice_at_the_console();
  const std::string_view act = "{9C1D2E3F-4A5B-4C6D-8E9F-000000000002}";
  events.push_back(rcm1149("2026-11-20T13:02:05Z", 100, "bob", "CORP", "10.20.30.41"));
  events.push_back(
      logon("2026-11-20T13:02:06Z", 101, "bob", "CORP", kBobSid, 10, "0x7b3c1", "10.20.30.41"));
  events.push_back(
      lsm(41, "2026-11-20T13:02:06Z", 102, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, act));
  events.push_back(
      lsm(42, "2026-11-20T13:02:08Z", 103, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, act));
  events.push_back(logoff("2026-11-20T13:02:09Z", 104, "bob", "CORP", 10, "0x7b3c1"));
  // A script's output 85 s later, saying nothing of who ran it.
  events.push_back(application(1001, "2026-11-20T13:03:30Z", 105).data({{"", "Error code 7063"}}));
  h.run(events);
  ASSERT_EQ(h.collector.alerts.size(), 2u);  // the inferred one, then the observed one
  const json doc = alert_to_json(h.collector.alerts[1]);
  EXPECT_EQ(doc["sessionwatch"]["detection"], "observed");
  // A guess is not a fact of the event: it stays under sessionwatch.attempt, with its basis.
  EXPECT_FALSE(doc.contains("user")) << doc.dump();
  EXPECT_FALSE(doc.contains("source")) << doc.dump();
  EXPECT_EQ(doc["sessionwatch"]["attempt"]["user"], "bob");
  EXPECT_EQ(doc["sessionwatch"]["attempt"]["address"], "10.20.30.41");
  EXPECT_EQ(doc["sessionwatch"]["attempt"]["source"]["user"], "tracker");
  const std::string table = render_alert_table({h.collector.alerts[1]});
  EXPECT_NE(table.find("CORP\\bob from 10.20.30.41 (guessed)"), std::string::npos) << table;
  EXPECT_NE(doc["sessionwatch"]["attempt"]["basis"].get<std::string>().find("refused console"),
            std::string::npos);
  EXPECT_EQ(doc["sessionwatch"]["attempt"]["count_last_hour"], 2);
}

TEST(Alert, IdsAreDeterministic) {
  Event e = application(1001, "2026-11-20T13:03:30Z", 40).data({{"ErrorCode", "7063"}});
  const Alert a = build_alert(BuiltinDetections::observed_rule(), e, {}, nullptr);
  const Alert b = build_alert(BuiltinDetections::observed_rule(), e, {}, nullptr);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.id.size(), 32u);
  EXPECT_EQ(a.id, stable_alert_id("ws-fin-07", "Application", "40",
                                  BuiltinDetections::observed_rule().id));
  const Alert other_rule = build_alert(BuiltinDetections::inferred_rule(), e, {}, nullptr);
  EXPECT_NE(a.id, other_rule.id);
  Event next = e;
  next.record_id = 41;
  EXPECT_NE(a.id, build_alert(BuiltinDetections::observed_rule(), next, {}, nullptr).id);
}

TEST(Alert, TextLineIdsDependOnWhatHappenedNotWhereTheFileLies) {
  auto line = [](std::string_view origin, std::uint64_t offset, std::string_view time,
                 std::string_view text, std::string_view computer = "WS-FIN-07") {
    Event e;
    e.set_channel("Application");
    e.set_provider_name("sessionwatch-text");
    e.set_computer(computer);
    e.time_created = at(time);
    e.set_message(text);
    e.set_origin(origin);
    e.source_offset = offset;
    return build_alert(BuiltinDetections::observed_rule(), e, {}, nullptr).id;
  };
  const std::string id = line("in/tools.log", 3, "2026-11-20T13:03:30Z", "Error code 7063");
  // Rotated (renamed, the line now 7th of another file) or moved: the same incident, one id.
  EXPECT_EQ(id, line("in/tools.log.1", 7, "2026-11-20T13:03:30Z", "Error code 7063"));
  EXPECT_EQ(id, line("archive/tools.log", 3, "2026-11-20T13:03:30Z", "Error code 7063"));
  // The machine by its DNS name: the same machine.
  EXPECT_EQ(id, line("in/tools.log", 3, "2026-11-20T13:03:30Z", "Error code 7063",
                     "WS-FIN-07.corp.example"));
  // Another time, another text, another machine: another incident.
  EXPECT_NE(id, line("in/tools.log", 3, "2026-11-20T13:03:31Z", "Error code 7063"));
  EXPECT_NE(id, line("in/tools.log", 3, "2026-11-20T13:03:30Z", "Error [7063]"));
  EXPECT_NE(id, line("in/tools.log", 3, "2026-11-20T13:03:30Z", "Error code 7063", "WS-FIN-08"));
}

TEST(Alert, OneIncidentSeenAsAnEventAndAsATextLineCountsOnce) {
  Harness h;
  std::vector<Event> events = alice_at_the_console();
  events.push_back(application(1001, "2026-11-20T13:03:30Z", 105)
                       .data({{"", "logoff /server:WS-FIN-07 1"}, {"", "Error code 7063"}}));
  Event line;  // the same script's log line, as the text decoder gives it
  line.set_channel("Application");
  line.set_provider_name("sessionwatch-text");
  line.set_computer("WS-FIN-07");
  line.time_created = at("2026-11-20T13:03:30Z");
  line.set_message("2026-11-20 13:03:30 [WS-FIN-07] Error code 7063");
  events.push_back(line);
  h.run(events);
  ASSERT_EQ(h.collector.alerts.size(), 2u);
  for (const Alert& a : h.collector.alerts) {
    EXPECT_EQ(alert_to_json(a)["sessionwatch"]["attempt"]["count_last_hour"], 1)
        << alert_to_json(a).dump();
    EXPECT_EQ(alert_to_json(a)["host"]["name"], "WS-FIN-07.corp.example");
    EXPECT_EQ(alert_to_json(a)["host"]["hostname"], "WS-FIN-07");
  }
  // A second attempt a minute later is another one.
  Harness again;
  events.push_back(application(1001, "2026-11-20T13:04:30Z", 106).data({{"", "Error code 7063"}}));
  again.run(events);
  ASSERT_EQ(again.collector.alerts.size(), 3u);
  EXPECT_EQ(alert_to_json(again.collector.alerts[2])["sessionwatch"]["attempt"]["count_last_hour"],
            2);
}

TEST(Alert, ATextLineWithoutAComputerNamesNone) {
  Harness h;
  Event line;
  line.set_channel("Application");
  line.set_provider_name("sessionwatch-text");
  line.time_created = at("2026-11-20T13:03:30Z");
  line.set_message(std::string("rwinsta 1: ") + std::string(kMessage7063));
  h.run({line});
  ASSERT_EQ(h.collector.alerts.size(), 1u);
  const json doc = alert_to_json(h.collector.alerts[0]);
  EXPECT_FALSE(doc.contains("host")) << doc["host"].dump();
  const std::string remediation = doc["sessionwatch"]["remediation"];
  EXPECT_EQ(remediation.find("console of ."), std::string::npos) << remediation;
  EXPECT_EQ(remediation.find("/server: "), std::string::npos) << remediation;
  EXPECT_NE(remediation.find("quser /server:<COMPUTER>"), std::string::npos) << remediation;
}

struct AddressCase {
  std::string name, written;
  json ip, port;
};

class ClientAddresses : public ::testing::TestWithParam<AddressCase> {};

TEST_P(ClientAddresses, OnlyValidAddressesAreIps) {
  const AddressCase& c = GetParam();
  Event e = lsm(25, "2026-11-20T13:00:00Z", 9,
                {{"User", "CORP\\bob"}, {"SessionID", "2"}, {"Address", c.written}});
  const json doc = alert_to_json(build_alert(BuiltinDetections::observed_rule(), e, {}, nullptr));
  EXPECT_EQ(doc["source"]["address"], c.written);
  EXPECT_EQ(doc["source"].value("ip", json()), c.ip) << doc["source"].dump();
  EXPECT_EQ(doc["source"].value("port", json()), c.port) << doc["source"].dump();
  EXPECT_EQ(doc["sessionwatch"]["attempt"]["address"], c.written);
}

INSTANTIATE_TEST_SUITE_P(
    Alert, ClientAddresses,
    ::testing::Values(AddressCase{"Ipv4", "10.20.30.41", "10.20.30.41", nullptr},
                      AddressCase{"Ipv4AndPort", "10.1.2.3:50123", "10.1.2.3", 50123},
                      AddressCase{"Ipv6WithZone", "fe80::1%12", "fe80::1", nullptr},
                      AddressCase{"BracketedIpv6AndPort", "[fe80::1%12]:3389", "fe80::1", 3389},
                      AddressCase{"Ipv6", "2001:db8::7", "2001:db8::7", nullptr},
                      AddressCase{"ClientName", "LAPTOP-BOB", nullptr, nullptr},
                      AddressCase{"ShortDottedNumber", "10.1.2", nullptr, nullptr},
                      AddressCase{"LeadingZeroPart", "010.1.2.3", nullptr, nullptr},
                      AddressCase{"Ipv4Mapped", "::ffff:10.0.0.1", "::ffff:10.0.0.1", nullptr},
                      AddressCase{"PortOutOfRange", "10.1.2.3:70000", nullptr, nullptr}),
    [](const auto& info) { return info.param.name; });

TEST(Alert, SameInputTwiceGivesTheSameAlertIds) {
  auto ids = [] {
    Harness h;
    std::vector<Event> events = alice_at_the_console();
    events.push_back(application(1001, "2026-11-20T13:03:30Z", 30).message(kMessage7063));
    h.run(events);
    std::vector<std::string> out;
    for (const Alert& a : h.collector.alerts) out.push_back(a.id);
    return out;
  };
  const auto first = ids();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first, ids());
}

TEST(Alert, BuiltinDetectionsCanBeTurnedOff) {
  Harness h;
  h.collector.detections.set_enabled(false);
  h.run({application(1001, "2026-11-20T13:03:30Z", 30).message(kMessage7063)});
  EXPECT_TRUE(h.collector.alerts.empty());
  EXPECT_EQ(h.collector.events.back().payload("sessionwatch.error_code"), "7063")
      << "enrichment still runs for the rules";
}

TEST(Alert, TableShowsWhoWasRefusedAndWhoHoldsTheConsole) {
  Harness h;
  std::vector<Event> events = alice_at_the_console();
  const std::string_view act = "{9C1D2E3F-4A5B-4C6D-8E9F-000000000002}";
  events.push_back(rcm1149("2026-11-20T13:02:05Z", 100, "bob", "CORP", "10.20.30.41"));
  events.push_back(
      lsm(41, "2026-11-20T13:02:06Z", 102, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, act));
  events.push_back(
      lsm(42, "2026-11-20T13:02:08Z", 103, {{"User", "CORP\\bob"}, {"SessionID", "2"}}, act));
  h.run(events);
  ASSERT_EQ(h.collector.alerts.size(), 1u);
  const std::string table = render_alert_table(h.collector.alerts);
  const auto newline = table.find('\n');
  const std::string header = table.substr(0, newline);
  const std::string row = table.substr(newline + 1);
  for (std::string_view col :
       {"TIME", "HOST", "REQUESTER", "CONSOLE HOLDER", "SINCE", "DETECTION", "RULE"}) {
    EXPECT_NE(header.find(col), std::string::npos) << col;
  }
  for (std::string_view cell :
       {"2026-11-20T13:02:08.0000000Z", "WS-FIN-07.corp.example", "CORP\\bob from 10.20.30.41",
        "CORP\\alice #1 (active)", "2026-11-20T08:01:12.5000000Z", "inferred"}) {
    EXPECT_NE(row.find(cell), std::string::npos) << cell << "\n" << table;
  }
}

}  // namespace
}  // namespace sw::test
