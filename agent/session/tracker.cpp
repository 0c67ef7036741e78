#include <algorithm>
#include <array>
#include <functional>
#include <iterator>
#include <limits>
#include <set>

#include "session/names.hpp"
#include "session/tracker_impl.hpp"
#include "sessionwatch/session.hpp"

#include "sessionwatch/error_catalog.hpp"

namespace sw {

using namespace session_detail;

std::string_view to_string(ConsoleState s) {
  switch (s) {
    case ConsoleState::kUnknown:
      return "unknown";
    case ConsoleState::kNone:
      return "none";
    case ConsoleState::kActive:
      return "active";
    case ConsoleState::kDisconnected:
      return "disconnected";
    case ConsoleState::kLocked:
      return "locked";
  }
  return "unknown";
}

namespace {
bool is_dotted_number(std::string_view computer) {
  return !computer.empty() && computer.find_first_not_of("0123456789.") == std::string_view::npos;
}
// "WS-FIN-07.corp.example": a DNS name, neither a short (NetBIOS) name nor an IPv4 address.
bool is_dns_name(std::string_view computer) {
  return computer.find('.') != std::string_view::npos && !is_dotted_number(computer);
}
}  // namespace

std::string host_key(std::string_view computer) {
  std::string_view label =
      is_dotted_number(computer) ? computer : computer.substr(0, computer.find('.'));
  std::string key(label);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

std::string host_short_name(std::string_view computer) {
  if (computer.empty() || is_dotted_number(computer)) return {};
  return std::string(computer.substr(0, computer.find('.')));
}

namespace session_detail {

namespace {
constexpr std::array<std::string_view, 9> kKindNames = {
    "session_logon",     "session_logoff",      "session_disconnect",
    "session_reconnect", "session_lock",        "session_unlock",
    "console_takeover",  "arbitration_refused", "console_idle"};
constexpr std::array<std::uint32_t, 9> kKindIds = {
    derived::kSessionLogon,     derived::kSessionLogoff,      derived::kSessionDisconnect,
    derived::kSessionReconnect, derived::kSessionLock,        derived::kSessionUnlock,
    derived::kConsoleTakeover,  derived::kArbitrationRefused, derived::kConsoleIdle};
}  // namespace

std::string_view kind_name(Kind k) {
  return kKindNames[static_cast<std::size_t>(k)];
}
std::uint32_t kind_event_id(Kind k) {
  return kKindIds[static_cast<std::size_t>(k)];
}

bool RecentIds::seen(std::uint64_t id) {
  if (id > max_id) {
    max_id = id;
  } else if (std::find(ring.begin(), ring.end(), id) != ring.end()) {
    return true;
  }
  if (ring.size() < kRing) {
    ring.push_back(id);
  } else {
    ring[next] = id;
    next = (next + 1) % kRing;
  }
  return false;
}

std::string fold_account(std::string_view domain, std::string_view user) {
  if (user.empty()) return {};
  std::string s = join_account(domain.substr(0, domain.find('.')), user);
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

ConsoleInfo compute_console(const Host& host) {
  ConsoleInfo info;
  const SessionRecord* best = nullptr;
  for (const auto& [id, s] : host.sessions) {
    if (!s.console) continue;
    if (!best || s.state_since > best->state_since) best = &s;
  }
  if (best) {
    info.state = best->state;
    info.user = best->user;
    info.domain = best->domain;
    info.session_id = best->session_id;
    info.since = best->state_since;
    info.logon_time = best->logon_time;
    return info;
  }
  // Security only (no TS-LSM): an interactive logon at the machine not tied to a session.
  const Logon* local = nullptr;
  for (std::uint64_t id : host.local_logons) {
    auto it = host.logons.find(id);
    if (it == host.logons.end()) continue;
    const Logon& l = it->second;
    if (!l.session_id && (!local || l.time > local->time)) local = &l;
  }
  if (local && (!host.console_free_known || local->time >= host.console_free_since)) {
    info.state = ConsoleState::kActive;
    info.user = local->user;
    info.domain = local->domain;
    info.since = local->time;
    info.logon_time = local->time;
    return info;
  }
  if (host.console_free_known) {
    info.state = ConsoleState::kNone;
    info.since = host.console_free_since;
  }
  return info;
}

const ConsoleInfo& cached_console(Host& host) {
  if (!host.console_valid) {
    host.console_cache = compute_console(host);
    host.console_valid = true;
  }
  return host.console_cache;
}

void index_logon(Host& host, std::uint64_t id, const Logon& l) {
  host.logons_by_time.emplace(l.time, id);
  if (l.session_id) host.logons_by_session.emplace(*l.session_id, id);
  // Only console kinds enter compute_console.
  if (is_local_logon_type(l.type)) {
    host.local_logons.push_back(id);
    host.console_valid = false;
  }
}

void unindex_logon(Host& host, std::uint64_t id, const Logon& l) {
  auto [first, last] = host.logons_by_time.equal_range(l.time);
  for (auto it = first; it != last; ++it) {
    if (it->second == id) {
      host.logons_by_time.erase(it);
      break;
    }
  }
  if (l.session_id) {
    auto [sfirst, slast] = host.logons_by_session.equal_range(*l.session_id);
    for (auto it = sfirst; it != slast; ++it) {
      if (it->second == id) {
        host.logons_by_session.erase(it);
        break;
      }
    }
  }
  if (is_local_logon_type(l.type)) {
    auto it = std::find(host.local_logons.begin(), host.local_logons.end(), id);
    if (it != host.local_logons.end()) {
      *it = host.local_logons.back();
      host.local_logons.pop_back();
    }
    host.console_valid = false;
  }
}

void set_logon_session(Host& host, std::uint64_t id, Logon& l,
                       std::optional<std::uint32_t> session_id) {
  if (l.session_id == session_id) return;
  // Touches logons_by_session only: callers walk logons_by_time meanwhile.
  if (l.session_id) {
    auto [first, last] = host.logons_by_session.equal_range(*l.session_id);
    for (auto it = first; it != last; ++it) {
      if (it->second == id) {
        host.logons_by_session.erase(it);
        break;
      }
    }
  }
  l.session_id = session_id;
  if (session_id) host.logons_by_session.emplace(*session_id, id);
  if (is_local_logon_type(l.type)) host.console_valid = false;
}

std::unordered_map<std::uint64_t, Logon>::iterator erase_logon(
    Host& host, std::unordered_map<std::uint64_t, Logon>::iterator it) {
  unindex_logon(host, it->first, it->second);
  return host.logons.erase(it);
}

void erase_logon(Host& host, std::uint64_t id) {
  auto it = host.logons.find(id);
  if (it != host.logons.end()) erase_logon(host, it);
}

void clear_logons(Host& host) {
  host.logons.clear();
  host.logons_by_time.clear();
  host.logons_by_session.clear();
  host.local_logons.clear();
  host.console_valid = false;
}

void reindex_logons(Host& host) {
  host.logons_by_time.clear();
  host.logons_by_session.clear();
  host.local_logons.clear();
  for (const auto& [id, l] : host.logons) index_logon(host, id, l);
}

}  // namespace session_detail

// ------------------------------------------------------------------------------------------

namespace {

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::string_view field_or_empty(const Event& e, FieldId id) {
  auto v = e.payload(id);
  return v ? *v : std::string_view();
}

std::optional<std::uint32_t> parse_u32(std::string_view s) {
  auto v = parse_uint(s);
  if (!v || *v > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

// Accounts that are not people: machine accounts, window manager and font driver sessions.
bool is_service_account(std::string_view domain, std::string_view user) {
  if (user.empty() || user == "-" || user.back() == '$') return true;
  if (domain == "Window Manager" || domain == "Font Driver Host" || domain == "NT AUTHORITY")
    return true;
  return user.starts_with("DWM-") || user.starts_with("UMFD-");
}

bool is_null_guid(std::string_view g) {
  for (char c : g) {
    if (c != '0' && c != '-' && c != '{' && c != '}') return false;
  }
  return true;
}

}  // namespace

SessionTracker::Impl::Impl(TrackerOptions o, TrackerSink& s) : opt(std::move(o)), sink(s) {
  if (!opt.catalog) opt.catalog = &ErrorCatalog::builtin();
}

Host& SessionTracker::Impl::host_for(std::string_view computer) {
  auto alias = aliases.find(computer);
  if (alias != aliases.end()) return *alias->second;
  std::string key = host_key(computer);
  auto it = hosts.find(key);
  if (it == hosts.end()) {
    if (hosts.size() >= opt.max_hosts) evict_host();
    it = hosts.emplace(std::move(key), Host()).first;
    it->second.name.assign(computer);
  }
  learn_host_name(it->second, computer);
  if (aliases.size() >= 4 * opt.max_hosts + 16) forget_aliases();
  if (aliases.emplace(std::string(computer), &it->second).second) {
    it->second.spellings.emplace_back(computer);
  }
  return it->second;
}

void SessionTracker::Impl::learn_host_name(Host& host, std::string_view computer) {
  // A machine's own events name it by its DNS name; tools, scripts and text lines often by its
  // NetBIOS name. Alerts and derived events use the DNS name once one was seen.
  if (computer.empty()) return;
  if (!is_dns_name(computer)) {
    if (host.short_name.empty() && !is_dotted_number(computer)) host.short_name.assign(computer);
  } else if (!is_dns_name(host.name)) {
    host.name.assign(computer);
  }
}

void SessionTracker::Impl::use_host_name(const Host& host, Event& event) {
  // Only a short name, or the same DNS name in another case, becomes the machine's name: two
  // DNS names that share a first label stay as their events spell them.
  const std::string_view computer = event.computer();
  if (computer == host.name || host.name.empty()) return;
  if (!is_dns_name(computer) || iequals(computer, host.name)) event.set_computer(host.name);
}

void SessionTracker::Impl::forget_aliases() {
  aliases.clear();
  for (auto& [key, host] : hosts) host.spellings.clear();
}

void SessionTracker::Impl::evict_host() {
  for (int pass = 0; pass < 2; ++pass) {
    while (!victims.empty()) {
      auto [seen, key] = std::move(victims.back());
      victims.pop_back();
      const auto it = hosts.find(key);
      // Gone already, or heard from since it was chosen: no longer among the quietest.
      if (it == hosts.end() || it->second.last_seen != seen) continue;
      evict(it);
      return;
    }
    // Hosts not chosen were all heard from later than every host chosen, and only get later.
    for (const auto& [k, host] : hosts) victims.emplace_back(host.last_seen, k);
    const std::size_t keep = std::min(victims.size(), std::max<std::size_t>(1, opt.max_hosts / 8));
    const auto cut = victims.begin() + static_cast<std::ptrdiff_t>(keep);
    std::nth_element(victims.begin(), cut - 1, victims.end());
    victims.erase(cut, victims.end());
    std::sort(victims.begin(), victims.end(), std::greater<>());  // quietest last
  }
}

void SessionTracker::Impl::evict(std::unordered_map<std::string, Host>::iterator victim) {
  ++stats.hosts_evicted;
  if (hook) hook(victim->second.name, "host-cap", 1);
  evicted_unsaved.push_back(victim->first);
  for (const std::string& spelling : victim->second.spellings) aliases.erase(spelling);
  hosts.erase(victim);
}

EvidenceRef SessionTracker::Impl::evidence_of(const Event& e, std::string_view role) {
  return EvidenceRef{std::string(e.channel()), e.record_id, e.event_id, e.time_created,
                     std::string(role)};
}

// ---- Reorder window ----

void SessionTracker::Impl::push(Event& event) {
  ++stats.events_in;
  Host& host = host_for(event.computer());
  host.unsaved = true;
  if (event.time_created > host.last_seen) host.last_seen = event.time_created;
  if (event.record_id != 0) {
    const std::string_view channel = event.channel();
    RecentIds* ids = nullptr;
    for (auto& [name, r] : host.seen_ids) {
      if (name == channel) ids = &r;
    }
    if (!ids) ids = &host.seen_ids.emplace_back(std::string(channel), RecentIds()).second;
    if (ids->seen(event.record_id)) {
      ++stats.duplicates;
      return;
    }
  }
  if (opt.reorder_window <= 0) {
    if (event.time_created < released_time) ++stats.late_events;
    release(event);
    return;
  }
  if (event.time_created > max_time) max_time = event.time_created;
  if (event.time_created < released_time) ++stats.late_events;
  heap.push(event, event.time_created, next_seq++);
  stats.buffered_peak = std::max(stats.buffered_peak, heap.size());
  while (!heap.empty() && (heap.size() > opt.max_buffered_events ||
                           heap.top().time < max_time - opt.reorder_window)) {
    pop_and_release();
  }
}

void SessionTracker::Impl::pop_and_release() {
  heap.pop([this](Event& event) { release(event); });
}

void SessionTracker::Impl::release_until(Ticks t) {
  while (!heap.empty() && heap.top().time < t) pop_and_release();
  for (auto& [key, host] : hosts) decide_arbitrations(host, t, false);
  emit_pending();
}

void SessionTracker::Impl::flush() {
  while (!heap.empty()) pop_and_release();
  for (auto& [key, host] : hosts) decide_arbitrations(host, 0, true);
  emit_pending();
}

void SessionTracker::Impl::release(Event& event) {
  if (event.time_created > released_time) released_time = event.time_created;
  Host& host = host_for(event.computer());
  host.unsaved = true;
  if (event.time_created > host.last_seen) host.last_seen = event.time_created;
  if (event.time_created > host.last_released) host.last_released = event.time_created;
  // Conclude what this event is too late to change before it changes the state.
  decide_arbitrations(host, host.last_released, false);
  emit_pending();
  use_host_name(host, event);
  confirm_concurrent_sessions(host, event.time_created);
  apply(host, event);
  // The cached console was cleared: the sessions changed.
  if (!host.console_valid) note_concurrent_sessions(host, event.time_created);
  // A remote logon or logoff leaves the console as it was but queues a derived event.
  const bool changed = !host.console_valid || !pending.empty();
  enrich(host, event, true);
  ++stats.events_out;
  sink.on_event(event);
  emit_pending();
  if (changed && opt.on_state_change) {
    opt.on_state_change(*self, host.name, event.time_created);
    cached_console(host);  // valid again: the next call is for the next change
  }
  maybe_sweep(host);
}

// ---- State changes ----

void SessionTracker::Impl::apply(Host& host, const Event& e) {
  const std::string_view provider = e.provider_name();
  const std::string_view channel = e.channel();
  if (contains(provider, "LocalSessionManager") || contains(channel, "LocalSessionManager")) {
    apply_lsm(host, e);
  } else if (contains(provider, "RemoteConnectionManager") ||
             contains(channel, "RemoteConnectionManager")) {
    apply_rcm(host, e);
  } else if (provider == "Microsoft-Windows-Security-Auditing" || channel == "Security") {
    apply_security(host, e);
  } else if (contains(provider, "Winlogon") && (e.event_id == 7001 || e.event_id == 7002)) {
    apply_winlogon(host, e);
  } else if ((iequals(provider, "EventLog") &&
              (e.event_id == 6005 || e.event_id == 6006 || e.event_id == 6008)) ||
             (provider == "User32" && e.event_id == 1074)) {
    apply_reboot(host, e);
  }
}

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

void SessionTracker::Impl::apply_lsm(Host& host, const Event& e) {
  const Names& n = Names::get();
  const Ticks t = e.time_created;
  std::string domain, user;
  split_account(field_or_empty(e, n.user), domain, user);
  const std::string_view address = field_or_empty(e, n.address);
  const bool local = address == "LOCAL";
  const auto sid = parse_u32(field_or_empty(e, n.session_id));
  Derived d;
  d.time = t;
  d.user = user;
  d.domain = domain;
  d.session = sid;
  d.address.assign(address);
  d.evidence.push_back(evidence_of(e, "session event"));
  if (e.event_id >= 21 && e.event_id <= 25) host.console_valid = false;

  switch (e.event_id) {
    case 21:
    case 22: {
      if (!sid) return;
      bool created = false;
      SessionRecord& s = session(host, *sid, t, created);
      s.user = user;
      s.domain = domain;
      if (!address.empty()) s.address.assign(address);
      if (local) {
        s.console = true;
        host.console_free_known = false;
      } else if (!address.empty()) {
        s.console = false;
      }
      if (created || e.event_id == 21) {
        if (created) s.logon_time = t;
        set_state(s, ConsoleState::kActive, t);
      }
      const bool announced = link_logon(host, s, t);
      note_connect(host, e, user, domain, *sid, address);
      if ((created && !announced) || (e.event_id == 21 && !announced && s.logon_time == t)) {
        if (e.event_id == 21 || created) {
          d.kind = Kind::kLogon;
          queue(host, std::move(d));
        }
      }
      return;
    }
    case 23: {
      if (!sid) return;
      const bool known = host.sessions.count(*sid) > 0;
      if (known) {
        const SessionRecord& s = host.sessions[*sid];
        if (d.user.empty()) {
          d.user = s.user;
          d.domain = s.domain;
        }
        d.address = s.address;
      }
      const bool repeat = !known && recently_ended(host, *sid, t);
      end_session(host, *sid, t);
      if (known || (!recently_rebooted(host, t) && !repeat)) {
        d.kind = Kind::kLogoff;
        queue(host, std::move(d));
      }
      return;
    }
    case 24: {
      if (!sid || (!host.sessions.count(*sid) && recently_ended(host, *sid, t))) return;
      bool created = false;
      SessionRecord& s = session(host, *sid, t, created);
      const bool repeat = !created && s.state == ConsoleState::kDisconnected &&
                          s.state_since + 3 * kTicksPerSecond + opt.channel_skew >= t;
      if (!user.empty()) {
        s.user = user;
        s.domain = domain;
      }
      if (!address.empty()) s.address.assign(address);
      if (local) s.console = true;
      note_console_disruption(host, e, *sid, local || s.console);
      set_state(s, ConsoleState::kDisconnected, t);
      if (repeat) return;  // Security 4779 told us already
      d.kind = Kind::kDisconnect;
      queue(host, std::move(d));
      return;
    }
    case 25: {
      if (!sid || (!host.sessions.count(*sid) && recently_ended(host, *sid, t))) return;
      bool created = false;
      SessionRecord& s = session(host, *sid, t, created);
      const bool was_console = s.console;
      const bool repeat = !created && s.state == ConsoleState::kActive &&
                          (address.empty() || s.address == address) &&
                          s.state_since + 3 * kTicksPerSecond + opt.channel_skew >= t;
      if (!user.empty()) {
        s.user = user;
        s.domain = domain;
      }
      if (!address.empty()) s.address.assign(address);
      if (local) {
        s.console = true;
        host.console_free_known = false;
      } else if (!address.empty()) {
        s.console = false;
        if (was_console) {
          // The console's session moved to a remote client: the console is free.
          host.console_free_known = true;
          host.console_free_since = t;
        }
      }
      if (!repeat) {
        s.state = ConsoleState::kActive;
        s.state_since = t;
      }
      note_connect(host, e, user, domain, *sid, address);
      if (repeat) return;  // Security 4778 told us already
      d.kind = Kind::kReconnect;
      queue(host, std::move(d));
      return;
    }
    case 39:
    case 40: {
      const auto target =
          parse_u32(field_or_empty(e, e.event_id == 39 ? n.target_session : n.session));
      if (!target) return;
      const std::string_view reason = field_or_empty(e, n.reason);
      note_disconnect_reason(host, e, *target, reason);
      return;
    }
    case 41: {
      if (!sid) return;
      Arbitration a;
      a.activity.assign(e.activity_id());
      a.user = user;
      a.domain = domain;
      a.new_session = *sid;
      a.start = a.last = t;
      a.console_before = compute_console(host);
      for (const auto& [id, s] : host.sessions) {
        if (!s.console && id != *sid && !same_account(s.domain, s.user, domain, user) &&
            s.state != ConsoleState::kDisconnected) {
          a.other_session = s;
        }
      }
      a.evidence.push_back(evidence_of(e, "arbitration begin"));
      for (const RemoteHint& h : host.hints) {
        if (h.time + opt.arbitration_window + opt.channel_skew < t) continue;
        if (!same_account(h.domain, h.user, domain, user)) continue;
        if (a.address.empty()) a.address = h.address;
        if (h.logon_id) a.logon_ids.push_back(h.logon_id);
        a.evidence.push_back(h.evidence);
      }
      host.arbitrations.push_back(std::move(a));
      return;
    }
    case 42: {
      if (!sid) return;
      if (Arbitration* a = find_arbitration(host, e, sid)) {
        a->end = t;
        a->last = std::max(a->last, t);
        a->evidence.push_back(evidence_of(e, "arbitration end"));
      }
      return;
    }
    default:
      return;
  }
}

Arbitration* SessionTracker::Impl::find_arbitration(Host& host, const Event& e,
                                                    std::optional<std::uint32_t> new_session) {
  const std::string_view activity = e.activity_id();
  Arbitration* by_time = nullptr;
  for (auto it = host.arbitrations.rbegin(); it != host.arbitrations.rend(); ++it) {
    Arbitration& a = *it;
    const bool in_window = e.time_created + opt.channel_skew >= a.start &&
                           e.time_created <= a.start + opt.arbitration_window + opt.channel_skew;
    if (!in_window) continue;
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
    const bool in_window = e.time_created + opt.channel_skew >= a.start &&
                           e.time_created <= a.start + opt.arbitration_window + opt.channel_skew;
    if (!in_window) continue;
    const bool same_activity = !a.activity.empty() && a.activity == e.activity_id();
    if (!same_activity && !same_account(a.domain, a.user, domain, user)) continue;
    const bool from_lsm = e.event_id == 21 || e.event_id == 25;
    if (a.connected) {
      // Security 4778 may come first; TS-LSM's own 21/25 names the session: its time counts.
      if (!from_lsm || a.final_session != sid) continue;
      a.connect_time = e.time_created;
      a.last = std::max(a.last, e.time_created);
      a.evidence.push_back(evidence_of(e, "newcomer connected"));
      return;
    }
    a.connected = true;
    a.final_session = sid;
    a.connect_time = e.time_created;
    if (!address.empty() && address != "LOCAL") a.address.assign(address);
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
    const bool in_window = e.time_created + opt.channel_skew >= a.start &&
                           e.time_created <= a.start + opt.arbitration_window + opt.channel_skew;
    if (!in_window) continue;
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
    const bool in_window = e.time_created + opt.channel_skew >= a.start &&
                           e.time_created <= a.start + opt.arbitration_window + opt.channel_skew;
    if (!in_window) continue;
    if (session_id == a.new_session) {
      a.last = std::max(a.last, e.time_created);
      a.evidence.push_back(evidence_of(e, "new session disconnected"));
      return;
    }
    if (a.console_before.session_id && *a.console_before.session_id == session_id) {
      // Reason 5: the session was replaced by another connection.
      if (reason == "5") a.console_disrupted = true;
      a.last = std::max(a.last, e.time_created);
      a.evidence.push_back(evidence_of(e, "console session disconnected"));
      return;
    }
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
    const bool local_type = is_local_logon_type(l.type);
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
    if (s.address.empty() && (first->type == 2 || first->type == 11)) s.console = true;
  }
  return announced;
}

void SessionTracker::Impl::apply_rcm(Host& host, const Event& e) {
  if (e.event_id != 1149) return;
  const Names& n = Names::get();
  RemoteHint h;
  h.time = e.time_created;
  h.user.assign(field_or_empty(e, n.param1));
  h.domain.assign(field_or_empty(e, n.param2));
  h.address.assign(field_or_empty(e, n.param3));
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

void SessionTracker::Impl::apply_security(Host& host, const Event& e) {
  const Names& n = Names::get();
  const Ticks t = e.time_created;
  switch (e.event_id) {
    case 4624: {
      const auto type = parse_u32(field_or_empty(e, n.logon_type));
      const std::string_view user = field_or_empty(e, n.target_user_name);
      const std::string_view domain = field_or_empty(e, n.target_domain_name);
      const std::string_view sid = field_or_empty(e, n.target_user_sid);
      if (!sid.empty() && !user.empty() && !is_service_account(domain, user)) {
        if (host.sid_names.size() >= 1024) host.sid_names.clear();
        auto& name = host.sid_names[std::string(sid)];
        if (name.first != domain || name.second != user) {
          name = {std::string(domain), std::string(user)};
          host.sid_names_unsaved = true;
        }
      }
      if (!type || !(*type == 2 || *type == 10 || *type == 11 || *type == 12)) return;
      if (is_service_account(domain, user)) return;
      const auto logon_id = parse_uint(field_or_empty(e, n.target_logon_id));
      if (!logon_id) return;
      if (host.sessions.size() + host.logons.size() >= opt.max_sessions_per_host)
        evict_sessions(host);
      age_logons(host, t);
      auto [slot, fresh] = host.logons.try_emplace(*logon_id);
      if (!fresh) unindex_logon(host, *logon_id, slot->second);
      Logon& l = slot->second;
      l.user = user;
      l.domain = domain;
      l.sid = sid;
      l.type = static_cast<std::uint8_t>(*type);
      l.time = l.last_seen = t;
      const std::string_view ip = field_or_empty(e, n.ip_address);
      if (ip != "-" && ip != "127.0.0.1" && ip != "::1") l.ip.assign(ip);
      index_logon(host, *logon_id, l);
      const bool remote = *type == 10 || *type == 12;
      if (remote) {
        RemoteHint h;
        h.time = t;
        h.user = l.user;
        h.domain = l.domain;
        h.address = l.ip;
        h.logon_id = *logon_id;
        h.evidence = evidence_of(e, "remote interactive logon");
        for (auto it = host.arbitrations.rbegin(); it != host.arbitrations.rend(); ++it) {
          if (t + opt.channel_skew >= it->start && t <= it->start + opt.arbitration_window &&
              same_account(it->domain, it->user, domain, user)) {
            it->logon_ids.push_back(*logon_id);
            if (it->address.empty()) it->address = l.ip;
            it->evidence.push_back(h.evidence);
            break;
          }
        }
        add_hint(host, std::move(h));
      }
      // A session already known for this user (TS-LSM came first, or the linked token pair of
      // one logon) takes the logon instead of announcing a second one.
      for (auto& [sid_key, s] : host.sessions) {
        if (s.logon_id || !same_account(s.domain, s.user, domain, user)) continue;
        if (s.logon_time && s.logon_time <= t + 10 * kTicksPerSecond + opt.channel_skew &&
            s.logon_time + opt.channel_skew >= t && (s.address == "LOCAL") == !remote) {
          set_logon_session(host, *logon_id, l, s.session_id);
          s.logon_id = *logon_id;
          l.announced = true;
          return;
        }
      }
      const auto twins_to = host.logons_by_time.upper_bound(t + kTicksPerSecond);
      for (auto entry = host.logons_by_time.lower_bound(t - kTicksPerSecond); entry != twins_to;
           ++entry) {
        const std::uint64_t other_id = entry->second;
        if (other_id == *logon_id) continue;
        auto found = host.logons.find(other_id);
        if (found == host.logons.end()) continue;
        const Logon& other = found->second;
        if (other.type != l.type || !other.announced) continue;
        if (iequals(other.user, l.user)) {
          l.announced = true;  // the elevated/filtered token twin of a logon already announced
          set_logon_session(host, *logon_id, l, other.session_id);
          return;
        }
      }
      l.announced = true;
      Derived d;
      d.kind = Kind::kLogon;
      d.time = t;
      d.user = l.user;
      d.domain = l.domain;
      d.logon_id = *logon_id;
      d.address = remote ? l.ip : std::string("LOCAL");
      d.evidence.push_back(evidence_of(e, "logon"));
      queue(host, std::move(d));
      return;
    }
    case 4634:
    case 4647: {
      const auto logon_id = parse_uint(field_or_empty(e, n.target_logon_id));
      if (!logon_id) return;
      auto it = host.logons.find(*logon_id);
      if (it == host.logons.end()) {
        for (auto& [id, s] : host.sessions) {
          if (s.logon_id == *logon_id) {
            const std::uint32_t sid = id;
            Derived d = session_derived(Kind::kLogoff, s, t);
            d.evidence.push_back(evidence_of(e, "logoff"));
            end_session(host, sid, t);
            queue(host, std::move(d));
            return;
          }
        }
        return;
      }
      Logon l = it->second;
      erase_logon(host, it);
      // Windows logs an interactive logon twice (filtered and elevated token, same second);
      // the logoff of either ends both.
      std::vector<std::uint64_t> twins;
      const auto twins_to = host.logons_by_time.upper_bound(l.time + kTicksPerSecond);
      for (auto entry = host.logons_by_time.lower_bound(l.time - kTicksPerSecond);
           entry != twins_to; ++entry) {
        auto found = host.logons.find(entry->second);
        if (found == host.logons.end()) continue;
        const Logon& other = found->second;
        if (other.type == l.type && iequals(other.user, l.user)) twins.push_back(entry->second);
      }
      for (std::uint64_t twin : twins) erase_logon(host, twin);
      for (Arbitration& a : host.arbitrations) {
        if (std::find(a.logon_ids.begin(), a.logon_ids.end(), *logon_id) != a.logon_ids.end()) {
          a.evidence.push_back(evidence_of(e, "newcomer logged off"));
        }
      }
      if (l.session_id) {
        auto s = host.sessions.find(*l.session_id);
        if (s != host.sessions.end() &&
            (s->second.logon_id == *logon_id ||
             std::find(twins.begin(), twins.end(), s->second.logon_id) != twins.end())) {
          Derived d = session_derived(Kind::kLogoff, s->second, t);
          d.evidence.push_back(evidence_of(e, "logoff"));
          end_session(host, *l.session_id, t);
          queue(host, std::move(d));
        }
        return;
      }
      if (l.type == 2 || l.type == 11) {
        // A console logon known only from Security ends: the console is free.
        host.console_free_known = true;
        host.console_free_since = t;
      }
      if (!l.announced) return;
      Derived d;
      d.kind = Kind::kLogoff;
      d.time = t;
      d.user = l.user;
      d.domain = l.domain;
      d.logon_id = *logon_id;
      d.evidence.push_back(evidence_of(e, "logoff"));
      queue(host, std::move(d));
      return;
    }
    case 4778:
    case 4779: {
      const auto logon_id = parse_uint(field_or_empty(e, n.logon_id));
      const std::string_view user = field_or_empty(e, n.account_name);
      const std::string_view domain = field_or_empty(e, n.account_domain);
      const std::string_view session_name = field_or_empty(e, n.session_name);
      std::string_view address = field_or_empty(e, n.client_address_in);
      const bool console = iequals(session_name, "Console");
      if (console) address = "LOCAL";
      host.console_valid = false;
      SessionRecord* s = nullptr;
      if (logon_id) {
        auto l = host.logons.find(*logon_id);
        if (l != host.logons.end() && l->second.session_id) {
          auto it = host.sessions.find(*l->second.session_id);
          if (it != host.sessions.end()) s = &it->second;
        }
        if (!s) {
          for (auto& [id, rec] : host.sessions) {
            if (rec.logon_id == *logon_id) s = &rec;
          }
        }
      }
      if (!s) {
        for (auto& [id, rec] : host.sessions) {
          if (same_account(rec.domain, rec.user, domain, user) && (!console || rec.console)) {
            s = &rec;
            break;
          }
        }
      }
      const bool connect = e.event_id == 4778;
      if (!connect && console && s) note_console_disruption(host, e, *s->session_id, true);
      if (!connect && console && !s) note_console_disruption(host, e, 0, true);
      if (connect && !console && s) {
        note_connect(host, e, user, domain, *s->session_id, address);
      }
      const ConsoleState target = connect ? ConsoleState::kActive : ConsoleState::kDisconnected;
      bool duplicate = false;
      if (s) {
        // TS-LSM 24/25 usually told us already; only announce what is news.
        duplicate = s->state == target && (address.empty() || s->address == address) &&
                    s->state_since + 3 * kTicksPerSecond + opt.channel_skew >= t;
        if (logon_id && !s->logon_id) s->logon_id = *logon_id;
        s->session_name.assign(session_name);
        const std::string_view client = field_or_empty(e, n.client_name_in);
        if (!client.empty() && client != "Unknown") s->client_name.assign(client);
        if (connect) {
          const bool was_console = s->console;
          if (!address.empty()) s->address.assign(address);
          s->console = console;
          if (was_console && !console) {
            host.console_free_known = true;
            host.console_free_since = t;
          }
        }
        set_state(*s, target, t);
        s->last_seen = std::max(s->last_seen, t);
      }
      if (duplicate) return;
      Derived d;
      d.kind = connect ? Kind::kReconnect : Kind::kDisconnect;
      d.time = t;
      d.user.assign(user);
      d.domain.assign(domain);
      if (s) d.session = s->session_id;
      if (logon_id) d.logon_id = *logon_id;
      d.address.assign(address);
      d.session_name.assign(session_name);
      d.evidence.push_back(evidence_of(e, connect ? "reconnect" : "disconnect"));
      queue(host, std::move(d));
      return;
    }
    case 4800:
    case 4801: {
      const auto sid = parse_u32(field_or_empty(e, n.session_id_sec));
      const std::string_view user = field_or_empty(e, n.target_user_name);
      const std::string_view domain = field_or_empty(e, n.target_domain_name);
      const auto logon_id = parse_uint(field_or_empty(e, n.target_logon_id));
      if (!sid) return;
      host.console_valid = false;
      bool created = false;
      SessionRecord& s = session(host, *sid, t, created);
      if (s.user.empty()) {
        s.user = user;
        s.domain = domain;
      }
      if (logon_id && !s.logon_id) {
        s.logon_id = *logon_id;
        auto l = host.logons.find(*logon_id);
        if (l != host.logons.end()) {
          set_logon_session(host, l->first, l->second, sid);
          if (l->second.type == 2 || l->second.type == 11) s.console = true;
        }
      }
      set_state(s, e.event_id == 4800 ? ConsoleState::kLocked : ConsoleState::kActive, t);
      Derived d = session_derived(e.event_id == 4800 ? Kind::kLock : Kind::kUnlock, s, t);
      d.evidence.push_back(evidence_of(e, e.event_id == 4800 ? "locked" : "unlocked"));
      queue(host, std::move(d));
      return;
    }
    default:
      return;
  }
}

void SessionTracker::Impl::apply_winlogon(Host& host, const Event& e) {
  const Names& n = Names::get();
  const auto sid = parse_u32(field_or_empty(e, n.ts_id));
  if (!sid) return;
  const std::string_view user_sid = field_or_empty(e, n.user_sid);
  const Ticks t = e.time_created;
  host.console_valid = false;
  if (e.event_id == 7002) {
    const bool known = host.sessions.count(*sid) > 0;
    Derived d;
    if (known) {
      d = session_derived(Kind::kLogoff, host.sessions[*sid], t);
    } else {
      d.kind = Kind::kLogoff;
      d.time = t;
      d.session = sid;
      auto name = host.sid_names.find(std::string(user_sid));
      if (name != host.sid_names.end()) {
        d.domain = name->second.first;
        d.user = name->second.second;
      }
    }
    d.evidence.push_back(evidence_of(e, "logoff"));
    const bool repeat = !known && recently_ended(host, *sid, t);
    end_session(host, *sid, t);
    if (known || (!recently_rebooted(host, t) && !repeat)) queue(host, std::move(d));
    return;
  }
  bool created = false;
  SessionRecord& s = session(host, *sid, t, created);
  if (s.sid.empty()) s.sid.assign(user_sid);
  if (s.user.empty()) {
    auto name = host.sid_names.find(std::string(user_sid));
    if (name != host.sid_names.end()) {
      s.domain = name->second.first;
      s.user = name->second.second;
    }
  }
  if (created) {
    s.logon_time = t;
    const bool announced = link_logon(host, s, t);
    // Winlogon names no address; a session no logon placed elsewhere, on a computer whose
    // console is free or unknown, is taken as the console (see docs/sessions.md).
    if (!s.console && s.address.empty()) {
      const ConsoleInfo c = compute_console(host);
      if (c.state == ConsoleState::kUnknown || c.state == ConsoleState::kNone) s.console = true;
    }
    if (s.console) host.console_free_known = false;
    if (!announced) {
      Derived d = session_derived(Kind::kLogon, s, t);
      d.evidence.push_back(evidence_of(e, "logon"));
      queue(host, std::move(d));
    }
  }
}

void SessionTracker::Impl::apply_reboot(Host& host, const Event& e) {
  const Ticks t = e.time_created;
  // One shutdown writes 1074, 6006 and 6005 later; count it once.
  if (!host.rebooted || host.last_reboot + 10 * 60 * kTicksPerSecond < t) ++stats.reboots;
  host.rebooted = true;
  host.last_reboot = t;
  std::vector<std::uint32_t> ids;
  for (const auto& [id, s] : host.sessions) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (std::uint32_t id : ids) {
    Derived d = session_derived(Kind::kLogoff, host.sessions[id], t);
    d.reason = "reboot";
    d.detection = "inferred";
    d.evidence.push_back(evidence_of(e, "shutdown or restart"));
    queue(host, std::move(d));
  }
  host.sessions.clear();
  clear_logons(host);
  host.arbitrations.clear();
  host.console_free_known = true;
  host.console_free_since = t;
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

// ---- Arbitration outcomes ----

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
  const ConsoleInfo& c = a.console_before;
  const bool console_held = c.state == ConsoleState::kActive ||
                            c.state == ConsoleState::kDisconnected ||
                            c.state == ConsoleState::kLocked;
  if (a.connected) {
    if (!a.console_disrupted || !console_held) return;
    ++stats.takeovers;
    Derived d;
    d.kind = Kind::kTakeover;
    d.time = a.connect_time ? a.connect_time : a.last;
    d.start_time = a.start;
    d.user = a.user;
    d.domain = a.domain;
    d.session = a.final_session;
    d.address = a.address;
    d.activity = a.activity;
    d.console = c;
    d.with_console = true;
    d.evidence = a.evidence;
    queue(host, std::move(d));
    return;
  }
  // Refused: the newcomer got no session while someone else's stayed.
  std::uint32_t code = 0;
  ConsoleInfo blocker;
  if (console_held && !a.console_disrupted && !c.user.empty() &&
      !same_account(c.domain, c.user, a.domain, a.user)) {
    code = 7063;
    blocker = c;
  } else if (a.other_session && !a.console_disrupted) {
    code = 7062;
    blocker.state = a.other_session->state;
    blocker.user = a.other_session->user;
    blocker.domain = a.other_session->domain;
    blocker.session_id = a.other_session->session_id;
    blocker.since = a.other_session->state_since;
    blocker.logon_time = a.other_session->logon_time;
  }
  if (!code) return;
  ++stats.refusals;
  Derived d;
  d.kind = Kind::kRefused;
  d.time = a.end ? a.end : a.last;
  d.start_time = a.start;
  d.user = a.user;
  d.domain = a.domain;
  d.session = a.new_session;
  d.address = a.address;
  d.activity = a.activity;
  d.console = blocker;
  d.with_console = true;
  d.detection = "inferred";
  d.error_code = code;
  d.evidence = a.evidence;

  RefusedAttempt r;
  r.time = d.time;
  r.user = a.user;
  r.domain = a.domain;
  r.address = a.address;
  r.session_id = a.new_session;
  r.evidence = a.evidence;
  host.last_refusal = std::move(r);
  record_attempt(host, d.time, fold_account(a.domain, a.user));

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

// ---- Derived events ----

Derived SessionTracker::Impl::session_derived(Kind kind, const SessionRecord& s, Ticks t) {
  Derived d;
  d.kind = kind;
  d.time = t;
  d.user = s.user;
  d.domain = s.domain;
  d.session = s.session_id;
  d.logon_id = s.logon_id;
  d.address = s.address;
  d.session_name = s.session_name;
  return d;
}

void SessionTracker::Impl::queue(Host& host, Derived d) {
  if (opt.max_timeline_per_host > 0) {
    TimelineEntry entry;
    entry.time = d.time;
    entry.kind.assign(kind_name(d.kind));
    entry.user = d.user;
    entry.domain = d.domain;
    entry.session_id = d.session;
    entry.address = d.address;
    if (d.kind == Kind::kTakeover || d.kind == Kind::kRefused || d.kind == Kind::kIdle) {
      entry.detail = "console " + join_account(d.console.domain, d.console.user);
      if (d.console.session_id) entry.detail += " session " + std::to_string(*d.console.session_id);
      entry.detail += " (" + std::string(to_string(d.console.state)) + ")";
      if (d.error_code) entry.detail += " inferred " + std::to_string(d.error_code);
    } else if (!d.reason.empty()) {
      entry.detail = d.reason;
    }
    if (host.timeline.size() >= opt.max_timeline_per_host) host.timeline.pop_front();
    // Correlations conclude a little after the fact: keep the timeline in time order.
    auto pos = host.timeline.end();
    while (pos != host.timeline.begin() && std::prev(pos)->time > entry.time) --pos;
    host.timeline.insert(pos, std::move(entry));
  }
  pending.emplace_back(host.name, std::move(d));
}

namespace {
std::uint64_t fnv(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

void SessionTracker::Impl::emit_pending() {
  if (pending.empty()) return;
  const Names& n = Names::get();
  // Emitting may not queue more (derived events do not feed the state), but keep it safe.
  std::vector<std::pair<std::string, Derived>> batch;
  batch.swap(pending);
  for (auto& [host_name, d] : batch) {
    Event& e = scratch;
    e.clear();
    e.set_channel(derived::kChannel);
    e.set_provider_name(derived::kChannel);
    e.set_computer(host_name);
    e.event_id = kind_event_id(d.kind);
    e.time_created = d.time;
    e.level = (d.kind == Kind::kRefused) ? 3 : 4;
    // A record identity that is the same whenever the same evidence gives the same fact.
    std::uint64_t h = fnv(0xcbf29ce484222325ULL, kind_name(d.kind));
    h = fnv(h, host_key(host_name));
    for (const EvidenceRef& ev : d.evidence) {
      h = fnv(h, ev.channel);
      h = fnv(h, std::to_string(ev.record_id));
      h = fnv(h, std::to_string(ev.time));
    }
    e.record_id = h & ((std::uint64_t{1} << 53) - 1);
    if (!d.activity.empty()) e.set_activity_id(d.activity);
    e.add_field(n.kind, kind_name(d.kind), FieldOrigin::kExtra);
    if (!d.user.empty()) e.add_field(n.target_user, d.user, FieldOrigin::kExtra);
    if (!d.domain.empty()) e.add_field(n.target_domain, d.domain, FieldOrigin::kExtra);
    if (d.session) e.add_field(n.session_id_out, std::to_string(*d.session), FieldOrigin::kExtra);
    if (d.logon_id) {
      char buf[24];
      std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(d.logon_id));
      e.add_field(n.logon_id_out, buf, FieldOrigin::kExtra);
    }
    if (!d.address.empty()) e.add_field(n.client_address, d.address, FieldOrigin::kExtra);
    if (!d.session_name.empty())
      e.add_field(n.session_name_out, d.session_name, FieldOrigin::kExtra);
    if (d.with_console) {
      if (!d.console.user.empty()) {
        e.add_field(n.console_user_out, d.console.user, FieldOrigin::kExtra);
        if (!d.console.domain.empty())
          e.add_field(n.console_domain_out, d.console.domain, FieldOrigin::kExtra);
      }
      if (d.console.session_id)
        e.add_field(n.console_session_out, std::to_string(*d.console.session_id),
                    FieldOrigin::kExtra);
      e.add_field(n.console_state_out, to_string(d.console.state), FieldOrigin::kExtra);
      if (d.console.since)
        e.add_field(n.console_since_out, format_time(d.console.since), FieldOrigin::kExtra);
    }
    if (!d.activity.empty()) e.add_field(n.activity_out, d.activity, FieldOrigin::kExtra);
    e.add_field(n.detection, d.detection, FieldOrigin::kExtra);
    if (d.error_code)
      e.add_field(n.error_code_out, std::to_string(d.error_code), FieldOrigin::kExtra);
    if (!d.reason.empty()) e.add_field(n.reason_out, d.reason, FieldOrigin::kExtra);
    if (d.start_time) e.add_field(n.start_time, format_time(d.start_time), FieldOrigin::kExtra);
    Host& host = host_for(host_name);
    enrich(host, e, false);
    ++stats.derived_events;
    sink.on_derived(e, d.evidence);
  }
}

// ---- Enrichment ----

std::string SessionTracker::Impl::requester_of(const Host& host, const Event& e) const {
  const Names& n = Names::get();
  auto pair = [&](FieldId user_id, FieldId domain_id) -> std::string {
    const std::string_view user = field_or_empty(e, user_id);
    if (user.empty() || user == "-") return {};
    if (user.find('\\') != std::string_view::npos) return std::string(user);
    return join_account(field_or_empty(e, domain_id), user);
  };
  if (e.channel() == derived::kChannel) return pair(n.target_user, n.target_domain);
  for (auto [u, d] :
       {std::pair{n.target_user_name, n.target_domain_name}, std::pair{n.user, n.domain_field},
        std::pair{n.param1, n.param2}, std::pair{n.account_name, n.account_domain},
        std::pair{n.account, n.domain_field}, std::pair{n.user_name_field, n.domain_field}}) {
    std::string r = pair(u, d);
    if (!r.empty()) return r;
  }
  // The account the tool ran as (System/Security@UserID), when it is a person we saw log on.
  if (!e.user_sid().empty()) {
    auto it = host.sid_names.find(std::string(e.user_sid()));
    if (it != host.sid_names.end()) return join_account(it->second.first, it->second.second);
  }
  return {};
}

void SessionTracker::Impl::enrich(Host& host, Event& e, bool recognize) {
  const Names& n = Names::get();
  if (recognize) {
    if (opt.catalog) {
      for (const Recognition& r : opt.catalog->recognize(e)) {
        if (!r.error || !r.error->alerting) continue;
        e.set_field(n.error_code, std::to_string(r.error->code));
        e.set_field(n.error_symbol, r.error->symbol);
        e.set_field(n.error_form, to_string(r.form));
        break;
      }
    }
    if (e.payload(n.error_code)) {
      std::string req = requester_of(host, e);
      record_attempt(host, e.time_created, fold_account_text(req));
    }
  }
  const ConsoleInfo& c = cached_console(host);
  e.set_field(n.console_state, to_string(c.state));
  if (!c.user.empty()) {
    e.set_field(n.console_user, join_account(c.domain, c.user));
    // Apart, so rules compare user with user (4624's TargetUserName has no domain).
    e.set_field(n.console_user_name, c.user);
    if (!c.domain.empty()) e.set_field(n.console_domain, c.domain);
  }
  e.set_field(n.host_sessions, host.multi_session ? "multi" : "unknown");
  if (c.session_id) e.set_field(n.console_session_id, std::to_string(*c.session_id));
  if (c.since) {
    if (host.since_text_for != c.since) {
      host.since_text = format_time(c.since);
      host.since_text_for = c.since;
    }
    e.set_field(n.console_since, host.since_text);
  }
  std::string requester = requester_of(host, e);
  if (!requester.empty()) e.set_field(n.requester, requester);
}

std::string SessionTracker::Impl::fold_account_text(std::string_view account) {
  std::string domain, user;
  split_account(account, domain, user);
  return fold_account(domain, user);
}

// ---- Bounded memory ----

void SessionTracker::Impl::evict_sessions(Host& host) {
  // Drop the least recently seen eighth of the cap at once, so eviction is rare and amortized.
  const std::size_t drop = std::max<std::size_t>(1, opt.max_sessions_per_host / 8);
  std::vector<std::pair<Ticks, std::int64_t>> ages;  // (last seen, session id or -logon-1)
  for (const auto& [id, s] : host.sessions) ages.emplace_back(s.last_seen, id);
  for (const auto& [id, l] : host.logons) {
    if (!l.session_id)
      ages.emplace_back(l.last_seen, -static_cast<std::int64_t>(id & 0x7fffffffffff) - 1);
  }
  const std::size_t count = std::min(drop, ages.size());
  host.console_valid = false;
  std::partial_sort(ages.begin(), ages.begin() + static_cast<std::ptrdiff_t>(count), ages.end());
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t key = ages[i].second;
    if (key >= 0) {
      host.sessions.erase(static_cast<std::uint32_t>(key));
    } else {
      erase_logon(host, static_cast<std::uint64_t>(-(key + 1)));
    }
  }
  stats.sessions_evicted += count;
  if (hook && count) hook(host.name, "session-cap", count);
}

void SessionTracker::Impl::age_logons(Host& host, Ticks now) {
  // A remote logon that got no session and no logoff within the longest correlation window is
  // not going to be correlated any more (Windows logs one for every RDP reconnect, and those
  // never get a session of their own); only its late logoff would still have been paired.
  const Ticks keep_for =
      std::max({opt.attempt_window, opt.requester_window,
                opt.arbitration_window + opt.arbitration_grace + opt.channel_skew});
  const bool over_cap = host.logons.size() >= kMaxLogonsPerHost;
  if (!over_cap && now - host.last_logon_ageing < 60 * kTicksPerSecond) return;
  host.last_logon_ageing = now;
  // Dropping an eighth below the cap at once keeps the walk amortized.
  const std::size_t target =
      over_cap ? kMaxLogonsPerHost - kMaxLogonsPerHost / 8 : kMaxLogonsPerHost;
  const Ticks cutoff = now - keep_for;
  std::size_t aged = 0;
  for (auto entry = host.logons_by_time.begin(); entry != host.logons_by_time.end();) {
    if (entry->first >= cutoff && host.logons.size() <= target) break;
    const std::uint64_t id = entry->second;
    ++entry;  // erase_logon below removes the entry just passed, no other
    auto found = host.logons.find(id);
    if (found == host.logons.end()) continue;
    const Logon& l = found->second;
    const bool unanswered =
        !l.session_id || host.sessions.find(*l.session_id) == host.sessions.end();
    if (is_local_logon_type(l.type) || !unanswered) continue;
    erase_logon(host, found);
    ++aged;
  }
  if (aged) {
    stats.sessions_expired += aged;
    if (hook) hook(host.name, "stale", aged);
  }
}

void SessionTracker::Impl::maybe_sweep(Host& host) {
  const Ticks now = host.last_released;
  if (now - host.last_sweep < 3600 * kTicksPerSecond) return;
  host.last_sweep = now;
  const Ticks cutoff = now - opt.stale_after;
  std::size_t expired = 0;
  for (auto it = host.sessions.begin(); it != host.sessions.end();) {
    if (it->second.last_seen < cutoff) {
      it = host.sessions.erase(it);
      ++expired;
    } else {
      ++it;
    }
  }
  for (auto it = host.logons.begin(); it != host.logons.end();) {
    if (it->second.last_seen < cutoff) {
      it = erase_logon(host, it);
      ++expired;
    } else {
      ++it;
    }
  }
  if (expired) {
    host.console_valid = false;
    stats.sessions_expired += expired;
    if (hook) hook(host.name, "stale", expired);
  }
}

// ---- Public API ----

SessionTracker::SessionTracker(TrackerOptions options, TrackerSink& sink)
    : impl_(std::make_unique<Impl>(std::move(options), sink)) {
  impl_->self = this;
}
SessionTracker::~SessionTracker() = default;

void SessionTracker::push(Event& event) {
  impl_->push(event);
}
void SessionTracker::release_until(Ticks t) {
  impl_->release_until(t);
}
void SessionTracker::flush() {
  impl_->flush();
}
void SessionTracker::set_eviction_hook(EvictionHook hook) {
  impl_->hook = std::move(hook);
}
const TrackerStats& SessionTracker::stats() const {
  return impl_->stats;
}
const TrackerOptions& SessionTracker::options() const {
  return impl_->opt;
}

EventInterest SessionTracker::interest() const {
  // What apply() changes state on. Kept next to it: a new event here is a new case there.
  constexpr std::string_view kLsm =
      "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational";
  constexpr std::string_view kRcm =
      "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational";
  std::set<std::uint32_t> security{4624, 4634, 4647, 4778, 4779, 4800, 4801};
  EventInterest interest;
  if (impl_->opt.catalog) {
    // An error can be reported by any event of any channel (status fields, messages, tool
    // output), except on Security: only the system writes there, with fixed schemas, and the
    // catalog names the events of it that carry a refusal (4625, 4825, ...).
    interest = EventInterest::everything();
    for (const ErrorCatalog::RelatedEvent& related : impl_->opt.catalog->related_events()) {
      if (iequals(related.channel, "Security")) security.insert(related.event_id);
    }
  } else {
    interest.add_channel(kLsm);
    interest.add(kRcm, 1149);
    for (std::uint32_t id : {7001u, 7002u, 6005u, 6006u, 6008u, 1074u}) interest.add("System", id);
  }
  interest.narrow("Security", security);
  return interest;
}

std::vector<std::string> SessionTracker::hosts() const {
  std::vector<std::string> out;
  for (const auto& [key, h] : impl_->hosts) out.push_back(h.name);
  std::sort(out.begin(), out.end());
  return out;
}

ConsoleInfo SessionTracker::console(std::string_view host) const {
  auto it = impl_->hosts.find(host_key(host));
  if (it == impl_->hosts.end()) return {};
  return compute_console(it->second);
}

std::vector<SessionRecord> SessionTracker::sessions(std::string_view host) const {
  std::vector<SessionRecord> out;
  auto it = impl_->hosts.find(host_key(host));
  if (it == impl_->hosts.end()) return out;
  for (const auto& [id, s] : it->second.sessions) out.push_back(s);
  for (const auto& [id, l] : it->second.logons) {
    if (l.session_id) continue;
    SessionRecord r;
    r.logon_id = id;
    r.user = l.user;
    r.domain = l.domain;
    r.sid = l.sid;
    r.address = (l.type == 2 || l.type == 11) ? "LOCAL" : l.ip;
    r.console = l.type == 2 || l.type == 11;
    r.logon_time = r.state_since = l.time;
    r.last_seen = l.last_seen;
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const SessionRecord& a, const SessionRecord& b) {
    if (a.session_id != b.session_id) return a.session_id < b.session_id;
    return a.logon_id < b.logon_id;
  });
  return out;
}

std::vector<TimelineEntry> SessionTracker::timeline(std::string_view host) const {
  auto it = impl_->hosts.find(host_key(host));
  if (it == impl_->hosts.end()) return {};
  return {it->second.timeline.begin(), it->second.timeline.end()};
}

AlertContext SessionTracker::alert_context(const Event& trigger) const {
  AlertContext ctx;
  auto it = impl_->hosts.find(host_key(trigger.computer()));
  if (it == impl_->hosts.end()) return ctx;
  const Host& host = it->second;
  ctx.host_known = true;
  ctx.hostname = host.short_name.empty() ? host_short_name(host.name) : host.short_name;
  ctx.console = compute_console(host);
  const std::string who = Impl::fold_account_text(impl_->requester_of(host, trigger));
  const Ticks t = trigger.time_created;
  for (const Attempt& a : host.attempts) {
    if (a.time > t || a.time + impl_->opt.attempt_window < t) continue;
    if (who.empty() || a.who == who) ++ctx.attempts_last_hour;
  }
  if (host.last_refusal && host.last_refusal->time <= t + impl_->opt.channel_skew &&
      host.last_refusal->time + impl_->opt.requester_window >= t) {
    ctx.recent_refusal = host.last_refusal;
  }
  return ctx;
}

}  // namespace sw
