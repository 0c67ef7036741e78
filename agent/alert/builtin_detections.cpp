// The built-in detections: an observed 7063/7062 and an inferred one, while no Sigma rules load.
#include "alert/alert_facts.hpp"
#include "session/names.hpp"
#include "sessionwatch/alert_builder.hpp"

namespace sw {

using namespace session_detail;
using alert_detail::field_or_empty;

const RuleInfo& BuiltinDetections::observed_rule() {
  static const RuleInfo rule = [] {
    RuleInfo r;
    r.id = "5e55b0a1-7063-4c0d-9f1e-0b5e55100001";
    r.title = "Console logon refused: 7063/7062 reported by an event";
    r.description =
        "An event carries Win32 error 7063 ERROR_CTX_NO_FORCE_LOGOFF or 7062 "
        "ERROR_CTX_SESSION_IN_USE (as a code, HRESULT, symbol, tool output or message): a logon "
        "was refused because another user holds the console or the session.";
    r.author = "sessionwatch";
    r.level = Level::kHigh;
    r.tags = {"attack.t1021.001"};
    r.source = "builtin";
    return r;
  }();
  return rule;
}

const RuleInfo& BuiltinDetections::inferred_rule() {
  static const RuleInfo rule = [] {
    RuleInfo r;
    r.id = "5e55b0a1-7063-4c0d-9f1e-0b5e55100002";
    r.title = "Console logon refused: console arbitration ended without a session";
    r.description =
        "A remote logon began session arbitration (TS-LSM 41) and ended it (42/40) without "
        "getting a session while another user kept the console: the pattern of 7063 "
        "ERROR_CTX_NO_FORCE_LOGOFF (or 7062 when another user's session was in use).";
    r.author = "sessionwatch";
    r.level = Level::kHigh;
    r.source = "builtin";
    return r;
  }();
  return rule;
}

bool BuiltinDetections::alerts_on(const Event& event) const {
  if (!enabled_) return false;
  if (event.channel() == derived::kChannel) return event.event_id == derived::kArbitrationRefused;
  const std::string_view code = field_or_empty(event, Names::get().error_code);
  return code == "7063" || code == "7062";
}

void BuiltinDetections::on_event(const Event& event, const std::vector<EvidenceRef>& evidence,
                                 const AlertContext* context, std::vector<Alert>& out) const {
  if (!alerts_on(event)) return;
  const RuleInfo& rule = event.channel() == derived::kChannel ? inferred_rule() : observed_rule();
  out.push_back(build_alert(rule, event, evidence, context));
}

}  // namespace sw
