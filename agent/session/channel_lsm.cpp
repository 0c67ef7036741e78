// Microsoft-Windows-TerminalServices-LocalSessionManager/Operational: the session manager's own
// account of each session (21 logon, 22 shell start, 23 logoff, 24 disconnect, 25 reconnect,
// 39/40 disconnected by another session or for a reason, 41/42 console arbitration).
#include <algorithm>

#include "session/names.hpp"
#include "session/tracker_impl.hpp"

namespace sw {

using namespace session_detail;

namespace {

LsmFields lsm_fields(const Event& e) {
  const Names& n = Names::get();
  LsmFields f;
  split_account(payload_or_empty(e, n.user), f.domain, f.user);
  f.address = payload_or_empty(e, n.address);
  f.local = f.address == "LOCAL";
  f.session_id = parse_u32(payload_or_empty(e, n.session_id));
  return f;
}

// Where the session is now: at the console ("LOCAL"), or at the remote client the event names.
void place_session(Host& host, SessionRecord& s, const LsmFields& f) {
  if (!f.address.empty()) s.address.assign(f.address);
  if (f.local) {
    s.console = true;
    host.console_free_known = false;
  } else if (!f.address.empty()) {
    s.console = false;
  }
}

}  // namespace

void SessionTracker::Impl::apply_lsm(Host& host, const Event& e) {
  const LsmFields f = lsm_fields(e);
  if (e.event_id >= 21 && e.event_id <= 25) host.console_valid = false;
  switch (e.event_id) {
    case 21:
    case 22:
      return on_lsm_session_logon(host, e, f);
    case 23:
      return on_lsm_session_logoff(host, e, f);
    case 24:
    case 25:
      return on_lsm_session_change(host, e, f);
    case 39:
    case 40:
      return on_lsm_disconnected_by(host, e);
    case 41:
      return on_lsm_arbitration_begin(host, e, f);
    case 42:
      return on_lsm_arbitration_end(host, e, f);
    default:
      return;
  }
}

Derived SessionTracker::Impl::lsm_derived(const Event& e, const LsmFields& f, Kind kind) const {
  return Derived{.kind = kind,
                 .time = e.time_created,
                 .user = f.user,
                 .domain = f.domain,
                 .session = f.session_id,
                 .address = std::string(f.address),
                 .evidence = {evidence_of(e, "session event")}};
}

void SessionTracker::Impl::on_lsm_session_logon(Host& host, const Event& e, const LsmFields& f) {
  if (!f.session_id) return;
  const Ticks t = e.time_created;
  bool created = false;
  SessionRecord& s = session(host, *f.session_id, t, created);
  s.user = f.user;
  s.domain = f.domain;
  place_session(host, s, f);
  if (created || e.event_id == 21) {
    if (created) s.logon_time = t;
    set_state(s, ConsoleState::kActive, t);
  }
  const bool announced = link_logon(host, s, t);
  note_connect(host, e, f.user, f.domain, *f.session_id, f.address);
  // 22 (the shell started) announces only a session not seen before.
  const bool first_news = created || (e.event_id == 21 && s.logon_time == t);
  if (!announced && first_news) queue(host, lsm_derived(e, f, Kind::kLogon));
}

void SessionTracker::Impl::on_lsm_session_logoff(Host& host, const Event& e, const LsmFields& f) {
  if (!f.session_id) return;
  const Ticks t = e.time_created;
  Derived d = lsm_derived(e, f, Kind::kLogoff);
  const auto it = host.sessions.find(*f.session_id);
  const bool known = it != host.sessions.end();
  if (known) {
    if (d.user.empty()) {
      d.user = it->second.user;
      d.domain = it->second.domain;
    }
    d.address = it->second.address;
  }
  const bool repeat = !known && recently_ended(host, *f.session_id, t);
  end_session(host, *f.session_id, t);
  if (known || (!recently_rebooted(host, t) && !repeat)) queue(host, std::move(d));
}

void SessionTracker::Impl::on_lsm_session_change(Host& host, const Event& e, const LsmFields& f) {
  const Ticks t = e.time_created;
  if (!f.session_id || ended_already(host, *f.session_id, t)) return;
  bool created = false;
  SessionRecord& s = session(host, *f.session_id, t, created);
  const bool connect = e.event_id == 25;
  // Security 4778/4779 may have told it already: the session is in that state since moments.
  const bool repeat = !created &&
                      s.state == (connect ? ConsoleState::kActive : ConsoleState::kDisconnected) &&
                      (!connect || f.address.empty() || s.address == f.address) &&
                      s.state_since + kRepeatWithin + opt.channel_skew >= t;
  if (!f.user.empty()) {
    s.user = f.user;
    s.domain = f.domain;
  }
  if (connect) {
    on_lsm_session_reconnect(host, e, f, s, repeat);
  } else {
    on_lsm_session_disconnect(host, e, f, s);
  }
  if (!repeat) queue(host, lsm_derived(e, f, connect ? Kind::kReconnect : Kind::kDisconnect));
}

void SessionTracker::Impl::on_lsm_session_disconnect(Host& host, const Event& e, const LsmFields& f,
                                                     SessionRecord& s) {
  if (!f.address.empty()) s.address.assign(f.address);
  if (f.local) s.console = true;
  note_console_disruption(host, e, *f.session_id, f.local || s.console);
  set_state(s, ConsoleState::kDisconnected, e.time_created);
}

void SessionTracker::Impl::on_lsm_session_reconnect(Host& host, const Event& e, const LsmFields& f,
                                                    SessionRecord& s, bool repeat) {
  const Ticks t = e.time_created;
  const bool was_console = s.console;
  place_session(host, s, f);
  if (was_console && !s.console) {
    // The console's session moved to a remote client: the console is free.
    host.console_free_known = true;
    host.console_free_since = t;
  }
  if (!repeat) {
    s.state = ConsoleState::kActive;
    s.state_since = t;
  }
  note_connect(host, e, f.user, f.domain, *f.session_id, f.address);
}

void SessionTracker::Impl::on_lsm_disconnected_by(Host& host, const Event& e) {
  const Names& n = Names::get();
  const auto target =
      parse_u32(payload_or_empty(e, e.event_id == 39 ? n.target_session : n.session));
  if (!target) return;
  note_disconnect_reason(host, e, *target, payload_or_empty(e, n.reason));
}

void SessionTracker::Impl::on_lsm_arbitration_begin(Host& host, const Event& e,
                                                    const LsmFields& f) {
  if (f.session_id) begin_arbitration(host, e, f);
}

void SessionTracker::Impl::on_lsm_arbitration_end(Host& host, const Event& e, const LsmFields& f) {
  if (!f.session_id) return;
  if (Arbitration* a = find_arbitration(host, e, f.session_id)) {
    a->end = e.time_created;
    a->last = std::max(a->last, e.time_created);
    a->evidence.push_back(evidence_of(e, "arbitration end"));
  }
}

}  // namespace sw
