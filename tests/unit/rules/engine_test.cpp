#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sessionwatch/rules.hpp"

namespace sw {
namespace {

struct Fired {
  std::string id;
  std::string title;
  std::string author;
  std::vector<std::string> fields;
  bool correlation = false;
  CorrelationMatch corr;
};

Event make_event(std::string_view channel, std::uint32_t event_id,
                 std::vector<std::pair<std::string, std::string>> payload, Ticks time = 0,
                 std::string_view computer = "ws1") {
  Event e;
  e.set_channel(channel);
  e.event_id = event_id;
  e.set_computer(computer);
  e.time_created = time;
  e.record_id = static_cast<std::uint64_t>(time / kTicksPerSecond) + 1;
  for (auto& [k, v] : payload) e.add_field(k, v);
  return e;
}

std::vector<Fired> run(RuleSet& rs, const Event& e) {
  std::vector<Fired> out;
  rs.match(e, [&](const RuleMatch& m) {
    Fired f{m.rule.id, m.rule.title, m.rule.author, m.matched_fields, m.correlation != nullptr, {}};
    if (m.correlation) f.corr = *m.correlation;
    out.push_back(std::move(f));
  });
  return out;
}

std::unique_ptr<RuleSet> load_ok(const std::string& yaml, const RuleOptions& options = {}) {
  RuleLoadResult r = RuleSet::load_text(yaml, "test.yml", options);
  for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
  return std::move(r.rules);
}

std::string rule(const std::string& logsource, const std::string& detection,
                 const std::string& id = "r1") {
  return "title: Test rule\nid: " + id + "\nauthor: Tester\nlogsource:\n" + logsource +
         "detection:\n" + detection;
}

const std::string kSecurity = "  product: windows\n  service: security\n";

bool fires(RuleSet& rs, const Event& e) {
  return !run(rs, e).empty();
}

TEST(Engine, SelectionMapIsAndListIsOr) {
  auto rs = load_ok(rule(kSecurity,
                         "  sel:\n    EventID: 4624\n    LogonType:\n      - 10\n      - 7\n"
                         "  condition: sel\n"));
  EXPECT_TRUE(fires(*rs, make_event("Security", 4624, {{"LogonType", "10"}})));
  EXPECT_TRUE(fires(*rs, make_event("Security", 4624, {{"LogonType", "7"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 4624, {{"LogonType", "3"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 4625, {{"LogonType", "10"}})));
  // Logsource: the same event on another channel is not seen by the rule.
  EXPECT_FALSE(fires(*rs, make_event("System", 4624, {{"LogonType", "10"}})));
  // Channel names compare case-insensitively.
  EXPECT_TRUE(fires(*rs, make_event("SECURITY", 4624, {{"LogonType", "10"}})));
}

TEST(Engine, ListOfMapsIsOrAndMetadataIsCarried) {
  auto rs = load_ok(rule(kSecurity,
                         "  sel:\n    - TargetUserName: alice\n    - TargetUserName: bob\n"
                         "      LogonType: 2\n  condition: sel\n"));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"TargetUserName", "ALICE"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"TargetUserName", "bob"}})));
  auto hits = run(*rs, make_event("Security", 1, {{"TargetUserName", "bob"}, {"LogonType", "2"}}));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].author, "Tester");
  EXPECT_EQ(hits[0].fields, (std::vector<std::string>{"TargetUserName", "LogonType"}));
}

TEST(Engine, ConditionPrecedence) {
  // not > and > or: "a or b and not c" == "a or (b and (not c))"
  auto rs = load_ok(rule(kSecurity,
                         "  a:\n    X: a\n  b:\n    Y: b\n  c:\n    Z: c\n"
                         "  condition: a or b and not c\n"));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"X", "a"}, {"Z", "c"}})));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"Y", "b"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"Y", "b"}, {"Z", "c"}})));
  auto paren = load_ok(rule(kSecurity,
                            "  a:\n    X: a\n  b:\n    Y: b\n  c:\n    Z: c\n"
                            "  condition: (a or b) and not c\n"));
  EXPECT_FALSE(fires(*paren, make_event("Security", 1, {{"X", "a"}, {"Z", "c"}})));
  EXPECT_TRUE(fires(*paren, make_event("Security", 1, {{"X", "a"}})));
}

