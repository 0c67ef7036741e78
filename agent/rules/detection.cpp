#include "rules/detection.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

namespace sw::rules {
namespace {

bool ref_compare(std::string_view value, std::string_view other, ValueMatcher::RefShape shape,
                 bool cased) {
  auto eq = [cased](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (cased ? a[i] != b[i] : text::lower(a[i]) != text::lower(b[i])) return false;
    }
    return true;
  };
  switch (shape) {
    case ValueMatcher::kRefExact:
      return eq(value, other);
    case ValueMatcher::kRefPrefix:
      return value.size() >= other.size() && eq(value.substr(0, other.size()), other);
    case ValueMatcher::kRefSuffix:
      return value.size() >= other.size() && eq(value.substr(value.size() - other.size()), other);
    case ValueMatcher::kRefContains:
      if (other.size() > value.size()) return false;
      for (std::size_t i = 0; i + other.size() <= value.size(); ++i) {
        if (eq(value.substr(i, other.size()), other)) return true;
      }
      return false;
  }
  return false;
}

std::optional<RequiredRegex> required_in(const FieldTest& t) {
  // One value, or |all: each value must hold. Keywords search every field: not one field.
  if (t.keyword || (!t.all && t.values.size() != 1)) return std::nullopt;
  for (const ValueMatcher& m : t.values) {
    if (m.kind == ValueMatcher::kRegex && !m.negate) return RequiredRegex{t.field, m.regex.get()};
  }
  return std::nullopt;
}

std::optional<RequiredRegex> required_in(const Detection& d, const Condition& c) {
  if (c.op == Condition::kSelection) {
    const Selection& s = d.selections[c.selection];
    if (s.alternatives.size() != 1) return std::nullopt;
    for (const FieldTest& t : s.alternatives[0]) {
      if (auto r = required_in(t)) return r;
    }
  } else if (c.op == Condition::kAnd) {
    for (const Condition& k : c.children) {
      if (auto r = required_in(d, k)) return r;
    }
  }
  return std::nullopt;  // or / not / "n of": no single branch is required
}

bool costly(const Selection& s) {
  for (const auto& alternative : s.alternatives) {
    for (const FieldTest& t : alternative) {
      if (t.keyword) return true;
      for (const ValueMatcher& m : t.values) {
        if (m.kind == ValueMatcher::kRegex) return true;
      }
    }
  }
  return false;
}

bool mark_costly(const Detection& d, Condition& c) {
  c.costly = c.op == Condition::kSelection && costly(d.selections[c.selection]);
  for (Condition& k : c.children) c.costly = mark_costly(d, k) || c.costly;
  return c.costly;
}

// The test's values as one substring search, when each is a positive `*text*` of the same case
// sensitivity and one is enough; for a keyword list or a list of two or more (one field value
// searched for one text is memchr's job).
std::optional<AnySubstring> substring_search(const FieldTest& t) {
  if (t.all || t.values.empty() || (!t.keyword && t.values.size() < 2)) return std::nullopt;
  std::vector<std::string_view> needles;
  for (const ValueMatcher& m : t.values) {
    const auto text =
        m.kind == ValueMatcher::kString && !m.negate ? m.pattern.contained_literal() : std::nullopt;
    if (!text || text->empty() || m.pattern.cased() != t.values[0].pattern.cased())
      return std::nullopt;
    needles.push_back(*text);
  }
  return AnySubstring(needles, t.values[0].pattern.cased());
}

}  // namespace

void prepare_searches(Detection& d) {
  for (Selection& s : d.selections) {
    for (auto& alternative : s.alternatives) {
      for (FieldTest& t : alternative) t.substrings = substring_search(t);
    }
  }
}

std::optional<RequiredRegex> required_regex(const Detection& d) {
  return required_in(d, d.condition);
}

void mark_costly(Detection& d) {
  mark_costly(d, d.condition);
}

