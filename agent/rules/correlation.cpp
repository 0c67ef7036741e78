// Sigma correlation rule documents -> CompiledCorrelation, and correlation timespans.
#include <charconv>

#include "rules/compile_internal.hpp"

namespace sw::rules {
namespace detail {

namespace {

// A threshold: a non-negative whole number for counts, any number for sums, averages and
// percentiles.
double threshold(const YAML::Node& n, bool whole) {
  if (!n.IsScalar()) fail(n, "a correlation threshold must be a number");
  const std::string& s = n.Scalar();
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) fail(n, "'" + s + "' is not a number");
  if (whole && (v < 0 || v != static_cast<double>(static_cast<std::uint64_t>(v))))
    fail(n, "'" + s + "' is not a count");
  return v;
}

void parse_condition_entry(const std::string& op, const YAML::Node& value, CompiledCorrelation& c) {
  if (op == "field") {
    if (value.IsSequence()) {
      for (const YAML::Node& f : value) c.value_fields.push_back(scalar(f, "a field"));
    } else {
      c.value_fields.push_back(scalar(value, "a field"));
    }
    return;
  }
  const bool whole = !is_value_aggregate(c.type);
  std::optional<double>* slot = op == "gt"    ? &c.gt
                                : op == "gte" ? &c.gte
                                : op == "lt"  ? &c.lt
                                : op == "lte" ? &c.lte
                                : op == "eq"  ? &c.eq
                                : op == "neq" ? &c.neq
                                              : nullptr;
  if (!slot) fail(value, "unknown correlation condition '" + op + "'");
  *slot = threshold(value, whole);
}

void parse_type(const YAML::Node& corr, CompiledCorrelation& c) {
  c.type = optional_scalar(corr, "type");
  if (c.type.empty()) fail(corr, "correlation has no type");
  if (c.type != "event_count" && c.type != "value_count" && c.type != "temporal" &&
      c.type != "temporal_ordered" && !is_value_aggregate(c.type))
    fail(corr["type"], "unknown correlation type '" + c.type + "'");
}

void parse_window(const YAML::Node& corr, CompiledCorrelation& c) {
  const std::string span = optional_scalar(corr, "timespan");
  if (span.empty()) fail(corr, "correlation has no timespan");
  auto ticks = parse_timespan(span);
  if (!ticks || *ticks <= 0)
    fail(corr["timespan"], "bad timespan '" + span + "' (e.g. 30s, 5m, 1h, 2d)");
  c.timespan = *ticks;
}

void parse_aliases(const YAML::Node& al, CompiledCorrelation& c) {
  if (!al.IsMap()) fail(al, "'aliases' must be a map");
  for (auto it = al.begin(); it != al.end(); ++it) {
    if (!it->second.IsMap()) fail(it->second, "an alias maps rule names to fields");
    auto& m = c.aliases[scalar(it->first, "an alias")];
    for (auto jt = it->second.begin(); jt != it->second.end(); ++jt) {
      m[scalar(jt->first, "a rule name")] = scalar(jt->second, "a field name");
    }
  }
}

// The condition map, and what each type needs of it.
void parse_correlation_condition(const YAML::Node& corr, CompiledCorrelation& c) {
  const YAML::Node cond = corr["condition"];
  const bool temporal = c.type == "temporal" || c.type == "temporal_ordered";
  if (!cond) {
    if (!temporal) fail(corr, c.type + " needs a condition");
    return;
  }
  if (!cond.IsMap()) fail(cond, "a correlation condition must be a map (gte: 10)");
  ErrorCollector errors;
  for (auto it = cond.begin(); it != cond.end(); ++it) {
    errors.attempt(
        [&] { parse_condition_entry(scalar(it->first, "a condition operator"), it->second, c); });
  }
  errors.throw_if_any();
  const bool needs_field = c.type == "value_count" || is_value_aggregate(c.type);
  if (needs_field && c.value_fields.empty()) fail(cond, c.type + " needs 'field' in its condition");
  if (!needs_field && !c.value_fields.empty())
    fail(cond, "'field' only applies to value_count, value_sum, value_avg and value_percentile");
  if (is_value_aggregate(c.type) && c.value_fields.size() != 1)
    fail(cond, c.type + " takes one 'field'");
  if (!c.gt && !c.gte && !c.eq && !c.lt && !c.lte && !c.neq)
    fail(cond, "the condition has no comparison (gt, gte, lt, lte, eq or neq)");
  // Counts and sums only grow inside a window: "stays below" can only be judged once the window
  // closes, and the engine judges windows as events arrive. Averages and shares move both ways.
  const bool grows = c.type != "value_avg" && c.type != "value_percentile";
  if (grows && !c.gt && !c.gte && !c.eq) {
    fail(cond, "unsupported: correlation condition without a lower bound (only lt/lte/neq)");
  }
}

}  // namespace

CompiledCorrelation compile_correlation(const YAML::Node& doc, const std::string& source) {
  CompiledCorrelation c;
  ErrorCollector errors;
  errors.attempt([&] { c.info = parse_info(doc, source); });
  errors.attempt([&] { c.name = optional_scalar(doc, "name"); });
  const YAML::Node corr = doc["correlation"];
  const yaml::Position at = yaml::position_of(corr.Mark());
  c.line = at.line;
  c.column = at.column;
  if (!corr.IsMap()) fail(corr, "'correlation' must be a map");
  errors.attempt([&] { parse_type(corr, c); });
  errors.attempt([&] {
    c.rule_refs = string_list(corr, "rules");
    if (c.rule_refs.empty()) fail(corr, "correlation has no rules");
  });
  errors.attempt([&] { c.group_by = string_list(corr, "group-by"); });
  errors.attempt([&] { parse_window(corr, c); });
  errors.attempt([&] {
    if (const YAML::Node g = corr["generate"]; g && !parse_bool(g, c.generate))
      fail(g, "'generate' takes true or false");
  });
  errors.attempt([&] {
    if (const YAML::Node al = corr["aliases"]; al) parse_aliases(al, c);
  });
  errors.throw_if_any();
  parse_correlation_condition(corr, c);
  return c;
}

}  // namespace detail

std::optional<Ticks> parse_timespan(std::string_view s) {
  if (s.size() < 2) return std::nullopt;
  std::int64_t n = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size() - 1, n);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() - 1 || n < 0) return std::nullopt;
  std::int64_t unit = 0;
  switch (s.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return std::nullopt;
  }
  if (n > std::int64_t{1} << 32) return std::nullopt;
  return n * unit * kTicksPerSecond;
}

}  // namespace sw::rules
