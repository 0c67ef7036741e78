// RuleSet::interest(): the events rules can match, by logsource channel and required EventID.
// (The corpus-wide check that every event firing a rule is inside its interest is in
// conformance_test.cpp.)
#include <gtest/gtest.h>

#include "sessionwatch/rules.hpp"
#include "sessionwatch/text.hpp"

namespace sw {
namespace {

using Ids = std::vector<std::uint32_t>;

EventInterest interest_of(const std::string& yaml) {
  RuleLoadResult r = RuleSet::load_text(yaml, "test.yml");
  for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
  return r.rules->interest();
}

std::string rule(const std::string& id, const std::string& logsource,
                 const std::string& detection) {
  return "title: " + id + "\nid: " + id + "\nlogsource:\n" + logsource + "detection:\n" + detection;
}

const std::string kSecurity = "  product: windows\n  service: security\n";

TEST(RuleInterest, EventIdsOfOneChannel) {
  const EventInterest interest = interest_of(
      rule("a", kSecurity,
           "  selection:\n    EventID: 4624\n    LogonType: 10\n  condition: selection\n") +
      "---\n" +
      rule("b", kSecurity,
           "  selection:\n    EventID:\n      - 4778\n      - 4779\n"
           "  condition: selection\n"));
  EXPECT_EQ(interest.event_ids("Security"), (Ids{4624, 4778, 4779}));
  EXPECT_EQ(interest.event_ids("System"), Ids{});
}

TEST(RuleInterest, AnIdOnlyOneBranchRequiresLeavesTheChannelWhole) {
  const EventInterest interest =
      interest_of(rule("a", kSecurity,
                       "  one:\n    EventID: 4624\n  other:\n    TargetUserName: alice\n  "
                       "condition: one or other\n"));
  EXPECT_EQ(interest.event_ids("Security"), std::nullopt);
  EXPECT_EQ(interest.event_ids("Application"), Ids{});
}

TEST(RuleInterest, ServicesMapToTheirChannels) {
  const EventInterest interest =
      interest_of(rule("a", "  product: windows\n  service: system\n",
                       "  selection:\n    EventID: 7045\n  condition: selection\n") +
                  "---\n" +
                  rule("b", "  product: windows\n  service: terminalservices-localsessionmanager\n",
                       "  selection:\n    EventID: 40\n  condition: selection\n"));
  EXPECT_EQ(interest.event_ids("System"), Ids{7045});
  EXPECT_EQ(
      interest.event_ids("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"),
      Ids{40});
}

TEST(RuleInterest, DerivedEventsAreTheSessionwatchChannel) {
  const EventInterest interest = interest_of(rule(
      "a", "  product: sessionwatch\n", "  selection:\n    EventID: 11\n  condition: selection\n"));
  EXPECT_EQ(interest.event_ids("sessionwatch"), Ids{11});
  EXPECT_EQ(interest.event_ids("Security"), Ids{});
}

TEST(RuleInterest, NoChannelMeansEveryChannel) {
  const EventInterest with_id = interest_of(rule(
      "a", "  product: windows\n", "  selection:\n    EventID: 1102\n  condition: selection\n"));
  EXPECT_EQ(with_id.event_ids("Security"), Ids{1102});
  EXPECT_EQ(with_id.event_ids("Anything/Operational"), Ids{1102});

  const EventInterest keywords = interest_of(rule("b", "  product: windows\n",
                                                  "  keywords:\n    - mimikatz\n"
                                                  "  condition: keywords\n"));
  EXPECT_TRUE(keywords.is_everything());
}

TEST(RuleInterest, ANegatedChannelSelectionExcludesTheChannel) {
  const EventInterest interest =
      interest_of(rule("a", "  product: windows\n",
                       "  keywords:\n    - 'Access is denied'\n  security:\n    Channel: Security\n"
                       "  condition: keywords and not security\n"));
  EXPECT_EQ(interest.event_ids("Security"), Ids{});
  EXPECT_EQ(interest.event_ids("Application"), std::nullopt);
  // Only a plain AND of the negation excludes: under OR it proves nothing.
  const EventInterest either =
      interest_of(rule("b", "  product: windows\n",
                       "  keywords:\n    - 'Access is denied'\n  security:\n    Channel: Security\n"
                       "  condition: keywords or not security\n"));
  EXPECT_TRUE(either.is_everything());
}

TEST(RuleInterest, RulesOnRecognizedErrorsAddNothing) {
  const EventInterest value = interest_of(
      rule("a", "  product: windows\n",
           "  selection:\n    sessionwatch.error_code: '7063'\n  condition: selection\n"));
  EXPECT_EQ(value.event_ids("Security"), Ids{});
  EXPECT_EQ(value.event_ids("Application"), Ids{});
  const EventInterest exists =
      interest_of(rule("b", "  product: windows\n",
                       "  selection:\n    sessionwatch.error_code|exists: true\n"
                       "  other:\n    Foo: bar\n  condition: selection and other\n"));
  EXPECT_EQ(exists.event_ids("Application"), Ids{});
  // Not required on every path: the rule may fire without the recognizer.
  const EventInterest optional =
      interest_of(rule("c", "  product: windows\n",
                       "  selection:\n    sessionwatch.error_code: '7063'\n  other:\n    Foo: bar\n"
                       "  condition: selection or other\n"));
  EXPECT_TRUE(optional.is_everything());
  const EventInterest absent = interest_of(
      rule("d", "  product: windows\n",
           "  selection:\n    sessionwatch.error_code|exists: false\n  condition: selection\n"));
  EXPECT_TRUE(absent.is_everything());
}

TEST(RuleInterest, NamesTheRulesThatReadAChannelWhole) {
  RuleLoadResult r = RuleSet::load_text(
      rule("narrow", kSecurity, "  selection:\n    EventID: 4624\n  condition: selection\n") +
          "---\n" +
          rule("wide", "  product: windows\n",
               "  keywords:\n    - mimikatz\n"
               "  condition: keywords\n"),
      "test.yml");
  ASSERT_TRUE(r.ok());
  const std::vector<std::string> whole = r.rules->rules_reading_whole("Security");
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0], "wide (test.yml)");
}

