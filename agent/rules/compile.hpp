// YAML -> compiled rules: Sigma detection rules, Sigma correlation rules and the logsource map.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/detection.hpp"
#include "sessionwatch/alert.hpp"
#include "sessionwatch/rules.hpp"

namespace sw::rules {

// Where a rule's events come from: channels (empty = any), event ids (empty = any), field
// equalities, and rule-field -> event-field renames.
struct LogSource {
  std::vector<std::string> channels;
  std::vector<std::uint32_t> event_ids;
  std::vector<std::pair<std::string, std::string>> conditions;
  std::map<std::string, std::string> fieldmap;
  bool operator==(const LogSource&) const = default;
};

class LogsourceMap {
 public:
  // Merges a YAML document of the agent/rules/logsources.yaml shape; later entries win.
  bool add_yaml(std::string_view yaml, std::string& error);
  // The sources of a Sigma logsource. An empty list means "any channel". False with
  // "unsupported: ..." when the map does not know the product, category or service.
  bool resolve(const std::string& product, const std::string& category, const std::string& service,
               std::vector<LogSource>& out, std::string& error) const;
  // agent/rules/logsources.yaml, compiled in (logsource_table.cpp).
  static const LogsourceMap& builtin();
  bool operator==(const LogsourceMap&) const = default;

 private:
  static LogsourceMap compiled();  // generated: scripts/gen-logsource-table.py

  struct Product {
    std::optional<std::vector<LogSource>> any;
    std::map<std::string, std::vector<LogSource>> services;
    std::map<std::string, std::vector<LogSource>> categories;
    bool operator==(const Product&) const = default;
  };
  std::map<std::string, Product> products_;
};

// A rule's `logsource` as written (lower-case), to match Sigma filters against it.
struct LogsourceKey {
  std::string product, category, service;
};

struct CompiledRule {
  RuleInfo info;
  std::string name;  // Sigma `name`, for correlation references
  LogsourceKey logsource;
  struct Variant {
    std::shared_ptr<const Detection> detection;
    std::vector<std::string> channels;                        // lower-case; empty = any
    std::vector<std::uint32_t> event_ids;                     // empty = any
    std::vector<std::pair<FieldId, std::string>> conditions;  // folded values
    std::map<std::string, std::string> fieldmap;              // of its logsource, for filters
    // Sigma filters applied to this rule: an event any of them matches does not fire it.
    std::vector<std::shared_ptr<const Detection>> filters;
  };
  std::vector<Variant> variants;
  // What the condition says about where the rule can fire, for RuleSet::interest():
  // channels it excludes (`... and not <selection of Channel: X>`), lower-case,
  std::vector<std::string> excluded_channels;
  // and whether it requires sessionwatch.error_code, which only the session tracker's error
  // recognizer sets (the rule then fires only on events the tracker reads anyway).
  bool recognized_errors_only = false;
};

struct CompiledCorrelation {
  RuleInfo info;
  std::string name;
  // event_count | value_count | value_sum | value_avg | value_percentile | temporal |
  // temporal_ordered
  std::string type;
  std::vector<std::string> rule_refs;  // ids or names, as written
  std::vector<std::string> group_by;
  // alias -> (rule name -> field)
  std::map<std::string, std::map<std::string, std::string>> aliases;
  Ticks timespan = 0;
  std::optional<double> gt, gte, lt, lte, eq, neq;
  std::vector<std::string> value_fields;  // `field` of value_count and the value_* types
  bool generate = false;
  int line = 0, column = 0;  // of the `correlation` key, for reference errors
};

// A Sigma filter (sigma-filters-specification.md): a detection that suppresses the rules it names
// (all rules when it names none) whose logsource it covers.
struct CompiledFilter {
  RuleInfo info;
  LogsourceKey logsource;              // empty parts match any
  std::vector<std::string> rule_refs;  // ids or names
  std::shared_ptr<const Detection> detection;
};

// Adds `filter` to `rule` when it names the rule (or names none) and covers its logsource.
// Returns whether it applied.
bool apply_filter(const CompiledFilter& filter, CompiledRule& rule);

// The correlation types that aggregate a field's values (sum, average, share) over a window.
inline bool is_value_aggregate(std::string_view type) {
  return type == "value_sum" || type == "value_avg" || type == "value_percentile";
}

struct ParsedRules {
  std::vector<CompiledRule> rules;
  std::vector<CompiledCorrelation> correlations;
  std::vector<CompiledFilter> filters;
};

struct CompileContext {
  const RuleOptions& options;
  const LogsourceMap& logsources;
};

// Parses every YAML document of `text`; good rules go to `out`, every problem of every bad
// document to `problems`. Returns the number of rule documents seen, nullopt when `text` is not
// YAML at all.
std::optional<std::size_t> parse_rules(std::string_view text, const std::string& source,
                                       const CompileContext& ctx, ParsedRules& out,
                                       std::vector<RuleProblem>& problems);

// sessionwatch.error_code, which only the session tracker's error recognizer sets: the field
// CompiledRule::recognized_errors_only is about.
FieldId error_code_field();

// "5m" -> ticks; nullopt when not <number><s|m|h|d>.
std::optional<Ticks> parse_timespan(std::string_view s);

}  // namespace sw::rules