TEST(Engine, OfPatternsAndThem) {
  const std::string sels =
      "  selection_a:\n    X: a\n  selection_b:\n    Y: b\n  _hidden:\n    Z: z\n";
  auto one = load_ok(rule(kSecurity, sels + "  condition: 1 of selection_*\n"));
  auto all = load_ok(rule(kSecurity, sels + "  condition: all of selection_*\n"));
  auto them = load_ok(rule(kSecurity, sels + "  condition: all of them\n"));
  auto any_them = load_ok(rule(kSecurity, sels + "  condition: 1 of them\n"));
  const Event a = make_event("Security", 1, {{"X", "a"}});
  const Event ab = make_event("Security", 1, {{"X", "a"}, {"Y", "b"}});
  const Event z = make_event("Security", 1, {{"Z", "z"}});
  EXPECT_TRUE(fires(*one, a));
  EXPECT_FALSE(fires(*all, a));
  EXPECT_TRUE(fires(*all, ab));
  EXPECT_TRUE(fires(*them, ab));  // "them" skips identifiers starting with '_'
  EXPECT_FALSE(fires(*any_them, z));
}

TEST(Engine, NullEmptyAndExists) {
  auto rs =
      load_ok(rule(kSecurity,
                   "  sel:\n    A: null\n  empty:\n    B: ''\n  ex:\n    C|exists: true\n"
                   "  nex:\n    D|exists: false\n  condition: sel and empty and ex and nex\n"));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"B", ""}, {"C", ""}})));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"A", ""}, {"B", ""}, {"C", "x"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"A", "v"}, {"B", ""}, {"C", "x"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"B", "x"}, {"C", "x"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"B", ""}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"B", ""}, {"C", ""}, {"D", "1"}})));
}

TEST(Engine, StringModifiers) {
  auto rs =
      load_ok(rule(kSecurity,
                   "  sel:\n    CommandLine|contains|all:\n      - ' -nop '\n      - ' -w hidden'\n"
                   "    Image|endswith: '\\powershell.exe'\n"
                   "    ParentImage|startswith: 'C:\\Windows\\'\n  condition: sel\n"));
  const Event good = make_event("Security", 1,
                                {{"CommandLine", "powershell.exe -NoP -nop -W Hidden x"},
                                 {"Image", "C:\\WINDOWS\\System32\\PowerShell.exe"},
                                 {"ParentImage", "c:\\windows\\explorer.exe"}});
  EXPECT_TRUE(fires(*rs, good));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1,
                                     {{"CommandLine", "powershell.exe -nop x"},
                                      {"Image", "C:\\WINDOWS\\System32\\PowerShell.exe"},
                                      {"ParentImage", "c:\\windows\\explorer.exe"}})));
  auto cased = load_ok(rule(kSecurity, "  sel:\n    X|cased: Abc\n  condition: sel\n"));
  EXPECT_TRUE(fires(*cased, make_event("Security", 1, {{"X", "Abc"}})));
  EXPECT_FALSE(fires(*cased, make_event("Security", 1, {{"X", "abc"}})));
}

TEST(Engine, WindashModifier) {
  auto rs = load_ok(
      rule(kSecurity, "  sel:\n    CommandLine|windash|contains: ' -decode '\n  condition: sel\n"));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"CommandLine", "certutil /decode a b"}})));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"CommandLine", "certutil -decode a b"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"CommandLine", "certutil decode a b"}})));
}

