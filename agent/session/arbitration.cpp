// Console arbitration: on a client edition a remote logon must take the console over, which
// TS-LSM logs as an arbitration (41 begin, 42 end). What the events around it show (the
// newcomer got a session, the console's session was disconnected) tells a takeover from a
// refusal (7063, or 7062 for another user's session) that Windows itself logs nowhere.
#include <algorithm>

#include "session/names.hpp"
#include "session/tracker_impl.hpp"

namespace sw {

using namespace session_detail;

namespace {

bool is_null_guid(std::string_view g) {
  for (char c : g) {
    if (c != '0' && c != '-' && c != '{' && c != '}') return false;
  }
  return true;
}

bool holds_console(const ConsoleInfo& c) {
  return c.state == ConsoleState::kActive || c.state == ConsoleState::kDisconnected ||
         c.state == ConsoleState::kLocked;
}

// What a concluded arbitration derives: a takeover or a refusal, told about the newcomer.
Derived arbitration_derived(const Arbitration& a, Kind kind, Ticks time,
                            std::optional<std::uint32_t> session, const ConsoleInfo& console) {
  return Derived{.kind = kind,
                 .time = time,
                 .start_time = a.start,
                 .user = a.user,
                 .domain = a.domain,
                 .session = session,
                 .address = a.address,
                 .activity = a.activity,
                 .console = console,
                 .with_console = true,
                 .evidence = a.evidence};
}

}  // namespace

bool SessionTracker::Impl::in_window(const Arbitration& a, Ticks t) const {
  return t + opt.channel_skew >= a.start &&
         t <= a.start + opt.arbitration_window + opt.channel_skew;
}

void SessionTracker::Impl::begin_arbitration(Host& host, const Event& e, const LsmFields& f) {
  const Ticks t = e.time_created;
  Arbitration a;
  a.activity.assign(e.activity_id());
  a.user = f.user;
  a.domain = f.domain;
  a.new_session = *f.session_id;
  a.start = a.last = t;
  a.console_before = compute_console(host);
  for (const auto& [id, s] : host.sessions) {
    if (!s.console && id != a.new_session && !same_account(s.domain, s.user, a.domain, a.user) &&
        s.state != ConsoleState::kDisconnected) {
      a.other_session = s;
    }
  }
  a.evidence.push_back(evidence_of(e, "arbitration begin"));
  // The newcomer's RCM 1149 and Security 4624 (type 10) usually came first.
  for (const RemoteHint& h : host.hints) {
    if (h.time + opt.arbitration_window + opt.channel_skew < t) continue;
    if (!same_account(h.domain, h.user, a.domain, a.user)) continue;
    if (a.address.empty()) a.address = h.address;
    if (h.logon_id) a.logon_ids.push_back(h.logon_id);
    a.evidence.push_back(h.evidence);
  }
  host.arbitrations.push_back(std::move(a));
}

Arbitration* SessionTracker::Impl::find_arbitration(Host& host, const Event& e,
                                                    std::optional<std::uint32_t> new_session) {
  const std::string_view activity = e.activity_id();
  Arbitration* by_time = nullptr;
  for (auto it = host.arbitrations.rbegin(); it != host.arbitrations.rend(); ++it) {
    Arbitration& a = *it;
    if (!in_window(a, e.time_created)) continue;
    if (!activity.empty() && !is_null_guid(activity) && activity == a.activity &&
        (!new_session || *new_session == a.new_session || e.event_id != 42)) {
      return &a;
    }
    if (new_session && *new_session == a.new_session && !by_time) by_time = &a;
  }
  return by_time;
}

void SessionTracker::Impl::note_connect(Host& host, const Event& e, std::string_view user,
                                        std::string_view domain, std::uint32_t sid,
                                        std::string_view address) {
  for (auto it = host.arbitrations.rbegin(); it != host.arbitrations.rend(); ++it) {
    Arbitration& a = *it;
    if (!in_window(a, e.time_created)) continue;
    const bool same_activity = !a.activity.empty() && a.activity == e.activity_id();
    if (!same_activity && !same_account(a.domain, a.user, domain, user)) continue;
    const bool from_lsm = e.event_id == 21 || e.event_id == 25;
    if (a.connected) {
      // Security 4778 may come first; TS-LSM's own 21/25 names the session: its time counts.
      if (!from_lsm || a.final_session != sid) continue;
    } else {
      a.connected = true;
      a.final_session = sid;
      if (!address.empty() && address != "LOCAL") a.address.assign(address);
    }
    a.connect_time = e.time_created;
    a.last = std::max(a.last, e.time_created);
    a.evidence.push_back(evidence_of(e, "newcomer connected"));
    return;
  }
}

void SessionTracker::Impl::note_console_disruption(Host& host, const Event& e,
                                                   std::uint32_t session_id, bool console) {
  if (!console) return;
  for (auto it = host.arbitrations.rbegin(); it != host.arbitrations.rend(); ++it) {
    Arbitration& a = *it;
    if (!in_window(a, e.time_created)) continue;
    if (a.console_before.session_id && *a.console_before.session_id != session_id) continue;
    a.console_disrupted = true;
    a.last = std::max(a.last, e.time_created);
    a.evidence.push_back(evidence_of(e, "console disconnected"));
    return;
  }
}

void SessionTracker::Impl::note_disconnect_reason(Host& host, const Event& e,
                                                  std::uint32_t session_id,
                                                  std::string_view reason) {
  for (auto it = host.arbitrations.rbegin(); it != host.arbitrations.rend(); ++it) {
    Arbitration& a = *it;
    if (!in_window(a, e.time_created)) continue;
    std::string_view role;
    if (session_id == a.new_session) {
      role = "new session disconnected";
    } else if (a.console_before.session_id && *a.console_before.session_id == session_id) {
      // Reason 5: the session was replaced by another connection.
      if (reason == "5") a.console_disrupted = true;
      role = "console session disconnected";
    } else {
      continue;
    }
    a.last = std::max(a.last, e.time_created);
    a.evidence.push_back(evidence_of(e, role));
    return;
  }
}

void SessionTracker::Impl::note_newcomer_logon(Host& host, const Logon& l, std::uint64_t logon_id,
                                               const EvidenceRef& evidence) {
  const Ticks t = l.time;
  for (auto it = host.arbitrations.rbegin(); it != host.arbitrations.rend(); ++it) {
    // Not after the window by the skew either: a later logon is the next attempt's.
    if (in_window(*it, t) && t <= it->start + opt.arbitration_window &&
        same_account(it->domain, it->user, l.domain, l.user)) {
      it->logon_ids.push_back(logon_id);
      if (it->address.empty()) it->address = l.ip;
      it->evidence.push_back(evidence);
      return;
    }
  }
}

void SessionTracker::Impl::note_newcomer_logoff(Host& host, const Event& e,
                                                std::uint64_t logon_id) {
  for (Arbitration& a : host.arbitrations) {
    if (std::find(a.logon_ids.begin(), a.logon_ids.end(), logon_id) != a.logon_ids.end()) {
      a.evidence.push_back(evidence_of(e, "newcomer logged off"));
    }
  }
}

// ---- Outcomes ----

void SessionTracker::Impl::decide_arbitrations(Host& host, Ticks now, bool all) {
  for (std::size_t i = 0; i < host.arbitrations.size();) {
    Arbitration& a = host.arbitrations[i];
    const Ticks deadline =
        a.end ? a.end + opt.arbitration_grace : a.start + opt.arbitration_window + opt.channel_skew;
    if (!all && now <= deadline) {
      ++i;
      continue;
    }
    host.unsaved = true;
    Arbitration done = std::move(a);
    host.arbitrations.erase(host.arbitrations.begin() + static_cast<std::ptrdiff_t>(i));
    conclude(host, done);
  }
}

void SessionTracker::Impl::conclude(Host& host, Arbitration& a) {
  if (a.connected) {
    conclude_takeover(host, a);
  } else {
    conclude_refusal(host, a);
  }
}

void SessionTracker::Impl::conclude_takeover(Host& host, Arbitration& a) {
  if (!a.console_disrupted || !holds_console(a.console_before)) return;
  ++stats.takeovers;
  const Ticks time = a.connect_time ? a.connect_time : a.last;
  queue(host, arbitration_derived(a, Kind::kTakeover, time, a.final_session, a.console_before));
}

// Refused: the newcomer got no session while someone else's stayed.
void SessionTracker::Impl::conclude_refusal(Host& host, Arbitration& a) {
  const ConsoleInfo& c = a.console_before;
  std::uint32_t code = 0;
  ConsoleInfo blocker;
  if (holds_console(c) && !a.console_disrupted && !c.user.empty() &&
      !same_account(c.domain, c.user, a.domain, a.user)) {
    code = 7063;
    blocker = c;
  } else if (a.other_session && !a.console_disrupted) {
    code = 7062;
    blocker = console_of(*a.other_session);
  }
  if (!code) return;
  ++stats.refusals;
  Derived d =
      arbitration_derived(a, Kind::kRefused, a.end ? a.end : a.last, a.new_session, blocker);
  d.detection = "inferred";
  d.error_code = code;

  host.last_refusal = RefusedAttempt{.time = d.time,
                                     .user = a.user,
                                     .domain = a.domain,
                                     .address = a.address,
                                     .session_id = a.new_session,
                                     .evidence = a.evidence};
  record_attempt(host, d.time, fold_account(a.domain, a.user));

  // Refused by a console nobody is at: also said as such.
  const bool idle =
      blocker.state == ConsoleState::kDisconnected || blocker.state == ConsoleState::kLocked;
  Derived idle_event;
  if (idle && code == 7063) {
    idle_event = d;
    idle_event.kind = Kind::kIdle;
    idle_event.error_code = 0;
  }
  queue(host, std::move(d));
  if (idle && code == 7063) queue(host, std::move(idle_event));
}

void SessionTracker::Impl::record_attempt(Host& host, Ticks t, std::string who) {
  while (!host.attempts.empty() &&
         (host.attempts.front().time + opt.attempt_window < t || host.attempts.size() >= 1024)) {
    host.attempts.pop_front();
  }
  // One refusal is often seen twice (the application's event and the tool's text line, the
  // inferred refusal and the reported error): it is one attempt.
  for (const Attempt& a : host.attempts) {
    if (a.who == who && a.time <= t + opt.attempt_dedupe_window &&
        a.time + opt.attempt_dedupe_window >= t)
      return;
  }
  host.attempts.push_back(Attempt{t, std::move(who)});
}

}  // namespace sw
