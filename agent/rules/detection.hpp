// The compiled form of a Sigma detection: selections of field tests combined by a condition tree.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "rules/pattern.hpp"
#include "sessionwatch/event.hpp"

namespace sw::rules {

// One value of a field test after its modifiers.
struct ValueMatcher {
  enum Kind : std::uint8_t {
    kString,    // wildcard pattern
    kRegex,     // |re
    kCidr,      // |cidr
    kNumber,    // |gt |gte |lt |lte, or a time part (|hour ...) equal to or compared with it
    kExists,    // |exists
    kNull,      // null: field absent or empty
    kFieldRef,  // |fieldref: compare with another field of the same event
  };
  enum NumberOp : std::uint8_t { kGt, kGte, kLt, kLte, kEq };
  // Time modifiers: the number is compared with this part of the field's date (UTC).
  enum TimePart : std::uint8_t { kNoTimePart, kMinute, kHour, kDay, kWeek, kMonth, kYear };
  enum RefShape : std::uint8_t { kRefExact, kRefPrefix, kRefSuffix, kRefContains };

  Kind kind = kString;
  bool negate = false;  // |neq
  bool cased = false;
  StringPattern pattern;
  std::shared_ptr<RE2> regex;
  Cidr cidr;
  NumberOp number_op = kGt;
  TimePart time_part = kNoTimePart;
  double number = 0;
  bool exists = true;
  FieldId ref_field = 0;
  RefShape ref_shape = kRefExact;
};

// A field (or, for keywords, every field) against a list of values: OR, or AND with |all.
struct FieldTest {
  bool keyword = false;  // search every payload field and the message
  FieldId field = 0;
  std::string field_name;  // the rule's name, before logsource field mapping
  bool all = false;
  std::vector<ValueMatcher> values;
  // The values as one search when they are all plain substrings (`*text*`, keywords) of one
  // case sensitivity and any of them is enough (set by prepare_searches).
  std::optional<AnySubstring> substrings;
};

// A search identifier: OR over alternatives, each an AND of field tests.
struct Selection {
  std::string name;
  std::vector<std::vector<FieldTest>> alternatives;
};

struct Condition {
  enum Op : std::uint8_t { kSelection, kAnd, kOr, kNot, kAtLeast };
  Op op = kSelection;
  std::uint32_t selection = 0;
  std::uint32_t at_least = 0;  // kAtLeast: how many children must hold ("2 of sel*")
  // Holds a keyword search or a regex: `and` and `or` try it after its cheap siblings (set by
  // mark_costly).
  bool costly = false;
  std::vector<Condition> children;
};

struct Detection {
  std::vector<Selection> selections;
  Condition condition;
};

// A positive `|re` test on a field that every way of satisfying the detection passes through:
// when the regex cannot match, neither can the detection (what RegexPrefilter gates on).
struct RequiredRegex {
  FieldId field = 0;
  const RE2* regex = nullptr;
};
std::optional<RequiredRegex> required_regex(const Detection& d);

// Sets Condition::costly over the detection's condition tree. Conditions are pure, so the order
// `and` and `or` try their children in changes only the cost: `keywords and not security` need
// not search every field of a Security event.
void mark_costly(Detection& d);

// Sets FieldTest::substrings where the test's values allow it.
void prepare_searches(Detection& d);

// A number as events carry it: decimal, floating point or 0x-hex, blanks around allowed.
std::optional<double> parse_number(std::string_view s);

// The `part` of an ISO 8601 date (parse_time's forms) in UTC; week is the ISO week (1-53).
std::optional<double> time_part_of(std::string_view date, ValueMatcher::TimePart part);

// Evaluates with a reusable scratch string for rendered numbers.
class Evaluator {
 public:
  bool matches(const Detection& d, const Event& e);
  // After a match: names of the fields that took part in the positive branches.
  void matched_fields(const Detection& d, const Event& e, std::vector<std::string>& out);

 private:
  bool eval(const Detection& d, const Condition& c, const Event& e);
  bool selection(const Selection& s, const Event& e);
  bool test(const FieldTest& t, const Event& e);
  bool any_substring(const FieldTest& t, const Event& e);
  bool value(const ValueMatcher& m, std::optional<std::string_view> v, const Event& e);
  void collect(const Detection& d, const Condition& c, const Event& e,
               std::vector<std::string>& out);
  std::string scratch_;
  std::string ref_scratch_;
};

}  // namespace sw::rules