TEST(Engine, RegexModifiersAndFlags) {
  auto rs = load_ok(rule(kSecurity, "  sel:\n    X|re: '^ab+c$'\n  condition: sel\n"));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"X", "abbbc"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"X", "ABC"}})));  // case-sensitive default
  auto ri = load_ok(rule(kSecurity, "  sel:\n    X|re|i: '^ab+c$'\n  condition: sel\n"));
  EXPECT_TRUE(fires(*ri, make_event("Security", 1, {{"X", "ABC"}})));
  auto rm = load_ok(rule(kSecurity, "  sel:\n    X|re|m: '^second$'\n  condition: sel\n"));
  EXPECT_TRUE(fires(*rm, make_event("Security", 1, {{"X", "first\nsecond"}})));
  auto rs2 = load_ok(rule(kSecurity, "  sel:\n    X|re|s: 'a.b'\n  condition: sel\n"));
  EXPECT_TRUE(fires(*rs2, make_event("Security", 1, {{"X", "a\nb"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"X", "a\nb"}})));
  auto unanchored = load_ok(rule(kSecurity, "  sel:\n    X|re: 'b{2}'\n  condition: sel\n"));
  EXPECT_TRUE(fires(*unanchored, make_event("Security", 1, {{"X", "abbc"}})));
}

TEST(Engine, Base64Modifiers) {
  auto rs = load_ok(rule(
      kSecurity, "  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel\n"));
  // "IEX (New-Object Net.WebClient).DownloadString('http://x')" base64-encoded, at some offset.
  EXPECT_TRUE(fires(
      *rs, make_event("Security", 1, {{"CommandLine", "powershell -e aWV4KCdodHRwOi8veCcp"}})));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"CommandLine", "x aHR0cDovL3g="}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"CommandLine", "x aHR0cHM6Ly94"}})));
  auto wide = load_ok(rule(
      kSecurity, "  sel:\n    CommandLine|wide|base64offset|contains: 'iex'\n  condition: sel\n"));
  // base64(UTF-16LE("iex")) = "aQBlAHgA"
  EXPECT_TRUE(fires(*wide, make_event("Security", 1, {{"CommandLine", "-enc aQBlAHgA"}})));
  auto b64 = load_ok(rule(kSecurity, "  sel:\n    X|base64: 'cmd'\n  condition: sel\n"));
  EXPECT_TRUE(fires(*b64, make_event("Security", 1, {{"X", "Y21k"}})));
}

TEST(Engine, CidrNumericFieldref) {
  auto rs = load_ok(rule(kSecurity,
                         "  sel:\n    IpAddress|cidr:\n      - 10.0.0.0/8\n      - 'fd00::/8'\n"
                         "  condition: sel\n"));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"IpAddress", "10.2.3.4"}})));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"IpAddress", "fd12::1"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"IpAddress", "192.168.1.1"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"IpAddress", "-"}})));
  auto num =
      load_ok(rule(kSecurity, "  sel:\n    Count|gte: 5\n    Size|lt: 0x10\n  condition: sel\n"));
  EXPECT_TRUE(fires(*num, make_event("Security", 1, {{"Count", "5"}, {"Size", "15"}})));
  EXPECT_FALSE(fires(*num, make_event("Security", 1, {{"Count", "4"}, {"Size", "15"}})));
  EXPECT_TRUE(fires(*num, make_event("Security", 1, {{"Count", "0x10"}, {"Size", "1"}})));
  EXPECT_FALSE(fires(*num, make_event("Security", 1, {{"Count", "many"}, {"Size", "1"}})));
  auto ref = load_ok(
      rule(kSecurity, "  sel:\n    SubjectUserName|fieldref: TargetUserName\n  condition: sel\n"));
  EXPECT_TRUE(fires(
      *ref, make_event("Security", 1, {{"SubjectUserName", "Bob"}, {"TargetUserName", "bob"}})));
  EXPECT_FALSE(fires(
      *ref, make_event("Security", 1, {{"SubjectUserName", "Bob"}, {"TargetUserName", "al"}})));
}

