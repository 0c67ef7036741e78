// Bounded memory: at most max_hosts computers (the quietest goes), at most
// max_sessions_per_host sessions and logons on each, and what went stale ages out.
#include <algorithm>
#include <functional>

#include "session/tracker_impl.hpp"

namespace sw {

using namespace session_detail;

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
    choose_victims();
  }
}

void SessionTracker::Impl::choose_victims() {
  // Hosts not chosen were all heard from later than every host chosen, and only get later.
  for (const auto& [k, host] : hosts) victims.emplace_back(host.last_seen, k);
  const std::size_t keep = std::min(victims.size(), std::max<std::size_t>(1, opt.max_hosts / 8));
  const auto cut = victims.begin() + static_cast<std::ptrdiff_t>(keep);
  std::nth_element(victims.begin(), cut - 1, victims.end());
  victims.erase(cut, victims.end());
  std::sort(victims.begin(), victims.end(), std::greater<>());  // quietest last
}

void SessionTracker::Impl::evict(std::unordered_map<std::string, Host>::iterator victim) {
  ++stats.hosts_evicted;
  if (hook) hook(victim->second.name, "host-cap", 1);
  evicted_unsaved.push_back(victim->first);
  for (const std::string& spelling : victim->second.spellings) aliases.erase(spelling);
  last_alias = nullptr;
  hosts.erase(victim);
}

void SessionTracker::Impl::forget_aliases() {
  aliases.clear();
  last_alias = nullptr;
  for (auto& [key, host] : hosts) host.spellings.clear();
}

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
    if (is_console_logon(l.type) || !unanswered) continue;
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

}  // namespace sw