std::optional<double> parse_number(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  if (is_hex_literal(s)) {
    if (auto u = parse_uint(s)) return static_cast<double>(*u);
    return std::nullopt;
  }
  double d = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

std::optional<double> time_part_of(std::string_view date, ValueMatcher::TimePart part) {
  using namespace std::chrono;
  const auto ticks = parse_time(date);
  if (!ticks) return std::nullopt;
  using TickDuration = duration<std::int64_t, std::ratio<1, kTicksPerSecond>>;
  const TickDuration since_epoch(*ticks);
  const sys_days day = floor<days>(sys_time<TickDuration>(since_epoch));
  const year_month_day ymd(day);
  const TickDuration time_of_day = since_epoch - day.time_since_epoch();
  switch (part) {
    case ValueMatcher::kMinute:
      return static_cast<double>(duration_cast<minutes>(time_of_day).count() % 60);
    case ValueMatcher::kHour:
      return static_cast<double>(duration_cast<hours>(time_of_day).count());
    case ValueMatcher::kDay:
      return static_cast<double>(static_cast<unsigned>(ymd.day()));
    case ValueMatcher::kMonth:
      return static_cast<double>(static_cast<unsigned>(ymd.month()));
    case ValueMatcher::kYear:
      return static_cast<double>(static_cast<int>(ymd.year()));
    case ValueMatcher::kWeek: {
      // ISO 8601: week 1 holds the year's first Thursday; weeks start on Monday.
      const sys_days thursday = day - (weekday(day).iso_encoding() - 1) * days{1} + days{3};
      const sys_days jan1 = sys_days(year_month_day(thursday).year() / January / 1);
      const auto week = (thursday - jan1).count() / 7 + 1;  // whole weeks: integer division
      return static_cast<double>(week);
    }
    case ValueMatcher::kNoTimePart:
      break;
  }
  return std::nullopt;
}

bool Evaluator::matches(const Detection& d, const Event& e) {
  return eval(d, d.condition, e);
}

bool Evaluator::eval(const Detection& d, const Condition& c, const Event& e) {
  switch (c.op) {
    case Condition::kSelection:
      return selection(d.selections[c.selection], e);
    case Condition::kAnd:
      // The cheap children first: one that fails spares the costly ones.
      for (const bool costly : {false, true}) {
        for (const Condition& k : c.children) {
          if (k.costly == costly && !eval(d, k, e)) return false;
        }
      }
      return true;
    case Condition::kOr:
      for (const bool costly : {false, true}) {
        for (const Condition& k : c.children) {
          if (k.costly == costly && eval(d, k, e)) return true;
        }
      }
      return false;
    case Condition::kNot:
      return !eval(d, c.children[0], e);
    case Condition::kAtLeast: {
      std::uint32_t held = 0;
      for (const Condition& k : c.children) {
        if (eval(d, k, e) && ++held >= c.at_least) return true;
      }
      return false;
    }
  }
  return false;
}

bool Evaluator::selection(const Selection& s, const Event& e) {
  for (const auto& alternative : s.alternatives) {
    bool all = true;
    for (const FieldTest& t : alternative) {
      if (!test(t, e)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool Evaluator::test(const FieldTest& t, const Event& e) {
  if (t.substrings) return any_substring(t, e);
  if (t.keyword) {
    // A keyword matches when any payload field or the message holds it.
    auto any_field = [&](const ValueMatcher& m) {
      for (const Field& f : e.fields()) {
        if (value(m, e.value(f), e)) return true;
      }
      return !e.message().empty() && value(m, e.message(), e);
    };
    for (const ValueMatcher& m : t.values) {
      const bool hit = any_field(m);
      if (t.all && !hit) return false;
      if (!t.all && hit) return true;
    }
    return t.all;
  }
  const std::optional<std::string_view> v = field_value(e, t.field, scratch_);
  for (const ValueMatcher& m : t.values) {
    const bool hit = value(m, v, e);
    if (t.all && !hit) return false;
    if (!t.all && hit) return true;
  }
  return t.all;
}

bool Evaluator::any_substring(const FieldTest& t, const Event& e) {
  const AnySubstring& search = *t.substrings;
  if (!t.keyword) {
    const std::optional<std::string_view> v = field_value(e, t.field, scratch_);
    return v && search.found_in(*v);
  }
  for (const Field& f : e.fields()) {
    if (search.found_in(e.value(f))) return true;
  }
  return !e.message().empty() && search.found_in(e.message());
}

bool Evaluator::value(const ValueMatcher& m, std::optional<std::string_view> v, const Event& e) {
  bool hit = false;
  switch (m.kind) {
    case ValueMatcher::kExists:
      return v.has_value() == m.exists;
    case ValueMatcher::kNull:
      return !v || v->empty();
    case ValueMatcher::kString:
      if (!v) return m.negate;
      hit = m.pattern.matches(*v);
      break;
    case ValueMatcher::kRegex:
      if (!v) return m.negate;
      hit = RE2::PartialMatch(re2::StringPiece(v->data(), v->size()), *m.regex);
      break;
    case ValueMatcher::kCidr: {
      if (!v) return m.negate;
      auto ip = parse_ip(*v);
      hit = ip && m.cidr.contains(*ip);
      break;
    }
    case ValueMatcher::kNumber: {
      if (!v) return m.negate;
      auto n = m.time_part == ValueMatcher::kNoTimePart ? parse_number(*v)
                                                        : time_part_of(*v, m.time_part);
      if (!n) return m.negate;
      switch (m.number_op) {
        case ValueMatcher::kGt:
          hit = *n > m.number;
          break;
        case ValueMatcher::kGte:
          hit = *n >= m.number;
          break;
        case ValueMatcher::kLt:
          hit = *n < m.number;
          break;
        case ValueMatcher::kLte:
          hit = *n <= m.number;
          break;
        case ValueMatcher::kEq:
          hit = *n == m.number;
          break;
      }
      break;
    }
    case ValueMatcher::kFieldRef: {
      if (!v) return m.negate;
      // `v` may live in scratch_; the referenced field renders into its own scratch.
      auto other = field_value(e, m.ref_field, ref_scratch_);
      hit = other && ref_compare(*v, *other, m.ref_shape, m.cased);
      break;
    }
  }
  return hit != m.negate;
}

void Evaluator::matched_fields(const Detection& d, const Event& e, std::vector<std::string>& out) {
  out.clear();
  collect(d, d.condition, e, out);
}

void Evaluator::collect(const Detection& d, const Condition& c, const Event& e,
                        std::vector<std::string>& out) {
  auto add = [&out](const std::string& name) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  switch (c.op) {
    case Condition::kSelection: {
      const Selection& s = d.selections[c.selection];
      for (const auto& alternative : s.alternatives) {
        bool all = true;
        for (const FieldTest& t : alternative) all = all && test(t, e);
        if (!all) continue;
        for (const FieldTest& t : alternative) {
          if (!t.keyword) {
            add(t.field_name);
            continue;
          }
          // Keywords: name the payload fields that hold one of the values.
          for (const Field& f : e.fields()) {
            for (const ValueMatcher& m : t.values) {
              if (value(m, e.value(f), e)) {
                add(std::string(field_name(f.id)));
                break;
              }
            }
          }
        }
      }
      return;
    }
    case Condition::kAnd:
    case Condition::kOr:
    case Condition::kAtLeast:
      for (const Condition& k : c.children) {
        if (eval(d, k, e)) collect(d, k, e, out);
      }
      return;
    case Condition::kNot:
      return;  // a negated branch holds because nothing matched: nothing to highlight
  }
}

}  // namespace sw::rules