TEST(Engine, KeywordsSearchEveryField) {
  auto rs = load_ok(
      rule(kSecurity, "  keywords:\n    - 'mimikatz'\n    - 'sekurlsa'\n  condition: keywords\n"));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"A", "x"}, {"B", "run MIMIKATZ.exe"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"A", "x"}})));
  Event msg = make_event("Security", 1, {});
  msg.set_message("privilege::debug sekurlsa::logonpasswords");
  EXPECT_TRUE(fires(*rs, msg));
}

TEST(Engine, ListsOfSubstringsMatchAnyOfThemWhateverTheirMix) {
  // Plain `*text*` lists are searched in one pass; lists mixing in a wildcard, |cased or |all
  // are not; all must mean the same as testing each value in turn.
  auto rs =
      load_ok(rule(kSecurity,
                   "  any:\n    CommandLine|contains:\n      - ' /dest:'\n      - 'TSCON'\n"
                   "  mixed:\n    CommandLine|contains:\n      - 'query*user'\n      - 'logoff'\n"
                   "  cased:\n    CommandLine|contains|cased:\n      - 'Rdp'\n      - 'rdp'\n"
                   "  every:\n    CommandLine|contains|all:\n      - 'a'\n      - 'b'\n"
                   "  condition: any or mixed or cased or every\n"));
  auto fired_by = [&](std::string_view command) {
    const auto fired = run(*rs, make_event("Security", 1, {{"CommandLine", std::string(command)}}));
    return fired.empty() ? std::vector<std::string>{} : fired[0].fields;
  };
  EXPECT_EQ(fired_by("tscon 3 /DEST:console"), std::vector<std::string>{"CommandLine"});
  EXPECT_FALSE(fired_by("QUERY USER").empty());  // query*user
  EXPECT_FALSE(fired_by("Logoff 2").empty());
  EXPECT_TRUE(fired_by("mstsc RDP").empty());  // |cased: neither Rdp nor rdp
  EXPECT_FALSE(fired_by("mstsc Rdp").empty());
  EXPECT_TRUE(fired_by("mstsc /dst").empty());
  EXPECT_FALSE(fired_by("b then a").empty());  // |all
  EXPECT_TRUE(fired_by("only a").empty());
}

TEST(Engine, KeywordListsNameTheFieldsHoldingThem) {
  auto rs = load_ok(rule(
      kSecurity,
      "  keywords:\n    - 'ERROR_ACCESS_DENIED'\n    - '0x8007042E'\n    - 'Access is denied'\n"
      "  condition: keywords\n"));
  const auto fired = run(*rs, make_event("Security", 1,
                                         {{"A", "no"},
                                          {"Status", "hr=0x8007042e"},
                                          {"B", "ACCESS IS DENIED."},
                                          {"C", "access is denie"}}));
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].fields, (std::vector<std::string>{"Status", "B"}));
  EXPECT_FALSE(
      fires(*rs, make_event("Security", 1, {{"A", "error_access_denie"}, {"B", "0x8007042"}})));
}

TEST(Engine, HexValuesCompareCanonically) {
  auto rs = load_ok(
      rule(kSecurity,
           "  sel:\n    SubStatus: '0xC0000064'\n    Logon: '0x00003E7'\n  condition: sel\n"));
  EXPECT_TRUE(
      fires(*rs, make_event("Security", 1, {{"SubStatus", "0xc0000064"}, {"Logon", "0x3e7"}})));
  EXPECT_FALSE(
      fires(*rs, make_event("Security", 1, {{"SubStatus", "0xc000006a"}, {"Logon", "0x3e7"}})));
}

