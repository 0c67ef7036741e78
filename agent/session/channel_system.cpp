// The System log: Winlogon's logon and logoff notifications (7001/7002, which name the session
// and the account's SID, not its name) and the shutdowns and restarts that end every session
// (EventLog 6005/6006/6008, User32 1074).
#include <algorithm>

#include "session/names.hpp"
#include "session/tracker_impl.hpp"

namespace sw {

using namespace session_detail;

namespace {

// One shutdown writes 1074, then 6006, and 6005 at the next start: one reboot within this long.
constexpr Ticks kOneReboot = 10 * 60 * kTicksPerSecond;

// The account a SID belongs to, as a 4624 named it: (domain, user), or nothing.
const AccountName* name_of_sid(const Host& host, std::string_view sid) {
  const SidNameMap::Entry* entry = host.sid_names.find(sid);
  return entry ? &entry->name : nullptr;
}

}  // namespace

void SessionTracker::Impl::apply_winlogon(Host& host, const Event& e) {
  const auto sid = parse_u32(payload_or_empty(e, Names::get().ts_id));
  if (!sid) return;
  host.console_valid = false;
  if (e.event_id == 7002) {
    on_winlogon_logoff(host, e, *sid);
  } else {
    on_winlogon_logon(host, e, *sid);
  }
}

void SessionTracker::Impl::on_winlogon_logoff(Host& host, const Event& e, std::uint32_t sid) {
  const Ticks t = e.time_created;
  const auto it = host.sessions.find(sid);
  const bool known = it != host.sessions.end();
  Derived d;
  if (known) {
    d = session_derived(Kind::kLogoff, it->second, t);
  } else {
    d = Derived{.kind = Kind::kLogoff, .time = t, .session = sid};
    if (const auto* name = name_of_sid(host, payload_or_empty(e, Names::get().user_sid))) {
      d.domain = name->domain.get();
      d.user = name->user.get();
    }
  }
  d.evidence.push_back(evidence_of(e, "logoff"));
  const bool repeat = !known && recently_ended(host, sid, t);
  end_session(host, sid, t);
  if (known || (!recently_rebooted(host, t) && !repeat)) queue(host, std::move(d));
}

void SessionTracker::Impl::on_winlogon_logon(Host& host, const Event& e, std::uint32_t sid) {
  const Ticks t = e.time_created;
  const std::string_view user_sid = payload_or_empty(e, Names::get().user_sid);
  bool created = false;
  SessionRecord& s = session(host, sid, t, created);
  if (s.sid.empty()) s.sid.assign(user_sid);
  if (s.user.empty()) {
    if (const auto* name = name_of_sid(host, user_sid)) {
      s.domain = name->domain.get();
      s.user = name->user.get();
    }
  }
  if (!created) return;
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

void SessionTracker::Impl::apply_reboot(Host& host, const Event& e) {
  const Ticks t = e.time_created;
  if (!host.rebooted || host.last_reboot + kOneReboot < t) ++stats.reboots;
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

}  // namespace sw
