// Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational: 1149, a Remote
// Desktop client authenticated. It names who connects from where, which the console
// arbitration that follows (TS-LSM 41) does not; kept briefly as a hint for it.
#include "session/names.hpp"
#include "session/tracker_impl.hpp"

namespace sw {

using namespace session_detail;

void SessionTracker::Impl::apply_rcm(Host& host, const Event& e) {
  if (e.event_id != 1149) return;
  const Names& n = Names::get();
  RemoteHint h;
  h.time = e.time_created;
  h.user.assign(payload_or_empty(e, n.param1));
  h.domain.assign(payload_or_empty(e, n.param2));
  h.address.assign(payload_or_empty(e, n.param3));
  h.evidence = evidence_of(e, "remote connection authenticated");
  add_hint(host, std::move(h));
}

void SessionTracker::Impl::add_hint(Host& host, RemoteHint h) {
  while (!host.hints.empty() &&
         (host.hints.size() >= 32 ||
          host.hints.front().time + opt.arbitration_window + opt.channel_skew < h.time)) {
    host.hints.pop_front();
  }
  host.hints.push_back(std::move(h));
}

}  // namespace sw