TEST(Engine, ExpandNeedsConfiguredPlaceholder) {
  const std::string y = rule(
      kSecurity, "  sel:\n    WorkstationName|expand: '%Admin_Workstations%'\n  condition: sel\n");
  RuleLoadResult r = RuleSet::load_text(y, "x.yml");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_TRUE(r.problems[0].unsupported());
  EXPECT_NE(r.problems[0].message.find("%Admin_Workstations%"), std::string::npos);
  RuleOptions o;
  o.placeholders["Admin_Workstations"] = {"ADM-1", "ADM-*"};
  auto rs = load_ok(y, o);
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"WorkstationName", "adm-1"}})));
  EXPECT_TRUE(fires(*rs, make_event("Security", 1, {{"WorkstationName", "ADM-77"}})));
  EXPECT_FALSE(fires(*rs, make_event("Security", 1, {{"WorkstationName", "WS-1"}})));
}

TEST(Engine, CategoryMapsToSysmonAndSecurityWithFieldMapping) {
  auto rs = load_ok(rule("  product: windows\n  category: process_creation\n",
                         "  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n"));
  EXPECT_TRUE(fires(*rs, make_event("Microsoft-Windows-Sysmon/Operational", 1,
                                    {{"Image", "C:\\Windows\\System32\\whoami.exe"}})));
  EXPECT_FALSE(fires(*rs, make_event("Microsoft-Windows-Sysmon/Operational", 11,
                                     {{"Image", "C:\\Windows\\System32\\whoami.exe"}})));
  EXPECT_TRUE(fires(*rs, make_event("Security", 4688,
                                    {{"NewProcessName", "C:\\Windows\\System32\\whoami.exe"}})));
  auto del = load_ok(rule("  product: windows\n  category: registry_delete\n",
                          "  sel:\n    TargetObject|contains: 'Run'\n  condition: sel\n"));
  EXPECT_TRUE(
      fires(*del, make_event("Microsoft-Windows-Sysmon/Operational", 12,
                             {{"EventType", "DeleteValue"}, {"TargetObject", "HKLM\\Run"}})));
  EXPECT_FALSE(
      fires(*del, make_event("Microsoft-Windows-Sysmon/Operational", 12,
                             {{"EventType", "CreateKey"}, {"TargetObject", "HKLM\\Run"}})));
}

TEST(Engine, ConfigExtendsLogsourceMap) {
  const std::string y =
      rule("  product: windows\n  service: my-app\n", "  sel:\n    X: 1\n  condition: sel\n");
  RuleLoadResult r = RuleSet::load_text(y, "x.yml");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].message.rfind("unsupported: logsource service 'my-app'", 0), 0u)
      << r.problems[0].message;
  RuleOptions o;
  o.logsource_yaml.push_back("windows:\n  services:\n    my-app: [{channel: MyApp/Operational}]\n");
  auto rs = load_ok(y, o);
  EXPECT_TRUE(fires(*rs, make_event("MyApp/Operational", 5, {{"X", "1"}})));
  EXPECT_FALSE(fires(*rs, make_event("Application", 5, {{"X", "1"}})));
}

TEST(Engine, EventIdIndexStillSeesNonIndexedRules) {
  // One rule pinned to 4624 by its detection, one with no EventID: both must see a 4624 event,
  // only the second an event 4625.
  const std::string two =
      rule(kSecurity, "  sel:\n    EventID: 4624\n    X: a\n  condition: sel\n", "a") + "\n---\n" +
      rule(kSecurity, "  sel:\n    X: a\n  condition: sel\n", "b");
  auto rs = load_ok(two);
  EXPECT_EQ(run(*rs, make_event("Security", 4624, {{"X", "a"}})).size(), 2u);
  auto hits = run(*rs, make_event("Security", 4625, {{"X", "a"}}));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, "b");
  // "not EventID" must not narrow the index.
  auto neg = load_ok(rule(kSecurity, "  sel:\n    EventID: 4624\n  condition: not sel\n"));
  EXPECT_TRUE(fires(*neg, make_event("Security", 4625, {})));
  EXPECT_FALSE(fires(*neg, make_event("Security", 4624, {})));
}

