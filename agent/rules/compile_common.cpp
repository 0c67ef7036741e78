// YAML accessors and rule metadata shared by every part of the rule compiler.
#include <algorithm>
#include <charconv>

#include "rules/compile_internal.hpp"

namespace sw::rules::detail {

void ErrorCollector::throw_if_any() {
  if (errors_.errors.empty()) return;
  std::stable_sort(errors_.errors.begin(), errors_.errors.end(),
                   [](const CompileError& a, const CompileError& b) {
                     return std::pair(a.mark.line, a.mark.column) <
                            std::pair(b.mark.line, b.mark.column);
                   });
  throw std::move(errors_);
}

[[noreturn]] void fail(const YAML::Node& at, std::string message) {
  throw CompileError{at.Mark(), std::move(message)};
}
[[noreturn]] void fail_at(const YAML::Mark& at, std::string message) {
  throw CompileError{at, std::move(message)};
}

std::string scalar(const YAML::Node& n, std::string_view what) {
  if (!n.IsScalar()) fail(n, std::string(what) + " must be a string");
  return n.Scalar();
}

std::string optional_scalar(const YAML::Node& parent, const char* key) {
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) return {};
  if (!n.IsScalar()) fail(n, std::string("'") + key + "' must be a string");
  return n.Scalar();
}

std::vector<std::string> string_list(const YAML::Node& parent, const char* key) {
  std::vector<std::string> out;
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) fail(n, std::string("'") + key + "' must be a list of strings");
  for (const YAML::Node& item : n) {
    if (item.IsNull()) continue;
    if (!item.IsScalar()) fail(item, std::string("'") + key + "' must be a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

bool parse_bool(const YAML::Node& n, bool& out) {
  if (!n.IsScalar()) return false;
  const std::string v = text::lowered(n.Scalar());
  if (v == "true" || v == "yes") {
    out = true;
    return true;
  }
  if (v == "false" || v == "no") {
    out = false;
    return true;
  }
  return false;
}

RuleInfo parse_info(const YAML::Node& doc, const std::string& source) {
  RuleInfo info;
  ErrorCollector errors;
  errors.attempt([&] {
    info.title = optional_scalar(doc, "title");
    if (info.title.empty()) fail(doc, "rule has no title");
  });
  errors.attempt([&] { info.id = optional_scalar(doc, "id"); });
  errors.attempt([&] { info.description = optional_scalar(doc, "description"); });
  errors.attempt([&] { info.author = optional_scalar(doc, "author"); });
  errors.attempt([&] {
    const std::string level = optional_scalar(doc, "level");
    if (!level.empty() && !parse_level(text::lowered(level), info.level)) {
      fail(doc["level"],
           "unknown level '" + level + "' (informational, low, medium, high or critical)");
    }
  });
  errors.attempt([&] { info.tags = string_list(doc, "tags"); });
  errors.attempt([&] { info.references = string_list(doc, "references"); });
  errors.attempt([&] { info.falsepositives = string_list(doc, "falsepositives"); });
  // Metadata we carry no further but still validate the shape of.
  errors.attempt([&] { string_list(doc, "fields"); });
  info.source = source;
  errors.throw_if_any();
  return info;
}

std::optional<std::uint64_t> count_value(const YAML::Node& n) {
  std::uint64_t v = 0;
  if (!n.IsScalar()) fail(n, "a correlation count must be a number");
  const std::string& s = n.Scalar();
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) fail(n, "'" + s + "' is not a count");
  return v;
}

}  // namespace sw::rules::detail
