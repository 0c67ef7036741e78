// Rule documents -> compiled rules: detection rules (selections, condition, logsource variants)
// and the dispatch of each YAML document to the detection or correlation compiler.
#include <algorithm>
#include <iterator>

#include "rules/compile_internal.hpp"
#include "sessionwatch/derived.hpp"
#include "sessionwatch/text.hpp"
#include "sessionwatch/utf8.hpp"
#include "sessionwatch/yaml_guard.hpp"

namespace sw::rules {
namespace {

using namespace detail;

// Search identifiers; one that fails still names a selection, so the condition is checked too.
std::vector<Selection> compile_selections(const YAML::Node& det, const CompileContext& ctx,
                                          std::string_view skip_key,
                                          std::optional<YAML::Node>& condition,
                                          ErrorCollector& errors) {
  std::vector<Selection> selections;
  for (auto it = det.begin(); it != det.end(); ++it) {
    std::string key;
    errors.attempt([&] { key = scalar(it->first, "a search identifier"); });
    if (key == "condition") {
      condition = it->second;
      continue;
    }
    if (!skip_key.empty() && key == skip_key) continue;
    selections.emplace_back().name = key;
    errors.attempt([&] {
      if (key == "timeframe")
        fail(it->first, "unsupported: 'timeframe' (Sigma v1 aggregation); use a correlation rule");
      selections.back() = compile_selection(key, it->second, ctx);
    });
  }
  return selections;
}

}  // namespace

namespace detail {

Detection compile_detection(const YAML::Node& det, const CompileContext& ctx,
                            std::string_view skip_key) {
  if (!det.IsMap()) fail(det, "'detection' must be a map");
  Detection d;
  // Optional, not a default YAML::Node: that one is a defined null, which would pass for a
  // condition that is not there.
  std::optional<YAML::Node> condition;
  ErrorCollector errors;
  d.selections = compile_selections(det, ctx, skip_key, condition, errors);
  if (!condition) errors.attempt([&] { fail(det, "detection has no condition"); });
  std::vector<Condition> alternatives;
  auto parse_one = [&](const YAML::Node& c) {
    errors.attempt([&] {
      if (!c.IsScalar()) fail(c, "a condition must be a string");
      alternatives.push_back(parse_condition(c.Scalar(), c.Mark(), d.selections));
    });
  };
  if (condition && condition->IsSequence()) {
    for (const YAML::Node& c : *condition) parse_one(c);
    if (condition->size() == 0) errors.attempt([&] { fail(*condition, "empty condition list"); });
  } else if (condition) {
    parse_one(*condition);
  }
  errors.throw_if_any();
  if (alternatives.size() == 1) {
    d.condition = std::move(alternatives[0]);
  } else {
    d.condition.op = Condition::kOr;
    d.condition.children = std::move(alternatives);
  }
  mark_costly(d);
  prepare_searches(d);
  return d;
}

LogsourceKey parse_logsource(const YAML::Node& doc) {
  const YAML::Node ls = doc["logsource"];
  if (!ls || !ls.IsMap()) fail(doc, "rule has no logsource map");
  LogsourceKey key;
  ErrorCollector errors;
  errors.attempt([&] { key.product = text::lowered(optional_scalar(ls, "product")); });
  errors.attempt([&] { key.category = text::lowered(optional_scalar(ls, "category")); });
  errors.attempt([&] { key.service = text::lowered(optional_scalar(ls, "service")); });
  errors.throw_if_any();
  return key;
}

std::shared_ptr<const Detection> remap_fields(const Detection& d,
                                              const std::map<std::string, std::string>& fieldmap) {
  auto out = std::make_shared<Detection>(d);
  for (Selection& s : out->selections) {
    for (auto& alternative : s.alternatives) {
      for (FieldTest& t : alternative) {
        if (t.keyword) continue;
        auto it = fieldmap.find(t.field_name);
        if (it != fieldmap.end()) t.field = intern_field(it->second);
      }
    }
  }
  return out;
}

}  // namespace detail

FieldId error_code_field() {
  static const FieldId id = intern_field("sessionwatch.error_code");
  return id;
}

namespace {

// One variant per logsource the rule reads, narrowed to the event ids its condition requires.
void add_variants(CompiledRule& rule, const std::shared_ptr<const Detection>& detection,
                  const std::vector<LogSource>& sources) {
  const auto required_any = required_event_ids(*detection, detection->condition, false);
  // On the tracker's channel alone, a Kind names its derived events' id as well.
  const auto required_derived = required_event_ids(*detection, detection->condition, true);
  for (const LogSource& src : sources) {
    const bool derived_only =
        src.channels.size() == 1 && text::iequals(src.channels.front(), derived::kChannel);
    const auto& required = derived_only ? required_derived : required_any;
    CompiledRule::Variant v;
    v.detection = src.fieldmap.empty() ? detection : remap_fields(*detection, src.fieldmap);
    v.fieldmap = src.fieldmap;
    for (const std::string& c : src.channels) v.channels.push_back(text::lowered(c));
    std::set<std::uint32_t> ids(src.event_ids.begin(), src.event_ids.end());
    if (required) {
      if (ids.empty()) {
        ids = *required;
      } else {
        std::set<std::uint32_t> both;
        std::set_intersection(ids.begin(), ids.end(), required->begin(), required->end(),
                              std::inserter(both, both.begin()));
        if (both.empty()) continue;  // this source can never satisfy the detection
        ids = std::move(both);
      }
    }
    v.event_ids.assign(ids.begin(), ids.end());
    for (const auto& [field, value] : src.conditions) {
      v.conditions.emplace_back(intern_field(field), text::lowered(value));
    }
    rule.variants.push_back(std::move(v));
  }
}

CompiledRule compile_rule(const YAML::Node& doc, const std::string& source,
                          const CompileContext& ctx) {
  CompiledRule rule;
  std::vector<LogSource> sources;
  std::shared_ptr<const Detection> detection;
  const YAML::Node det = doc["detection"];
  ErrorCollector errors;
  errors.attempt([&] { rule.info = parse_info(doc, source); });
  errors.attempt([&] { rule.name = optional_scalar(doc, "name"); });
  errors.attempt([&] {
    rule.logsource = parse_logsource(doc);
    std::string error;
    if (!ctx.logsources.resolve(rule.logsource.product, rule.logsource.category,
                                rule.logsource.service, sources, error)) {
      fail(doc["logsource"], error);
    }
  });
  errors.attempt(
      [&] { detection = std::make_shared<const Detection>(compile_detection(det, ctx)); });
  errors.throw_if_any();
  rule.recognized_errors_only =
      requires_field(*detection, detection->condition, error_code_field());
  excluded_channels(*detection, detection->condition, rule.excluded_channels);
  if (sources.empty()) sources.emplace_back();  // any channel
  add_variants(rule, detection, sources);
  if (rule.variants.empty()) {
    const LogsourceKey& ls = rule.logsource;
    fail(det, "the detection's EventID values never occur in logsource '" +
                  (ls.category.empty() ? ls.service : ls.category) + "'");
  }
  return rule;
}

}  // namespace

std::optional<std::size_t> parse_rules(std::string_view text, const std::string& source,
                                       const CompileContext& ctx, ParsedRules& out,
                                       std::vector<RuleProblem>& problems) {
  // Rules are an edge like the decoders: their ids, titles and names reach alerts and the JSON
  // of checkpoints, which need valid UTF-8 (a Latin-1 id made the checkpoint's dump throw).
  std::string sanitized;
  if (!is_valid_utf8(text)) {
    append_sanitized_utf8(text, sanitized);
    text = sanitized;
  }
  std::vector<YAML::Node> docs;
  yaml::Problem problem;
  if (!yaml::load_all(text, docs, problem)) {
    problems.push_back(RuleProblem{source,
                                   problem.line,
                                   problem.column,
                                   {},
                                   (problem.syntax ? "YAML syntax: " : "") + problem.message});
    return std::nullopt;
  }
  std::size_t seen = 0;
  for (const YAML::Node& doc : docs) {
    if (!doc || doc.IsNull()) continue;
    ++seen;
    std::string label;
    auto report = [&](const YAML::Mark& mark, std::string message) {
      const yaml::Position p = yaml::position_of(mark);
      problems.push_back(RuleProblem{source, p.line, p.column, label, std::move(message)});
    };
    try {
      if (!doc.IsMap()) fail(doc, "a rule document must be a map");
      label = optional_scalar(doc, "id");
      if (label.empty()) label = optional_scalar(doc, "title");
      if (doc["action"])
        fail(doc["action"], "unsupported: multi-document 'action' (Sigma v1 rule collections)");
      if (doc["filter"] && !doc["detection"]) {
        out.filters.push_back(compile_filter(doc, source, ctx));
      } else if (doc["correlation"]) {
        out.correlations.push_back(compile_correlation(doc, source));
      } else if (doc["detection"]) {
        out.rules.push_back(compile_rule(doc, source, ctx));
      } else {
        fail(doc, "document has none of 'detection', 'correlation' and 'filter'");
      }
    } catch (const CompileError& e) {
      report(e.mark, e.message);
    } catch (const CompileErrors& all) {
      for (const CompileError& e : all.errors) report(e.mark, e.message);
    } catch (const YAML::Exception& e) {
      report(e.mark, "YAML: " + e.msg);
    } catch (const std::exception& e) {
      report(doc.Mark(), std::string("rule rejected: ") + e.what());
    }
  }
  return seen;
}

}  // namespace sw::rules