// ---- errors ----

std::vector<RuleProblem> problems_of(const std::string& yaml) {
  return RuleSet::load_text(yaml, "bad.yml").problems;
}

TEST(Errors, UnknownModifierHasLocation) {
  auto p = problems_of(rule(kSecurity, "  sel:\n    X|contians: a\n  condition: sel\n"));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].message, "unknown modifier 'contians'");
  EXPECT_EQ(p[0].line, 9);
  EXPECT_EQ(p[0].column, 5);
  EXPECT_EQ(p[0].rule, "r1");
  EXPECT_EQ(to_string(p[0]), "bad.yml:9:5: [r1] unknown modifier 'contians'");
}

TEST(Errors, BadRegexAndUnsupportedRegex) {
  auto bad = problems_of(rule(kSecurity, "  sel:\n    X|re: 'a(b'\n  condition: sel\n"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].message.rfind("bad regex:", 0), 0u) << bad[0].message;
  EXPECT_EQ(bad[0].line, 9);
  auto look = problems_of(rule(kSecurity, "  sel:\n    X|re: 'a(?!b)'\n  condition: sel\n"));
  ASSERT_EQ(look.size(), 1u);
  EXPECT_TRUE(look[0].unsupported()) << look[0].message;
}

TEST(Errors, ConditionNamingNoSelection) {
  auto p = problems_of(rule(kSecurity, "  sel:\n    X: a\n  condition: sel and filter\n"));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].message, "condition: 'filter' names no selection");
  EXPECT_EQ(p[0].line, 10);
  EXPECT_EQ(p[0].column, 22);  // column of "filter"
  auto pat = problems_of(rule(kSecurity, "  sel:\n    X: a\n  condition: 1 of filter*\n"));
  ASSERT_EQ(pat.size(), 1u);
  EXPECT_EQ(pat[0].message, "condition: 'filter*' names no selection");
  auto paren = problems_of(rule(kSecurity, "  sel:\n    X: a\n  condition: (sel\n"));
  ASSERT_EQ(paren.size(), 1u);
  EXPECT_EQ(paren[0].message, "condition: unbalanced '('");
}

TEST(Errors, UnsupportedFeaturesAreNamed) {
  auto agg =
      problems_of(rule(kSecurity, "  sel:\n    X: a\n  condition: sel | count() by Y > 5\n"));
  ASSERT_EQ(agg.size(), 1u);
  EXPECT_TRUE(agg[0].unsupported());
  EXPECT_NE(agg[0].message.find("aggregation"), std::string::npos);
  auto product = problems_of(
      rule("  product: linux\n  service: auth\n", "  sel:\n    X: a\n  condition: sel\n"));
  ASSERT_EQ(product.size(), 1u);
  EXPECT_TRUE(product[0].unsupported());
}

