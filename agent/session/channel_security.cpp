// The Security log: 4624 (an account logged on), 4634/4647 (logged off), 4778/4779 (a session
// reconnected to or disconnected from a window station), 4800/4801 (workstation locked or
// unlocked). Alone it tells who is at the console even without TS-LSM.
#include <algorithm>

#include "session/names.hpp"
#include "session/tracker_impl.hpp"

namespace sw {

using namespace session_detail;

namespace {

// A token twin (the elevated and the filtered token of one logon) is logged within this long.
constexpr Ticks kTwinWithin = kTicksPerSecond;
// How long TS-LSM's session may precede the Security logon that belongs to it.
constexpr Ticks kSessionBeforeLogon = 10 * kTicksPerSecond;

// Accounts that are not people: machine accounts, window manager and font driver sessions.
bool is_service_account(std::string_view domain, std::string_view user) {
  if (user.empty() || user == "-" || user.back() == '$') return true;
  if (domain == "Window Manager" || domain == "Font Driver Host" || domain == "NT AUTHORITY")
    return true;
  return user.starts_with("DWM-") || user.starts_with("UMFD-");
}

std::optional<LogonType> parse_logon_type(std::string_view text) {
  const auto number = parse_u32(text);
  if (!number || *number > 0xff) return std::nullopt;
  return static_cast<LogonType>(*number);
}

}  // namespace

void SessionTracker::Impl::apply_security(Host& host, const Event& e) {
  switch (e.event_id) {
    case 4624:
      return on_logon(host, e);
    case 4634:
    case 4647:
      return on_logoff(host, e);
    case 4778:
    case 4779:
      return on_station_change(host, e);
    case 4800:
    case 4801:
      return on_lock_change(host, e);
    default:
      return;
  }
}

// ---- 4624 ----

void SessionTracker::Impl::on_logon(Host& host, const Event& e) {
  const Names& n = Names::get();
  const LogonFields f{.type = parse_logon_type(payload_or_empty(e, n.logon_type)),
                      .user = payload_or_empty(e, n.target_user_name),
                      .domain = payload_or_empty(e, n.target_domain_name),
                      .sid = payload_or_empty(e, n.target_user_sid)};
  remember_sid_name(host, f.sid, f.domain, f.user);
  if (!f.type || !is_interactive(*f.type)) return;
  if (is_service_account(f.domain, f.user)) return;
  const auto logon_id = parse_uint(payload_or_empty(e, n.target_logon_id));
  if (!logon_id) return;
  Logon& l = record_logon(host, e, *logon_id, f);
  const bool remote = is_remote_logon(l.type);
  if (remote) note_remote_logon(host, e, l, *logon_id);
  if (give_logon_to_session(host, l, *logon_id)) return;
  if (adopt_token_twin(host, l, *logon_id)) return;
  l.announced = true;
  note_logon_change(host, *logon_id);
  queue(host, Derived{.kind = Kind::kLogon,
                      .time = e.time_created,
                      .user = l.user,
                      .domain = l.domain,
                      .logon_id = *logon_id,
                      .address = remote ? l.ip : std::string("LOCAL"),
                      .evidence = {evidence_of(e, "logon")}});
}

void SessionTracker::Impl::remember_sid_name(Host& host, std::string_view sid,
                                             std::string_view domain, std::string_view user) {
  // Names the account of Winlogon's events and of tools' System/Security@UserID.
  if (sid.empty() || user.empty() || is_service_account(domain, user)) return;
  if (host.sid_names.size() >= 1024) {
    host.sid_names.clear();
    host.new_sid_names.clear();
    host.saved_sid_names_text.reset();  // the settled names are gone too
  }
  const SidNameMap::Entry* changed = host.sid_names.assign(sid, domain, user);
  if (!changed) return;
  host.sid_names_unsaved = true;
  // Kept only while a settled part exists: without one the next checkpoint encodes the whole
  // map, and a scan (never checkpointed) would keep a second copy of every SID.
  // A SID whose events spell its account two ways in a row is listed once.
  if (host.saved_sid_names_text &&
      (host.new_sid_names.empty() || host.new_sid_names.back() != changed->sid))
    host.new_sid_names.push_back(changed->sid);
}

Logon& SessionTracker::Impl::record_logon(Host& host, const Event& e, std::uint64_t logon_id,
                                          const LogonFields& f) {
  const Ticks t = e.time_created;
  if (host.sessions.size() + host.logons.size() >= opt.max_sessions_per_host) evict_sessions(host);
  age_logons(host, t);
  auto [slot, fresh] = host.logons.try_emplace(logon_id);
  if (!fresh) unindex_logon(host, logon_id, slot->second);
  Logon& l = slot->second;
  l.user = f.user;
  l.domain = f.domain;
  l.sid = f.sid;
  l.type = *f.type;
  l.time = l.last_seen = t;
  const std::string_view ip = payload_or_empty(e, Names::get().ip_address);
  if (ip != "-" && ip != "127.0.0.1" && ip != "::1") l.ip.assign(ip);
  index_logon(host, logon_id, l);
  return l;
}

void SessionTracker::Impl::note_remote_logon(Host& host, const Event& e, const Logon& l,
                                             std::uint64_t logon_id) {
  RemoteHint h;
  h.time = l.time;
  h.user = l.user;
  h.domain = l.domain;
  h.address = l.ip;
  h.logon_id = logon_id;
  h.evidence = evidence_of(e, "remote interactive logon");
  note_newcomer_logon(host, l, logon_id, h.evidence);
  add_hint(host, std::move(h));
}

bool SessionTracker::Impl::give_logon_to_session(Host& host, Logon& l, std::uint64_t logon_id) {
  // A session already known for this user (TS-LSM came first, or the linked token pair of one
  // logon) takes the logon instead of announcing a second one.
  const Ticks t = l.time;
  const bool remote = is_remote_logon(l.type);
  for (auto& [id, s] : host.sessions) {
    if (s.logon_id || !same_account(s.domain, s.user, l.domain, l.user)) continue;
    if (s.logon_time && s.logon_time <= t + kSessionBeforeLogon + opt.channel_skew &&
        s.logon_time + opt.channel_skew >= t && (s.address == "LOCAL") == !remote) {
      set_logon_session(host, logon_id, l, s.session_id);
      s.logon_id = logon_id;
      l.announced = true;
      note_logon_change(host, logon_id);
      return true;
    }
  }
  return false;
}

bool SessionTracker::Impl::adopt_token_twin(Host& host, Logon& l, std::uint64_t logon_id) {
  const auto to = host.logons_by_time.upper_bound(l.time + kTwinWithin);
  for (auto entry = host.logons_by_time.lower_bound(l.time - kTwinWithin); entry != to; ++entry) {
    const std::uint64_t other_id = entry->second;
    if (other_id == logon_id) continue;
    auto found = host.logons.find(other_id);
    if (found == host.logons.end()) continue;
    const Logon& other = found->second;
    if (other.type != l.type || !other.announced) continue;
    if (iequals(other.user, l.user)) {
      l.announced = true;  // the elevated/filtered token twin of a logon already announced
      note_logon_change(host, logon_id);
      set_logon_session(host, logon_id, l, other.session_id);
      return true;
    }
  }
  return false;
}

// ---- 4634, 4647 ----

void SessionTracker::Impl::on_logoff(Host& host, const Event& e) {
  const Ticks t = e.time_created;
  const auto logon_id = parse_uint(payload_or_empty(e, Names::get().target_logon_id));
  if (!logon_id) return;
  auto it = host.logons.find(*logon_id);
  if (it == host.logons.end()) return end_session_of_logon(host, e, *logon_id);
  const Logon l = it->second;
  erase_logon(host, it);
  const std::vector<std::uint64_t> twins = erase_token_twins(host, l);
  note_newcomer_logoff(host, e, *logon_id);
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
  if (is_console_logon(l.type)) {
    // A console logon known only from Security ends: the console is free.
    host.console_free_known = true;
    host.console_free_since = t;
  }
  if (!l.announced) return;
  queue(host, Derived{.kind = Kind::kLogoff,
                      .time = t,
                      .user = l.user,
                      .domain = l.domain,
                      .logon_id = *logon_id,
                      .evidence = {evidence_of(e, "logoff")}});
}

void SessionTracker::Impl::end_session_of_logon(Host& host, const Event& e,
                                                std::uint64_t logon_id) {
  for (auto& [id, s] : host.sessions) {
    if (s.logon_id != logon_id) continue;
    const std::uint32_t sid = id;
    Derived d = session_derived(Kind::kLogoff, s, e.time_created);
    d.evidence.push_back(evidence_of(e, "logoff"));
    end_session(host, sid, e.time_created);
    queue(host, std::move(d));
    return;
  }
}

std::vector<std::uint64_t> SessionTracker::Impl::erase_token_twins(Host& host, const Logon& l) {
  // Windows logs an interactive logon twice (filtered and elevated token, same second); the
  // logoff of either ends both.
  std::vector<std::uint64_t> twins;
  const auto to = host.logons_by_time.upper_bound(l.time + kTwinWithin);
  for (auto entry = host.logons_by_time.lower_bound(l.time - kTwinWithin); entry != to; ++entry) {
    auto found = host.logons.find(entry->second);
    if (found == host.logons.end()) continue;
    const Logon& other = found->second;
    if (other.type == l.type && iequals(other.user, l.user)) twins.push_back(entry->second);
  }
  for (std::uint64_t twin : twins) erase_logon(host, twin);
  return twins;
}

// ---- 4778, 4779 ----

void SessionTracker::Impl::on_station_change(Host& host, const Event& e) {
  const Names& n = Names::get();
  const std::string_view session_name = payload_or_empty(e, n.session_name);
  const bool console = iequals(session_name, "Console");
  const StationFields f{
      .logon_id = parse_uint(payload_or_empty(e, n.logon_id)),
      .user = payload_or_empty(e, n.account_name),
      .domain = payload_or_empty(e, n.account_domain),
      .session_name = session_name,
      .address = console ? std::string_view("LOCAL") : payload_or_empty(e, n.client_address_in),
      .console = console,
      .connect = e.event_id == 4778};
  host.console_valid = false;
  SessionRecord* s = session_of_station(host, f);
  if (!f.connect && f.console) note_console_disruption(host, e, s ? *s->session_id : 0, true);
  if (f.connect && !f.console && s) {
    note_connect(host, e, f.user, f.domain, *s->session_id, f.address);
  }
  if (s && update_station(host, e, *s, f)) return;  // TS-LSM 24/25 told us already
  queue(host, Derived{.kind = f.connect ? Kind::kReconnect : Kind::kDisconnect,
                      .time = e.time_created,
                      .user = std::string(f.user),
                      .domain = std::string(f.domain),
                      .session = s ? s->session_id : std::nullopt,
                      .logon_id = f.logon_id.value_or(0),
                      .address = std::string(f.address),
                      .session_name = std::string(f.session_name),
                      .evidence = {evidence_of(e, f.connect ? "reconnect" : "disconnect")}});
}

SessionRecord* SessionTracker::Impl::session_of_station(Host& host, const StationFields& f) {
  SessionRecord* s = nullptr;
  if (f.logon_id) {
    auto l = host.logons.find(*f.logon_id);
    if (l != host.logons.end() && l->second.session_id) {
      auto it = host.sessions.find(*l->second.session_id);
      if (it != host.sessions.end()) s = &it->second;
    }
    if (!s) {
      for (auto& [id, rec] : host.sessions) {
        if (rec.logon_id == *f.logon_id) s = &rec;
      }
    }
  }
  if (s) return s;
  for (auto& [id, rec] : host.sessions) {
    if (same_account(rec.domain, rec.user, f.domain, f.user) && (!f.console || rec.console)) {
      return &rec;
    }
  }
  return nullptr;
}

// Returns whether the event only repeats what TS-LSM 24/25 said (only news is announced).
bool SessionTracker::Impl::update_station(Host& host, const Event& e, SessionRecord& s,
                                          const StationFields& f) {
  const Ticks t = e.time_created;
  const ConsoleState target = f.connect ? ConsoleState::kActive : ConsoleState::kDisconnected;
  const bool duplicate = s.state == target && (f.address.empty() || s.address == f.address) &&
                         s.state_since + kRepeatWithin + opt.channel_skew >= t;
  if (f.logon_id && !s.logon_id) s.logon_id = *f.logon_id;
  s.session_name.assign(f.session_name);
  const std::string_view client = payload_or_empty(e, Names::get().client_name_in);
  if (!client.empty() && client != "Unknown") s.client_name.assign(client);
  if (f.connect) {
    const bool was_console = s.console;
    if (!f.address.empty()) s.address.assign(f.address);
    s.console = f.console;
    if (was_console && !f.console) {
      host.console_free_known = true;
      host.console_free_since = t;
    }
  }
  set_state(s, target, t);
  s.last_seen = std::max(s.last_seen, t);
  return duplicate;
}

// ---- 4800, 4801 ----

void SessionTracker::Impl::on_lock_change(Host& host, const Event& e) {
  const Names& n = Names::get();
  const Ticks t = e.time_created;
  const auto sid = parse_u32(payload_or_empty(e, n.session_id_sec));
  const std::string_view user = payload_or_empty(e, n.target_user_name);
  const std::string_view domain = payload_or_empty(e, n.target_domain_name);
  const auto logon_id = parse_uint(payload_or_empty(e, n.target_logon_id));
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
      if (is_console_logon(l->second.type)) s.console = true;
    }
  }
  const bool locked = e.event_id == 4800;
  set_state(s, locked ? ConsoleState::kLocked : ConsoleState::kActive, t);
  Derived d = session_derived(locked ? Kind::kLock : Kind::kUnlock, s, t);
  d.evidence.push_back(evidence_of(e, locked ? "locked" : "unlocked"));
  queue(host, std::move(d));
}

}  // namespace sw
