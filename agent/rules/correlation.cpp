// Sigma correlation rule documents -> CompiledCorrelation, and correlation timespans.
#include <charconv>

#include "rules/compile_internal.hpp"

namespace sw::rules {
namespace detail {

CompiledCorrelation compile_correlation(const YAML::Node& doc, const std::string& source) {
  CompiledCorrelation c;
  c.info = parse_info(doc, source);
  c.name = optional_scalar(doc, "name");
  const YAML::Node corr = doc["correlation"];
  c.line = corr.Mark().line + 1;
  c.column = corr.Mark().column + 1;
  if (!corr.IsMap()) fail(corr, "'correlation' must be a map");
  c.type = optional_scalar(corr, "type");
  if (c.type.empty()) fail(corr, "correlation has no type");
  if (c.type == "value_sum" || c.type == "value_avg" || c.type == "value_percentile")
    fail(corr["type"], "unsupported: correlation type '" + c.type + "'");
  if (c.type != "event_count" && c.type != "value_count" && c.type != "temporal" &&
      c.type != "temporal_ordered")
    fail(corr["type"], "unknown correlation type '" + c.type + "'");
  c.rule_refs = string_list(corr, "rules");
  if (c.rule_refs.empty()) fail(corr, "correlation has no rules");
  c.group_by = string_list(corr, "group-by");
  const std::string span = optional_scalar(corr, "timespan");
  if (span.empty()) fail(corr, "correlation has no timespan");
  auto ticks = parse_timespan(span);
  if (!ticks || *ticks <= 0)
    fail(corr["timespan"], "bad timespan '" + span + "' (e.g. 30s, 5m, 1h, 2d)");
  c.timespan = *ticks;
  if (const YAML::Node g = corr["generate"]; g && !parse_bool(g, c.generate))
    fail(g, "'generate' takes true or false");
  if (const YAML::Node al = corr["aliases"]; al) {
    if (!al.IsMap()) fail(al, "'aliases' must be a map");
    for (auto it = al.begin(); it != al.end(); ++it) {
      if (!it->second.IsMap()) fail(it->second, "an alias maps rule names to fields");
      auto& m = c.aliases[scalar(it->first, "an alias")];
      for (auto jt = it->second.begin(); jt != it->second.end(); ++jt) {
        m[scalar(jt->first, "a rule name")] = scalar(jt->second, "a field name");
      }
    }
  }
  const YAML::Node cond = corr["condition"];
  if (cond) {
    if (!cond.IsMap()) fail(cond, "a correlation condition must be a map (gte: 10)");
    for (auto it = cond.begin(); it != cond.end(); ++it) {
      const std::string k = scalar(it->first, "a condition operator");
      if (k == "gt")
        c.gt = count_value(it->second);
      else if (k == "gte")
        c.gte = count_value(it->second);
      else if (k == "lt")
        c.lt = count_value(it->second);
      else if (k == "lte")
        c.lte = count_value(it->second);
      else if (k == "eq")
        c.eq = count_value(it->second);
      else if (k == "neq")
        c.neq = count_value(it->second);
      else if (k == "field") {
        if (it->second.IsSequence()) {
          for (const YAML::Node& f : it->second) c.value_fields.push_back(scalar(f, "a field"));
        } else {
          c.value_fields.push_back(scalar(it->second, "a field"));
        }
      } else {
        fail(it->first, "unknown correlation condition '" + k + "'");
      }
    }
  }
  const bool temporal = c.type == "temporal" || c.type == "temporal_ordered";
  if (!temporal && !cond) fail(corr, c.type + " needs a condition");
  if (c.type == "value_count" && c.value_fields.empty())
    fail(cond, "value_count needs 'field' in its condition");
  if (c.type != "value_count" && !c.value_fields.empty())
    fail(cond, "'field' only applies to value_count");
  if (cond && !c.gt && !c.gte && !c.eq) {
    // A window that must stay below a count can only be judged once it closes; the engine
    // judges windows as events arrive.
    fail(cond, "unsupported: correlation condition without a lower bound (only lt/lte/neq)");
  }
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
