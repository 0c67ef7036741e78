// Internals shared by the rule compiler's parts (compile.cpp and its neighbours): the error a
// rule document is rejected with, YAML accessors that throw it, and each part's entry point.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "rules/compile.hpp"
#include "sessionwatch/text.hpp"
#include "sessionwatch/yaml_guard.hpp"

namespace sw::rules::detail {

// Thrown inside the compiler only; turned into a RuleProblem per rule document.
struct CompileError {
  YAML::Mark mark;
  std::string message;
};

// Everything wrong with one rule document, in document order.
struct CompileErrors {
  std::vector<CompileError> errors;
};

// Runs the independent parts of a rule document and keeps every part's error instead of stopping
// at the first, so `rules check` shows a bad level and a broken condition in one run.
class ErrorCollector {
 public:
  template <typename Part>
  void attempt(Part&& part) {
    try {
      part();
    } catch (CompileError& e) {
      errors_.errors.push_back(std::move(e));
    } catch (CompileErrors& e) {
      for (CompileError& one : e.errors) errors_.errors.push_back(std::move(one));
    }
  }
  bool empty() const { return errors_.errors.empty(); }
  // Throws CompileErrors (sorted by position) when any part failed.
  void throw_if_any();

 private:
  CompileErrors errors_;
};

[[noreturn]] void fail(const YAML::Node& at, std::string message);
[[noreturn]] void fail_at(const YAML::Mark& at, std::string message);

std::string scalar(const YAML::Node& n, std::string_view what);
std::string optional_scalar(const YAML::Node& parent, const char* key);
// A string or a list of strings (Sigma allows both for references and falsepositives).
std::vector<std::string> string_list(const YAML::Node& parent, const char* key);
bool parse_bool(const YAML::Node& n, bool& out);
std::optional<std::uint64_t> count_value(const YAML::Node& n);
RuleInfo parse_info(const YAML::Node& doc, const std::string& source);

// compile.cpp: a detection section (selections and condition), a logsource.
// `skip_key` names a key of the section that is not a search identifier (a filter's `rules`).
Detection compile_detection(const YAML::Node& det, const CompileContext& ctx,
                            std::string_view skip_key = {});
// A copy of `d` with its fields renamed by a logsource's fieldmap.
std::shared_ptr<const Detection> remap_fields(const Detection& d,
                                              const std::map<std::string, std::string>& fieldmap);
LogsourceKey parse_logsource(const YAML::Node& doc);

// modifiers.cpp: one search identifier (field tests with their modifiers, or keywords).
Selection compile_selection(const std::string& name, const YAML::Node& node,
                            const CompileContext& ctx);

// condition.cpp: one condition string over the detection's selections.
Condition parse_condition(std::string_view text, const YAML::Mark& mark,
                          const std::vector<Selection>& selections);

// interest.cpp: what a condition says about the events it can match.
std::optional<std::set<std::uint32_t>> required_event_ids(const Detection& d, const Condition& c,
                                                          bool derived_channel);
bool requires_field(const Detection& d, const Condition& c, FieldId field);
void excluded_channels(const Detection& d, const Condition& c, std::vector<std::string>& out);

// filter.cpp: one Sigma filter document.
CompiledFilter compile_filter(const YAML::Node& doc, const std::string& source,
                              const CompileContext& ctx);

// correlation.cpp: one correlation rule document.
CompiledCorrelation compile_correlation(const YAML::Node& doc, const std::string& source);

}  // namespace sw::rules::detail
