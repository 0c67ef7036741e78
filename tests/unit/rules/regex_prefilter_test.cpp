#include "rules/regex_prefilter.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sessionwatch/rules.hpp"

namespace sw::rules {
namespace {

Event user_event(std::string_view user) {
  Event e;
  e.set_channel("Security");
  e.event_id = 4624;
  e.set_computer("ws1");
  e.add_field("TargetUserName", user);
  return e;
}

TEST(RegexPrefilter, RejectsValuesWithoutTheRequiredLiteral) {
  RegexPrefilter filter;
  RE2 re("^zz1[a-z]+q$");
  const auto slot = filter.add(intern_field("TargetUserName"), re);
  ASSERT_TRUE(slot);
  filter.compile();
  const std::vector<std::pair<std::string, bool>> cases = {
      {"yusuf.tanaka", false}, {"zz1abq", true}, {"ZZ1ABQ", true}, {"xzz1", true}};
  for (const auto& [value, may] : cases) {
    filter.next_event();
    EXPECT_EQ(filter.may_match(*slot, user_event(value)), may) << value;
  }
  filter.next_event();
  Event absent = user_event("zz1abq");
  absent.clear();
  EXPECT_FALSE(filter.may_match(*slot, absent));
}

TEST(RegexPrefilter, ScansEachFieldOncePerEvent) {
  RegexPrefilter filter;
  RE2 a("admin"), b("guest");
  const FieldId field = intern_field("TargetUserName");
  const auto slot_a = filter.add(field, a), slot_b = filter.add(field, b);
  ASSERT_TRUE(slot_a && slot_b);
  filter.compile();
  filter.next_event();
  EXPECT_TRUE(filter.may_match(*slot_a, user_event("administrator")));
  EXPECT_FALSE(filter.may_match(*slot_b, user_event("administrator")));
  // Same event as far as the filter knows: the answer is remembered, not recomputed.
  EXPECT_TRUE(filter.may_match(*slot_a, user_event("guest")));
  filter.next_event();
  EXPECT_TRUE(filter.may_match(*slot_b, user_event("guest")));
}

TEST(RegexPrefilter, NonAsciiValuesAreNotFiltered) {
  // RE2 lowers its literals with Unicode folding: the Kelvin sign matches (?i)k.
  RegexPrefilter filter;
  RE2 re("(?i)kelvin");
  const auto slot = filter.add(intern_field("TargetUserName"), re);
  filter.compile();
  filter.next_event();
  const std::string kelvin =
      "\xE2\x84\xAA"
      "elvin";
  ASSERT_TRUE(RE2::PartialMatch(kelvin, re));
  EXPECT_TRUE(filter.may_match(*slot, user_event(kelvin)));
}

const std::vector<std::string>& test_patterns() {
  static const std::vector<std::string> patterns = {"^adm",
                                                    "(?i)ADMIN",
                                                    "admin$",
                                                    "^a.c$",
                                                    "foo|bar",
                                                    "[0-9]{3}",
                                                    "\\d+",
                                                    "(?s)a.b",
                                                    ".*",
                                                    "(?i)kelvin",
                                                    "(?i)stra\\x{df}e",
                                                    "^$",
                                                    "svc_[a-z]+_01",
                                                    "(?i)^win-[a-z0-9]{4}$",
                                                    "Administrator|^root$"};
  return patterns;
}

const std::vector<std::string>& test_values() {
  static const std::vector<std::string> values = {"Administrator",
                                                  "ADMIN",
                                                  "xadmin",
                                                  "abc",
                                                  "aXc",
                                                  "bar",
                                                  "12",
                                                  "123",
                                                  "a\nb",
                                                  "",
                                                  "root",
                                                  "xroot",
                                                  "\xE2\x84\xAA"
                                                  "elvin",
                                                  "STRASSE",
                                                  "stra\xC3\x9F"
                                                  "e",
                                                  "svc_backup_01",
                                                  "SVC_BACKUP_01",
                                                  "WIN-AB12",
                                                  "win-ab1"};
  return values;
}

std::string regex_rule(const std::string& id, const std::string& modifier,
                       const std::string& pattern) {
  return "title: t\nid: " + id +
         "\nlogsource:\n  product: windows\n"
         "  service: security\ndetection:\n  sel:\n    EventID: 4624\n    TargetUserName|" +
         modifier + ": '" + pattern + "'\n  condition: sel\n---\n";
}

// Every pattern against every value: a rule behind the prefilter fires exactly when RE2 alone
// matches (case folding, anchors, alternation, classes, patterns without any literal).
TEST(RegexPrefilter, RulesFireExactlyWhenRe2Matches) {
  const auto& patterns = test_patterns();
  const auto& values = test_values();
  for (std::size_t p = 0; p < patterns.size(); ++p) {
    std::string rules;
    for (const char* modifier : {"re", "re|i"}) {
      rules += regex_rule("r-" + std::string(modifier), modifier, patterns[p]);
    }
    RuleLoadResult loaded = RuleSet::load_text(rules, "p.yml", {});
    ASSERT_TRUE(loaded.rules && loaded.problems.empty()) << patterns[p];
    RE2 cased(patterns[p]), folded("(?i)" + patterns[p]);
    for (const std::string& value : values) {
      bool fired_cased = false, fired_folded = false;
      loaded.rules->match(user_event(value), [&](const RuleMatch& m) {
        (m.rule.id == "r-re" ? fired_cased : fired_folded) = true;
      });
      EXPECT_EQ(fired_cased, RE2::PartialMatch(value, cased)) << patterns[p] << " / " << value;
      EXPECT_EQ(fired_folded, RE2::PartialMatch(value, folded)) << patterns[p] << " / " << value;
    }
  }
}

// Enough regex rules on one field that an event visits only those the prefilter lets through,
// mixed with rules it does not gate (another field's regex, plain tests), all for the same event
// id: the rules that fire, and their order, are those of each rule loaded alone.
TEST(RegexPrefilter, RulesIndexedByTheirRegexFireAsEachAloneInTheirOrder) {
  std::vector<std::string> rules;
  int n = 0;
  for (const std::string& pattern : test_patterns()) {
    for (const char* modifier : {"re", "re|i"}) {
      rules.push_back(regex_rule("r" + std::to_string(n++), modifier, pattern));
      if (n % 5 == 0) {
        rules.push_back("title: t\nid: r" + std::to_string(n++) +
                        "\nlogsource:\n  product: windows\n  service: security\ndetection:\n"
                        "  sel:\n    EventID: 4624\n    TargetUserName|contains: 'adm'\n"
                        "  condition: sel\n---\n");
      }
      if (n % 7 == 0) {
        rules.push_back("title: t\nid: r" + std::to_string(n++) +
                        "\nlogsource:\n  product: windows\n  service: security\ndetection:\n"
                        "  sel:\n    EventID: 4624\n    SubjectUserName|re: '^adm'\n"
                        "  condition: sel\n---\n");
      }
    }
  }
  std::string all;
  for (const std::string& r : rules) all += r;
  RuleLoadResult together = RuleSet::load_text(all, "all.yml", {});
  ASSERT_TRUE(together.rules && together.problems.empty());
  std::vector<std::unique_ptr<RuleSet>> alone;
  for (const std::string& r : rules) {
    alone.push_back(std::move(RuleSet::load_text(r, "one.yml", {}).rules));
    ASSERT_TRUE(alone.back());
  }
  int fired_total = 0;
  for (const std::string& value : test_values()) {
    for (const char* subject : {"nobody", "administrator"}) {
      Event e = user_event(value);
      e.add_field("SubjectUserName", subject);
      std::vector<std::string> fired, expected;
      together.rules->match(e, [&](const RuleMatch& m) { fired.push_back(m.rule.id); });
      for (auto& one : alone) {
        one->match(e, [&](const RuleMatch& m) { expected.push_back(m.rule.id); });
      }
      EXPECT_EQ(fired, expected) << value << " / " << subject;
      fired_total += static_cast<int>(fired.size());
    }
  }
  EXPECT_GT(fired_total, 100);
}

TEST(RegexPrefilter, ListsTheRegexesThatMayMatch) {
  RegexPrefilter filter;
  RE2 a("admin"), b("guest"), c("(?i)ADM"), d(".*");
  const FieldId field = intern_field("TargetUserName");
  for (const RE2* re : {&a, &b, &c, &d}) ASSERT_TRUE(filter.add(field, *re));
  filter.compile();
  filter.next_event();
  const auto* ids = filter.potentials(0, user_event("Administrator"));
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(*ids, (std::vector<std::uint32_t>{0, 2, 3}));
  filter.next_event();
  Event absent = user_event("x");
  absent.clear();
  ids = filter.potentials(0, absent);
  ASSERT_NE(ids, nullptr);
  EXPECT_TRUE(ids->empty());
  filter.next_event();
  EXPECT_EQ(filter.potentials(0, user_event("\xE2\x84\xAA"
                                            "elvin")),
            nullptr);  // not filtered
}

}  // namespace
}  // namespace sw::rules
