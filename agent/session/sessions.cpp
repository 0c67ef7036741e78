// Session records and the Security logons tied to them: what the channel handlers share.
#include <algorithm>

#include "session/names.hpp"
#include "session/tracker_impl.hpp"

namespace sw {

using namespace session_detail;

SessionRecord& SessionTracker::Impl::session(Host& host, std::uint32_t id, Ticks t, bool& created) {
  auto it = host.sessions.find(id);
  created = it == host.sessions.end();
  if (!created) {
    it->second.last_seen = std::max(it->second.last_seen, t);
    return it->second;
  }
  if (host.sessions.size() + host.logons.size() >= opt.max_sessions_per_host) evict_sessions(host);
  SessionRecord& s = host.sessions[id];
  s.session_id = id;
  s.state_since = t;
  s.last_seen = t;
  return s;
}

void SessionTracker::Impl::end_session(Host& host, std::uint32_t id, Ticks t) {
  auto it = host.sessions.find(id);
  if (it == host.sessions.end()) return;
  if (host.recent_ends.size() >= 8) host.recent_ends.pop_front();
  host.recent_ends.emplace_back(id, t);
  host.console_valid = false;
  if (it->second.console) {
    host.console_free_known = true;
    host.console_free_since = t;
  }
  if (it->second.logon_id) erase_logon(host, it->second.logon_id);
  std::vector<std::uint64_t> linked;
  auto [first, last] = host.logons_by_session.equal_range(id);
  for (auto l = first; l != last; ++l) linked.push_back(l->second);
  for (std::uint64_t logon_id : linked) erase_logon(host, logon_id);
  host.sessions.erase(it);
}

void SessionTracker::Impl::set_state(SessionRecord& s, ConsoleState state, Ticks t) {
  if (s.state != state) {
    s.state = state;
    s.state_since = t;
  }
}

bool SessionTracker::Impl::link_logon(Host& host, SessionRecord& s, Ticks t) {
  if (s.logon_id) {
    auto it = host.logons.find(s.logon_id);
    return it != host.logons.end() && it->second.announced;
  }
  bool announced = false;
  const Logon* first = nullptr;
  std::uint64_t first_id = 0;
  const auto from = host.logons_by_time.lower_bound(t - 10 * kTicksPerSecond - opt.channel_skew);
  const auto to = host.logons_by_time.upper_bound(t + opt.channel_skew);
  for (auto entry = from; entry != to; ++entry) {
    const std::uint64_t id = entry->second;
    auto found = host.logons.find(id);
    if (found == host.logons.end()) continue;
    Logon& l = found->second;
    if (l.session_id) continue;
    if (!same_account(l.domain, l.user, s.domain, s.user)) continue;
    const bool local_type = is_console_logon(l.type);
    // Winlogon names no address: any interactive logon of the user fits.
    if (!s.address.empty() && (s.address == "LOCAL") != local_type) continue;
    set_logon_session(host, id, l, s.session_id);
    announced = announced || l.announced;
    if (!first || l.time < first->time || (l.time == first->time && id < first_id)) {
      first = &l;
      first_id = id;
    }
  }
  if (first) {
    s.logon_id = first_id;
    if (s.sid.empty()) s.sid = first->sid;
    if (s.address.empty() && is_console_logon(first->type)) s.console = true;
  }
  return announced;
}

void SessionTracker::Impl::note_concurrent_sessions(Host& host, Ticks t) {
  if (host.multi_session) return;
  std::size_t connected = 0;
  for (const auto& [id, s] : host.sessions) {
    if (s.state != ConsoleState::kDisconnected && ++connected == 2) break;
  }
  if (connected < 2) {
    host.overlap_since.reset();
  } else if (host.arbitrations.empty()) {
    host.multi_session = true;
  } else if (!host.overlap_since) {
    host.overlap_since = t;
  }
}

void SessionTracker::Impl::confirm_concurrent_sessions(Host& host, Ticks t) {
  // Two sessions connected at once: normal on a multi-session server. On a client edition only
  // while a console arbitration (TS-LSM 41) moves the console, which disconnects one of them
  // within seconds: an overlap during one counts once it outlasted an arbitration window (until
  // this event, before it changes anything).
  if (host.overlap_since && t - *host.overlap_since >= opt.arbitration_window) {
    host.multi_session = true;
    host.overlap_since.reset();
  }
}

bool SessionTracker::Impl::recently_ended(const Host& host, std::uint32_t id, Ticks t) const {
  for (const auto& [sid, when] : host.recent_ends) {
    if (sid == id && when <= t + opt.channel_skew && when + 60 * kTicksPerSecond >= t) return true;
  }
  return false;
}

bool SessionTracker::Impl::recently_rebooted(const Host& host, Ticks t) const {
  return host.rebooted && host.last_reboot <= t + opt.channel_skew &&
         host.last_reboot + 5 * 60 * kTicksPerSecond >= t;
}

bool SessionTracker::Impl::ended_already(const Host& host, std::uint32_t id, Ticks t) const {
  return !host.sessions.count(id) && recently_ended(host, id, t);
}

}  // namespace sw
