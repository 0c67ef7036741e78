// Sigma rules, matched natively: a RuleSet is compiled once from YAML files (Sigma detection
// rules and Sigma correlation rules) and then matches sw::Event values with no per-event parsing.
//
// Rules are untrusted input: loading never throws and never crashes; every problem comes back
// as a RuleProblem with file, line and column. Regular expressions run on RE2 (linear time).
//
// Threading: a RuleSet is not thread-safe; match() updates correlation state. Use one per
// pipeline thread (or guard it).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "sessionwatch/alert.hpp"
#include "sessionwatch/event.hpp"
#include "sessionwatch/interest.hpp"
#include "sessionwatch/state_parts.hpp"

namespace sw {

// One thing wrong with a rule file. `line`/`column` are 1-based; 0 when unknown.
struct RuleProblem {
  std::string file;
  int line = 0;
  int column = 0;
  std::string rule;  // id or title of the rule, when known
  // What is wrong. Sigma features the engine does not implement read "unsupported: <feature>".
  std::string message;
  bool unsupported() const { return message.rfind("unsupported:", 0) == 0; }
};
// "file:line:column: [rule] message" (what `sessionwatch rules check` prints).
std::string to_string(const RuleProblem& p);

struct RuleOptions {
  // Values for `|expand` placeholders, keyed by name without the % signs ("Admins_Workstations").
  // A rule expanding an unconfigured placeholder is rejected.
  std::map<std::string, std::vector<std::string>> placeholders;
  // Extra logsource mappings (same YAML shape as agent/rules/logsources.yaml), applied over the
  // built-in map in order: an entry here replaces the built-in entry of the same name.
  std::vector<std::string> logsource_yaml;
  // Correlation state bounds: groups kept per correlation rule (least recently updated evicted
  // first) and events remembered per group for the alert.
  std::size_t max_groups_per_correlation = 10000;
  std::size_t max_events_per_group = 64;
  // Values kept per group for value_sum, value_avg and value_percentile (the most recent of the
  // window when it holds more).
  std::size_t max_values_per_group = 4096;
};

// Identity of an event that contributed to a correlation (enough to find it again).
struct EventRef {
  std::string channel;
  std::uint64_t record_id = 0;
  std::uint32_t event_id = 0;
  std::string computer;
  Ticks time = 0;
  std::string rule_id;  // the base rule it matched
};

// Extra facts of a correlation match.
struct CorrelationMatch {
  // event_count | value_count | value_sum | value_avg | value_percentile | temporal |
  // temporal_ordered
  std::string type;
  std::vector<std::pair<std::string, std::string>> group;  // group-by field -> value
  std::uint64_t count = 0;  // events, distinct values or distinct rules, per type
  // value_sum, value_avg: the sum or average of the field; value_percentile: the share (percent)
  // of the window's events that carry the triggering event's value. Empty for the other types.
  std::optional<double> value;
  Ticks timespan = 0;
  Ticks first = 0;  // time of the oldest contributing event in the window
  Ticks last = 0;
  std::vector<EventRef> events;  // oldest first, at most max_events_per_group
};

// One rule firing.
struct RuleMatch {
  const RuleInfo& rule;
  // Fields whose values satisfied the detection (names, in rule order), for highlighting. Empty
  // for keyword-only matches on the message and for correlations.
  const std::vector<std::string>& matched_fields;
  const CorrelationMatch* correlation;  // null for a plain detection rule
};

// A non-owning callable reference, so match() takes any lambda without allocating.
template <typename Signature>
class FunctionRef;
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT(google-explicit-constructor): meant to bind lambdas implicitly
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(a)...);
        }) {}
  R operator()(Args... a) const { return call_(object_, std::forward<Args>(a)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

using MatchCallback = FunctionRef<void(const RuleMatch&)>;

class RuleSet;

struct RuleLoadResult {
  std::unique_ptr<RuleSet> rules;     // always set; holds every rule that compiled
  std::vector<RuleProblem> problems;  // one per rejected rule (or broken file)
  std::size_t files = 0;
  std::size_t loaded = 0;          // rules (detection and correlation) that compiled
  std::size_t rejected = 0;        // rules rejected (unsupported or broken)
  std::size_t rejected_files = 0;  // files not read or not YAML: their rules are not counted
  bool ok() const { return problems.empty(); }
};

struct RuleSetStats {
  std::size_t detection_rules = 0;
  std::size_t correlation_rules = 0;
  std::size_t correlation_groups = 0;  // live groups across all correlations
};

class RuleSet {
 public:
  // Loads rule files and directories (recursively: *.yml, *.yaml). Never throws.
  static RuleLoadResult load(const std::vector<std::string>& paths,
                             const RuleOptions& options = {});
  // Loads rules from YAML text (one or more documents); `source` names it in problems/alerts.
  static RuleLoadResult load_text(std::string_view yaml, std::string_view source,
                                  const RuleOptions& options = {});
  // Several texts at once, so correlations may refer to rules in another text.
  static RuleLoadResult load_texts(const std::vector<std::pair<std::string, std::string>>& sources,
                                   const RuleOptions& options = {});

  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // Matches one event against the rules of its channel and event id, then feeds correlations.
  // Calls `on_match` for each detection rule that fires (unless only correlations use it) and
  // each correlation that fires. Returns the number of calls.
  std::size_t match(const Event& event, MatchCallback on_match);
  // Whether match() looks at any rule for events of this channel and event id: the index it
  // visits them by, less the rules whose condition rules the channel out (`... and not
  // Channel: X`). False means no rule can match nor feed a correlation. Like match(), not from
  // two threads at once.
  bool looks_at(std::string_view channel, std::uint32_t event_id) const;
  // The same for one event, less the rules that need sessionwatch.error_code when it has none.
  bool may_match(const Event& event) const;

  // Every loaded rule's metadata (detection then correlation rules, load order).
  std::vector<const RuleInfo*> rules() const;
  RuleSetStats stats() const;
  // The events the rules can match, by their logsources' channels, their EventID conditions and
  // the channels their conditions exclude (`not Channel: Security`): a source filtering at the
  // origin must not drop more. Channels are the Windows ones, plus "sessionwatch" for rules on
  // the session tracker's derived events. Rules that require sessionwatch.error_code add
  // nothing: only the tracker's error recognizer sets it, on events the tracker reads anyway.
  EventInterest interest() const;
  // The rules that need every event of `channel` ("title (file)"), to tell a user why a filter
  // could not narrow it.
  std::vector<std::string> rules_reading_whole(std::string_view channel) const;

  // Correlation state as a string (JSON), to persist with the tracker snapshot, and back.
  // restore() ignores groups of correlations no longer loaded; false + error on a bad string.
  std::string snapshot() const;
  bool restore(std::string_view snapshot, std::string& error);
  // The same state as parts, one "rules/<correlation>/<group>" per correlation group; with
  // `changes_only`, the groups changed since the previous call (fired or evicted ones without a
  // value). restore_parts() reads the "rules/" parts of `parts`.
  void snapshot_parts(bool changes_only, StateParts& out);
  bool restore_parts(const StatePartMap& parts, std::string& error);

  struct Impl;

 private:
  explicit RuleSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Every problem in the given files/directories (what `sessionwatch rules check` lists).
std::vector<RuleProblem> check_rules(const std::vector<std::string>& paths,
                                     const RuleOptions& options = {});

}  // namespace sw
