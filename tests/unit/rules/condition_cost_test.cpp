// The evaluation order of `and` / `or`: costly children (keyword searches, regexes) after their
// cheap siblings, with the same results as evaluating them in the order written.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "rules/detection.hpp"

namespace sw::rules {
namespace {

ValueMatcher contains_value(std::string_view text) {
  ValueMatcher m;
  m.pattern = StringPattern(
      {Atom{Atom::kStar, ""}, Atom{Atom::kLiteral, std::string(text)}, Atom{Atom::kStar, ""}},
      false);
  return m;
}

ValueMatcher exact_value(std::string_view text) {
  ValueMatcher m;
  m.pattern = StringPattern({Atom{Atom::kLiteral, std::string(text)}}, false);
  return m;
}

Selection keyword_selection(std::string_view text) {
  FieldTest t;
  t.keyword = true;
  t.values.push_back(contains_value(text));
  return Selection{"keywords", {{t}}};
}

Selection field_selection(std::string_view name, FieldId field, ValueMatcher value) {
  FieldTest t;
  t.field = field;
  t.field_name = std::string(name);
  t.values.push_back(std::move(value));
  return Selection{std::string(name), {{t}}};
}

Selection regex_selection(std::string_view pattern) {
  ValueMatcher m;
  m.kind = ValueMatcher::kRegex;
  m.regex = std::make_shared<RE2>(std::string(pattern));
  return field_selection("TargetUserName", intern_field("TargetUserName"), m);
}

Condition leaf(std::uint32_t selection) {
  Condition c;
  c.selection = selection;
  return c;
}

Condition node(Condition::Op op, std::vector<Condition> children) {
  Condition c;
  c.op = op;
  c.children = std::move(children);
  return c;
}

// selections: 0 keywords "denied", 1 Channel Security, 2 TargetUserName =~ ^adm
Detection three_selections(Condition condition) {
  Detection d;
  d.selections = {keyword_selection("denied"),
                  field_selection("Channel", fields::Channel, exact_value("Security")),
                  regex_selection("^adm")};
  d.condition = std::move(condition);
  mark_costly(d);
  return d;
}

Event event(std::string_view channel, std::string_view user, std::string_view message) {
  Event e;
  e.set_channel(channel);
  e.event_id = 4625;
  e.add_field("TargetUserName", user);
  e.set_message(message);
  return e;
}

TEST(ConditionCost, KeywordAndRegexBranchesAreMarkedCostly) {
  const Detection d =
      three_selections(node(Condition::kAnd, {leaf(0), node(Condition::kNot, {leaf(1)}),
                                              node(Condition::kOr, {leaf(1), leaf(2)})}));
  EXPECT_TRUE(d.condition.costly);
  EXPECT_TRUE(d.condition.children[0].costly) << "a keyword search";
  EXPECT_FALSE(d.condition.children[1].costly) << "a field compared with a string";
  EXPECT_TRUE(d.condition.children[2].costly) << "holds a regex";
  EXPECT_FALSE(d.condition.children[2].children[0].costly);
}

// Every event against each condition with its children in both orders: the cheap-first order
// changes no result.
TEST(ConditionCost, ResultsDoNotDependOnTheOrderChildrenAreWritten) {
  const std::vector<Event> events = {event("Security", "admin", "Access is denied"),
                                     event("Security", "guest", "ok"),
                                     event("System", "admin", "denied"),
                                     event("System", "guest", "fine"),
                                     event("System", "administrator", "ok"),
                                     event("Security", "user", "DENIED")};
  struct Case {
    Condition condition;
    std::vector<bool> expected;
  };
  const std::vector<Case> cases = {
      // keywords and not security
      {node(Condition::kAnd, {leaf(0), node(Condition::kNot, {leaf(1)})}),
       {false, false, true, false, false, false}},
      // keywords or security
      {node(Condition::kOr, {leaf(0), leaf(1)}), {true, true, true, false, false, true}},
      // regex and keywords and security
      {node(Condition::kAnd, {leaf(2), leaf(0), leaf(1)}),
       {true, false, false, false, false, false}},
      // not security or regex
      {node(Condition::kOr, {leaf(2), node(Condition::kNot, {leaf(1)})}),
       {true, false, true, true, true, false}},
  };
  Evaluator evaluator;
  for (const Case& c : cases) {
    Condition reversed = c.condition;
    std::reverse(reversed.children.begin(), reversed.children.end());
    const Detection forward = three_selections(c.condition);
    const Detection backward = three_selections(reversed);
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(evaluator.matches(forward, events[i]), c.expected[i]) << "event " << i;
      EXPECT_EQ(evaluator.matches(backward, events[i]), c.expected[i]) << "event " << i;
    }
  }
}

}  // namespace
}  // namespace sw::rules
