// The detection chain: tracker -> (rules | built-in detections) -> alert builder.
#include <array>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "sessionwatch/alert_builder.hpp"
#include "sessionwatch/pipeline.hpp"
#include "sessionwatch/rules.hpp"
#include "sessionwatch/session.hpp"

namespace sw {
namespace {

std::vector<EvidenceRef> evidence_of(const CorrelationMatch& c) {
  std::vector<EvidenceRef> out;
  out.reserve(c.events.size());
  for (const EventRef& r : c.events) {
    out.push_back(EvidenceRef{r.channel, r.record_id, r.event_id, r.time, "matched " + r.rule_id});
  }
  return out;
}

class ChainDetector final : public Detector, private TrackerSink {
 public:
  ChainDetector(const TrackerOptions& tracker_options, std::unique_ptr<RuleSet> rules,
                std::size_t rule_count)
      : tracker_(tracker_options, *this), rules_(std::move(rules)), rule_count_(rule_count) {
    builtin_.set_enabled(rule_count_ == 0);
    for (std::uint32_t id = 0; id < wanted_derived_.size(); ++id) {
      wanted_derived_[id] = (builtin_.enabled() && id == derived::kArbitrationRefused) ||
                            (rules_ && rule_count_ > 0 && rules_->looks_at(derived::kChannel, id));
    }
  }

  void process(Event& event, const AlertCallback& on_alert) override {
    on_alert_ = &on_alert;
    ++stats_.events;
    tracker_.push(event);
    on_alert_ = nullptr;
  }

  void flush(const AlertCallback& on_alert) override {
    on_alert_ = &on_alert;
    tracker_.flush();
    on_alert_ = nullptr;
  }

  EventInterest interest() const override {
    EventInterest interest = tracker_.interest();
    // Rules on derived events ("sessionwatch" channel) need what the tracker reads, already in.
    if (rules_) interest.merge(rules_->interest());
    return interest;
  }

  std::string snapshot() const override {
    nlohmann::json j{{"version", 1}, {"tracker", tracker_.snapshot()}};
    if (rules_) j["rules"] = rules_->snapshot();
    return j.dump();
  }

  bool restore(std::string_view snapshot, std::string& error) override {
    nlohmann::json j = nlohmann::json::parse(snapshot, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("version", 0) != 1 || !j.contains("tracker") ||
        !j["tracker"].is_string()) {
      error = "not a sessionwatch detector snapshot (version 1)";
      return false;
    }
    if (!tracker_.restore(j["tracker"].get<std::string>(), error)) return false;
    if (rules_ && j.contains("rules") && j["rules"].is_string()) {
      return rules_->restore(j["rules"].get<std::string>(), error);
    }
    return true;
  }

  void snapshot_parts(bool changes_only, StateParts& out) override {
    tracker_.snapshot_parts(changes_only, out);
    if (rules_) rules_->snapshot_parts(changes_only, out);
  }

  void last_parts(StateParts& out) override {
    tracker_.last_parts(out);
    if (rules_) rules_->snapshot_parts(false, out);  // a few groups: encoded at once
  }

  bool restore_parts(const StatePartMap& parts, std::string& error) override {
    if (!tracker_.restore_parts(parts, error)) return false;
    return !rules_ || rules_->restore_parts(parts, error);
  }

  const SessionTracker& tracker() const override { return tracker_; }
  DetectorStats stats() const override { return stats_; }
  std::size_t rule_count() const override { return rule_count_; }
  std::vector<std::pair<std::string, std::uint64_t>> rule_matches() const override {
    return {matches_.begin(), matches_.end()};
  }

 private:
  void on_event(Event& event) override { detect(event, {}); }

  bool wants_event(const Event& event) const override {
    if (builtin_.alerts_on(event)) return true;
    return rules_ && rule_count_ > 0 && rules_->may_match(event);
  }

  bool wants_derived(std::uint32_t event_id) const override {
    return event_id >= wanted_derived_.size() || wanted_derived_[event_id];
  }

  void on_derived(Event& event, const std::vector<EvidenceRef>& evidence) override {
    ++stats_.derived_events;
    detect(event, evidence);
  }

  void detect(const Event& event, const std::vector<EvidenceRef>& evidence) {
    if (rules_ && rule_count_ > 0) {
      rules_->match(event, [&](const RuleMatch& m) {
        ++matches_[m.rule.id];
        const AlertContext context = tracker_.alert_context(event);
        Alert alert = m.correlation
                          ? build_alert(m.rule, event, evidence_of(*m.correlation), &context)
                          : build_alert(m.rule, event, evidence, &context);
        if (!m.matched_fields.empty()) {
          alert.extras["sessionwatch"]["matched_fields"] = m.matched_fields;
        }
        if (m.correlation) {
          const CorrelationMatch& c = *m.correlation;
          nlohmann::json group = nlohmann::json::object();
          for (const auto& [field, value] : c.group) group[field] = value;
          alert.extras["sessionwatch"]["correlation"] = {
              {"type", c.type},
              {"group", group},
              {"count", c.count},
              {"timespan_seconds", c.timespan / kTicksPerSecond},
              {"first", format_time(c.first)},
              {"last", format_time(c.last)}};
          if (c.value) alert.extras["sessionwatch"]["correlation"]["value"] = *c.value;
        }
        emit(std::move(alert));
      });
    }
    if (builtin_.alerts_on(event)) {
      builtin_out_.clear();
      const AlertContext context = tracker_.alert_context(event);
      builtin_.on_event(event, evidence, &context, builtin_out_);
      for (Alert& a : builtin_out_) {
        ++matches_[a.rule_id];
        emit(std::move(a));
      }
    }
  }

  void emit(Alert&& alert) {
    ++stats_.alerts;
    if (on_alert_ && *on_alert_) (*on_alert_)(std::move(alert));
  }

  SessionTracker tracker_;
  std::unique_ptr<RuleSet> rules_;
  std::size_t rule_count_;
  BuiltinDetections builtin_;
  // By derived event id (derived::k...): whether the rules or the built-in detections can act on
  // it; the relay's built-in detections want one kind of the nine.
  std::array<bool, 16> wanted_derived_{};
  std::vector<Alert> builtin_out_;
  const AlertCallback* on_alert_ = nullptr;
  DetectorStats stats_;
  std::map<std::string, std::uint64_t> matches_;
};

}  // namespace

std::unique_ptr<Detector> Detector::create(const DetectorOptions& options,
                                           std::vector<std::string>& problems) {
  std::unique_ptr<RuleSet> rules;
  std::size_t count = 0;
  if (!options.rule_paths.empty()) {
    RuleOptions rule_options;
    rule_options.placeholders = options.placeholders;
    RuleLoadResult loaded = RuleSet::load(options.rule_paths, rule_options);
    for (const RuleProblem& p : loaded.problems) problems.push_back(to_string(p));
    if (!loaded.ok() && !options.skip_broken_rules) return nullptr;
    if (loaded.loaded == 0) {
      problems.emplace_back("no rules loaded from the given paths");
      return nullptr;
    }
    count = loaded.loaded;
    rules = std::move(loaded.rules);
  }
  return std::make_unique<ChainDetector>(options.tracker, std::move(rules), count);
}

}  // namespace sw