// Time modifiers take a part of the field's date (UTC): alone they test equality, with
// gt/gte/lt/lte they compare, with neq they exclude.
TEST(Engine, TimeModifiers) {
  auto at = [](std::string_view date) {
    return make_event("Security", 4624, {{"When", std::string(date)}});
  };
  auto hour = load_ok(rule(kSecurity, "  sel:\n    When|hour: 3\n  condition: sel\n"));
  EXPECT_TRUE(fires(*hour, at("2024-03-05T03:59:59.123Z")));
  EXPECT_TRUE(fires(*hour, at("2024-03-05 05:10:00+02:00")));  // 03:10 UTC
  EXPECT_FALSE(fires(*hour, at("2024-03-05T13:00:00Z")));
  EXPECT_FALSE(fires(*hour, at("not a date")));
  auto night = load_ok(rule(kSecurity,
                            "  late:\n    When|hour|gte: 22\n  early:\n    When|hour|lt: 6\n"
                            "  condition: late or early\n"));
  EXPECT_TRUE(fires(*night, at("2024-03-05T23:00:00Z")));
  EXPECT_TRUE(fires(*night, at("2024-03-05T05:59:00Z")));
  EXPECT_FALSE(fires(*night, at("2024-03-05T12:00:00Z")));
  auto parts = load_ok(rule(kSecurity,
                            "  sel:\n    When|minute: 7\n    When|day: 31\n    When|month: 12\n"
                            "    When|year: 2024\n    When|week: 1\n  condition: sel\n"));
  // 2024-12-31 is a Tuesday in ISO week 1 of 2025.
  EXPECT_TRUE(fires(*parts, at("2024-12-31T10:07:00Z")));
  EXPECT_FALSE(fires(*parts, at("2024-12-31T10:08:00Z")));
  auto week = load_ok(rule(kSecurity, "  sel:\n    When|week: 53\n  condition: sel\n"));
  EXPECT_TRUE(fires(*week, at("2021-01-03T00:00:00Z")));  // Sunday of 2020's week 53
  auto not_june = load_ok(rule(kSecurity, "  sel:\n    When|month|neq: 6\n  condition: sel\n"));
  EXPECT_TRUE(fires(*not_june, at("2024-05-01T00:00:00Z")));
  EXPECT_FALSE(fires(*not_june, at("2024-06-01T00:00:00Z")));
  auto bad = problems_of(rule(kSecurity, "  sel:\n    When|hour|contains: 3\n  condition: sel\n"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].message.find("time modifier"), std::string::npos) << bad[0].message;
  auto nan = problems_of(rule(kSecurity, "  sel:\n    When|hour: noon\n  condition: sel\n"));
  ASSERT_EQ(nan.size(), 1u);
  EXPECT_EQ(nan[0].message, "'noon' is not a number");
}

// A detection without a condition is named as such, at the detection (Hayabusa ships one).
TEST(Errors, MissingConditionIsNamedAtTheDetection) {
  auto p = problems_of(rule(kSecurity, "  sel:\n    EventID: 4624\n"));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].message, "detection has no condition");
  EXPECT_EQ(p[0].line, 8);
}

TEST(Errors, BrokenYamlAndOneBadRuleAmongGood) {
  auto yaml = problems_of("title: x\n  bad: [\n");
  ASSERT_EQ(yaml.size(), 1u);
  EXPECT_EQ(yaml[0].message.rfind("YAML syntax:", 0), 0u);
  EXPECT_GT(yaml[0].line, 0);
  const std::string mixed = rule(kSecurity, "  sel:\n    X: a\n  condition: sel\n", "good") +
                            "\n---\n" +
                            rule(kSecurity, "  sel:\n    X|nope: a\n  condition: sel\n", "bad");
  RuleLoadResult r = RuleSet::load_text(mixed, "m.yml");
  EXPECT_EQ(r.loaded, 1u);
  EXPECT_EQ(r.rejected, 1u);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].rule, "bad");
  EXPECT_EQ(r.problems[0].line, 21);  // second document's line numbers continue the file's
  EXPECT_FALSE(r.ok());
}

TEST(Errors, GarbageNeverCrashes) {
  const char* inputs[] = {
      "",
      "---\n---\n",
      "- a\n- b\n",
      "title: t\ndetection: 5\nlogsource: {}\n",
      "title: t\nlogsource: {product: windows}\ndetection:\n  sel: {}\n  condition: sel\n",
      "title: t\nlogsource: {product: windows}\ndetection:\n  condition: [ ]\n",
      "title: t\nlogsource: {product: windows}\ndetection:\n  a: {X: [{}]}\n  condition: a\n",
      "title: t\ncorrelation: {type: temporal, rules: [], timespan: x}\n",
      "\x01\x02\xff"};
  for (const char* in : inputs) {
    RuleLoadResult r = RuleSet::load_text(in, "g.yml");
    ASSERT_NE(r.rules, nullptr);
  }
}

}  // namespace
}  // namespace sw
