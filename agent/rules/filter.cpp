// Sigma filters (sigma-filters-specification.md): meta-filter documents, found among the rule
// files, that suppress the rules they name wherever their own detection matches.
#include "rules/compile_internal.hpp"

namespace sw::rules {

namespace detail {

CompiledFilter compile_filter(const YAML::Node& doc, const std::string& source,
                              const CompileContext& ctx) {
  CompiledFilter f;
  ErrorCollector errors;
  errors.attempt([&] { f.info = parse_info(doc, source); });
  errors.attempt([&] { f.logsource = parse_logsource(doc); });
  const YAML::Node body = doc["filter"];
  errors.attempt([&] {
    if (!body.IsMap()) fail(body, "'filter' must be a map (rules, selections, condition)");
    f.rule_refs = string_list(body, "rules");
    f.detection = std::make_shared<const Detection>(compile_detection(body, ctx, "rules"));
  });
  errors.throw_if_any();
  return f;
}

}  // namespace detail

namespace {

// A filter's logsource covers a rule's when each part it gives is the rule's.
bool covers(const LogsourceKey& filter, const LogsourceKey& rule) {
  const auto part = [](const std::string& f, const std::string& r) { return f.empty() || f == r; };
  return part(filter.product, rule.product) && part(filter.category, rule.category) &&
         part(filter.service, rule.service);
}

bool names(const CompiledFilter& filter, const CompiledRule& rule) {
  if (filter.rule_refs.empty()) return true;
  for (const std::string& ref : filter.rule_refs) {
    if (ref == rule.info.id || (!rule.name.empty() && ref == rule.name)) return true;
  }
  return false;
}

}  // namespace

bool apply_filter(const CompiledFilter& filter, CompiledRule& rule) {
  if (!names(filter, rule) || !covers(filter.logsource, rule.logsource)) return false;
  for (CompiledRule::Variant& v : rule.variants) {
    // The filter's fields are named as the rule's are: its logsource renames them alike.
    v.filters.push_back(v.fieldmap.empty() ? filter.detection
                                           : detail::remap_fields(*filter.detection, v.fieldmap));
  }
  return true;
}

}  // namespace sw::rules