TEST(RuleInterest, NoRulesNeedNothing) {
  RuleLoadResult r = RuleSet::load_text("", "empty.yml");
  EXPECT_EQ(r.rules->interest().event_ids("Security"), Ids{});
  EXPECT_FALSE(r.rules->interest().is_everything());
}

// RuleSet::looks_at: whether match() visits any rule for a channel and event id, which the
// detector asks before the tracker builds a derived event for it.
TEST(RuleLooksAt, FollowsTheRulesChannelsAndEventIds) {
  auto load = [](const std::string& yaml) {
    RuleLoadResult r = RuleSet::load_text(yaml, "test.yml");
    for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
    return std::move(r.rules);
  };
  const auto by_id = load(rule("a", "  product: sessionwatch\n",
                               "  selection:\n    EventID: 11\n  condition: selection\n"));
  EXPECT_TRUE(by_id->looks_at("sessionwatch", 11));
  EXPECT_TRUE(by_id->looks_at("SessionWatch", 11));  // channels compare without case
  EXPECT_FALSE(by_id->looks_at("sessionwatch", 1));
  EXPECT_FALSE(by_id->looks_at("Security", 11));

  const auto by_kind = load(rule("b", "  product: sessionwatch\n",
                                 "  selection:\n    Kind: console_takeover\n"
                                 "  condition: selection\n"));
  // On the tracker's channel a kind has one event id (docs/sessions.md): console_takeover's is 10.
  EXPECT_TRUE(by_kind->looks_at("sessionwatch", 10));
  EXPECT_FALSE(by_kind->looks_at("sessionwatch", 1));
  EXPECT_FALSE(by_kind->looks_at("Security", 4624));

  // A kind named in any case, or in a list, names its ids; one that names no kind, or a value
  // that is not a name (contains), leaves every id.
  const auto by_kinds = load(rule("b2", "  product: sessionwatch\n",
                                  "  selection:\n    Kind:\n      - Console_Takeover\n"
                                  "      - session_lock\n  condition: selection\n"));
  EXPECT_TRUE(by_kinds->looks_at("sessionwatch", 10));
  EXPECT_TRUE(by_kinds->looks_at("sessionwatch", 5));
  EXPECT_FALSE(by_kinds->looks_at("sessionwatch", 11));
  for (const char* detection : {"  selection:\n    Kind: no_such_kind\n  condition: selection\n",
                                "  selection:\n    Kind|contains: takeover\n"
                                "  condition: selection\n"}) {
    const auto loose = load(rule("b3", "  product: sessionwatch\n", detection));
    EXPECT_TRUE(loose->looks_at("sessionwatch", 1)) << detection;
  }
  // On every channel, Kind is any event's field: it names no event id there.
  const auto anywhere = load(rule("b4", "  product: windows\n",
                                  "  selection:\n    Kind: console_takeover\n"
                                  "  condition: selection\n"));
  EXPECT_TRUE(anywhere->looks_at("sessionwatch", 1));
  EXPECT_TRUE(anywhere->looks_at("Application", 1001));

  const auto security =
      load(rule("c", kSecurity, "  selection:\n    EventID: 4624\n  condition: selection\n"));
  EXPECT_FALSE(security->looks_at("sessionwatch", 1));
  EXPECT_TRUE(security->looks_at("Security", 4624));

  const auto keywords = load(
      rule("d", "  product: windows\n", "  keywords:\n    - mimikatz\n  condition: keywords\n"));
  EXPECT_TRUE(keywords->looks_at("sessionwatch", 1));  // no channel: every channel
  EXPECT_TRUE(keywords->looks_at("Anything/Operational", 42));

  // A condition ruling a channel out: the rule is not looked at there, nor matched.
  const auto not_security =
      load(rule("e", "  product: windows\n",
                "  keywords:\n    - mimikatz\n  security:\n    Channel: Security\n"
                "  condition: keywords and not security\n"));
  EXPECT_FALSE(not_security->looks_at("Security", 4688));
  EXPECT_FALSE(not_security->looks_at("SECURITY", 4688));
  EXPECT_TRUE(not_security->looks_at("System", 4688));
  Event e;
  e.event_id = 4688;
  e.add_field("CommandLine", "mimikatz.exe");
  std::size_t fired = 0;
  const auto count = [&](const RuleMatch&) { ++fired; };
  e.set_channel("Security");
  not_security->match(e, count);
  EXPECT_EQ(fired, 0u);
  e.set_channel("System");
  not_security->match(e, count);
  EXPECT_EQ(fired, 1u);
  e.set_channel("security");  // the condition compares without case, and so does the index
  not_security->match(e, count);
  EXPECT_EQ(fired, 1u);
}

