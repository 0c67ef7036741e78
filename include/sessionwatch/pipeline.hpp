// The detection chain every front end shares (scan, run, the Windows service):
//   normalized event -> session tracker (enrich, derived events) -> rules -> alert builder.
// Sources before it and spools/outputs after it are the caller's.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/alert.hpp"
#include "sessionwatch/event.hpp"
#include "sessionwatch/session.hpp"
#include "sessionwatch/state_parts.hpp"

namespace sw {

struct DetectorOptions {
  // Sigma rule files or folders. Empty: the built-in 7063/7062 detections run instead.
  std::vector<std::string> rule_paths;
  // refuse (false): any broken rule fails create(); skip (true): broken rules are reported in
  // `problems` and left out.
  bool skip_broken_rules = false;
  // Values of the rules' `|expand` placeholders (RuleOptions::placeholders).
  std::map<std::string, std::vector<std::string>> placeholders;
  // The tracker's options. Batch scans widen the reorder window so that files read one after
  // another are still seen in time order; the daemon keeps the default and no timeline.
  TrackerOptions tracker;
};

struct DetectorStats {
  std::uint64_t events = 0;          // events processed
  std::uint64_t derived_events = 0;  // tracker-derived events matched against the rules
  std::uint64_t alerts = 0;
};

class Detector {
 public:
  using AlertCallback = std::function<void(Alert&&)>;

  // Builds the chain. On failure returns nullptr; `problems` lists what is wrong (rules with
  // file:line:column). With skip_broken_rules, skipped rules are listed too and creation succeeds.
  static std::unique_ptr<Detector> create(const DetectorOptions& options,
                                          std::vector<std::string>& problems);
  virtual ~Detector() = default;

  // One event in; zero or more alerts out through `on_alert`, synchronously. The event may be
  // enriched in place (sessionwatch.* fields).
  virtual void process(Event& event, const AlertCallback& on_alert) = 0;
  // End of input (or shutdown): releases events held for reordering and pending correlations.
  virtual void flush(const AlertCallback& on_alert) = 0;

  // Tracker and correlation state, for the daemon's snapshot (versioned text).
  virtual std::string snapshot() const = 0;
  virtual bool restore(std::string_view snapshot, std::string& error) = 0;
  // The same state as parts (one per computer, one per correlation group): every part, or with
  // `changes_only` those changed since the previous call, so that a checkpoint's cost follows
  // the events since the last one, not the size of the state.
  virtual void snapshot_parts(bool changes_only, StateParts& out) = 0;
  // Every part for the last checkpoint before the detector goes away (the end of `run`): the
  // largest ones encoded only as they are written (StatePart::encode_when_written), and nothing
  // kept for a later checkpoint. The detector must not change until they are written.
  virtual void last_parts(StateParts& out) = 0;
  virtual bool restore_parts(const StatePartMap& parts, std::string& error) = 0;

  virtual const SessionTracker& tracker() const = 0;
  // The events this chain can use (the tracker's and the rules'): a source that filters at the
  // origin keeps at least these, and the alerts are the same as with every event.
  virtual EventInterest interest() const = 0;
  virtual DetectorStats stats() const = 0;
  // Number of rules loaded (0 when the built-in detections run).
  virtual std::size_t rule_count() const = 0;
  // Matches per rule id so far, for metrics.
  virtual std::vector<std::pair<std::string, std::uint64_t>> rule_matches() const = 0;
};

}  // namespace sw
