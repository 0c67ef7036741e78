// The alert builder: rule + triggering event + evidence + tracker context -> one ECS alert.
// Generic: any rule on any event (or on a tracker-derived event) goes through here; the
// 7063/7062 specifics (console holder, requester, remediation) are filled when they apply.
// Every enriched fact says its source (tracker | message | event); unknown stays null.
#pragma once

#include <string>
#include <vector>

#include "sessionwatch/alert.hpp"
#include "sessionwatch/event.hpp"
#include "sessionwatch/session.hpp"

namespace sw {

// `evidence` lists the events the alert was drawn from (for a derived event, what on_derived
// gave); empty means the trigger alone. `context` may be null (no tracker).
Alert build_alert(const RuleInfo& rule, const Event& trigger,
                  const std::vector<EvidenceRef>& evidence, const AlertContext* context);

// The built-in detections, used while no Sigma rules are loaded: an observed 7063/7062 (the
// recognizer found the code in the event) and an inferred one (a refused arbitration), each
// one alert. The pipeline turns them off when rules are loaded.
class BuiltinDetections {
 public:
  static const RuleInfo& observed_rule();
  static const RuleInfo& inferred_rule();

  void set_enabled(bool enabled) { enabled_ = enabled; }
  bool enabled() const { return enabled_; }

  // Whether on_event() would raise an alert for this event: lets a caller build the alert's
  // context (a tracker lookup) only for the few events that get one.
  bool alerts_on(const Event& event) const;
  // For an enriched event (TrackerSink::on_event) or a derived event (on_derived, with its
  // evidence). Appends at most one alert.
  void on_event(const Event& event, const std::vector<EvidenceRef>& evidence,
                const AlertContext* context, std::vector<Alert>& out) const;

 private:
  bool enabled_ = true;
};

}  // namespace sw