// What looks_at and match know of a channel is kept for the channels seen lately (at most 16):
// answers must not depend on what was asked before, whatever the order, the spelling or the
// number of channels.
TEST(RuleLooksAt, AnswersDoNotDependOnTheChannelsAskedBefore) {
  RuleLoadResult r = RuleSet::load_text(
      rule("c", kSecurity, "  selection:\n    EventID: 4624\n  condition: selection\n") + "---\n" +
          rule("e", "  product: windows\n",
               "  keywords:\n    - mimikatz\n  security:\n    Channel: Security\n"
               "  condition: keywords and not security\n"),
      "test.yml");
  for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
  const RuleSet& rules = *r.rules;
  std::vector<std::string> channels = {"Security", "SECURITY", "System", "security"};
  for (int i = 0; i < 40; ++i) channels.push_back("Channel-" + std::to_string(i));
  Event e;
  e.add_field("CommandLine", "mimikatz.exe");
  for (int round = 0; round < 3; ++round) {
    for (std::size_t k = 0; k < channels.size(); ++k) {
      // Taking turns with Security, as a log of several channels comes.
      for (const std::string& channel : {channels[k], std::string("Security")}) {
        const bool security = text::lowered(channel) == "security";
        SCOPED_TRACE(channel);
        EXPECT_TRUE(rules.looks_at(channel, 4624));
        EXPECT_EQ(rules.looks_at(channel, 4688), !security);
        e.set_channel(channel);
        e.event_id = 4688;
        std::size_t fired = 0;
        r.rules->match(e, [&](const RuleMatch&) { ++fired; });
        EXPECT_EQ(fired, security ? 0u : 1u);
        e.event_id = 4624;
        fired = 0;
        r.rules->match(e, [&](const RuleMatch&) { ++fired; });
        EXPECT_EQ(fired, 1u) << "4624: rule c on Security, the keyword rule elsewhere";
      }
    }
  }
}

// RuleSet::may_match: for one event, rules needing sessionwatch.error_code (set by the tracker's
// error recognizer) are left out when the event has none.
TEST(RuleLooksAt, RulesOnRecognizedErrorsNeedTheErrorCode) {
  RuleLoadResult r = RuleSet::load_text(
      rule("a", "  product: windows\n",
           "  selection:\n    sessionwatch.error_code: '7063'\n  derived:\n"
           "    Channel: sessionwatch\n  condition: selection and not derived\n"),
      "test.yml");
  for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
  RuleSet& rules = *r.rules;
  Event e;
  e.set_channel("Application");
  e.event_id = 1001;
  e.add_field("Win32Status", "7063");
  EXPECT_TRUE(rules.looks_at("Application", 1001));  // by channel and id alone: maybe
  EXPECT_FALSE(rules.may_match(e));                  // no error recognized: no
  std::size_t fired = 0;
  rules.match(e, [&](const RuleMatch&) { ++fired; });
  EXPECT_EQ(fired, 0u);
  e.add_field("sessionwatch.error_code", "7063");
  EXPECT_TRUE(rules.may_match(e));
  rules.match(e, [&](const RuleMatch&) { ++fired; });
  EXPECT_EQ(fired, 1u);
  e.set_channel("sessionwatch");  // ruled out by the condition
  EXPECT_FALSE(rules.may_match(e));
  EXPECT_FALSE(rules.looks_at("sessionwatch", 1001));
}

}  // namespace
}  // namespace sw
