// The per-computer state's own rules: derived event kinds, duplicate record ids, the console
// holder, and the indexes over a host's logons.
#include <algorithm>
#include <array>

#include "session/names.hpp"
#include "session/tracker_state.hpp"
#include "sessionwatch/text.hpp"

namespace sw::session_detail {

static_assert(derived::kKinds.size() == static_cast<std::size_t>(Kind::kIdle) + 1,
              "one name and event id per kind, in the order of Kind");

std::string_view kind_name(Kind k) {
  return derived::kKinds[static_cast<std::size_t>(k)].name;
}
std::uint32_t kind_event_id(Kind k) {
  return derived::kKinds[static_cast<std::size_t>(k)].event_id;
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
  return text::lowered(join_account(domain.substr(0, domain.find('.')), user));
}

ConsoleInfo console_of(const SessionRecord& s) {
  return ConsoleInfo{.state = s.state,
                     .user = s.user,
                     .domain = s.domain,
                     .session_id = s.session_id,
                     .since = s.state_since,
                     .logon_time = s.logon_time};
}

ConsoleInfo compute_console(const Host& host) {
  ConsoleInfo info;
  const SessionRecord* best = nullptr;
  for (const auto& [id, s] : host.sessions) {
    if (!s.console) continue;
    if (!best || s.state_since > best->state_since) best = &s;
  }
  if (best) return console_of(*best);
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
  note_logon_change(host, id);
  host.logons_by_time.emplace(l.time, id);
  if (l.session_id) host.logons_by_session.emplace(*l.session_id, id);
  // Only console kinds enter compute_console.
  if (is_console_logon(l.type)) {
    host.local_logons.push_back(id);
    host.console_valid = false;
  }
}

namespace {
// Removes the one (key, id) entry of an index over logons, if there.
template <class MultiMap, class Key>
void erase_entry(MultiMap& index, const Key& key, std::uint64_t id) {
  auto [first, last] = index.equal_range(key);
  for (auto it = first; it != last; ++it) {
    if (it->second == id) {
      index.erase(it);
      return;
    }
  }
}
}  // namespace

void unindex_logon(Host& host, std::uint64_t id, const Logon& l) {
  note_logon_change(host, id);
  erase_entry(host.logons_by_time, l.time, id);
  if (l.session_id) erase_entry(host.logons_by_session, *l.session_id, id);
  if (is_console_logon(l.type)) {
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
  note_logon_change(host, id);
  // Touches logons_by_session only: callers walk logons_by_time meanwhile.
  if (l.session_id) erase_entry(host.logons_by_session, *l.session_id, id);
  l.session_id = session_id;
  if (session_id) host.logons_by_session.emplace(*session_id, id);
  if (is_console_logon(l.type)) host.console_valid = false;
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
  host.logons_unsaved = true;
  host.changed_logons.clear();
  host.saved_logons_text.reset();  // the settled logons are gone too
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
}  // namespace sw::session_detail
