// The tracker's host table and the names it knows each computer by, the dispatch of events to
// the channel handlers, and the public API. See tracker_impl.hpp for where the rest lives.
#include <algorithm>
#include <array>
#include <set>

#include "session/names.hpp"
#include "session/tracker_impl.hpp"
#include "sessionwatch/error_catalog.hpp"
#include "sessionwatch/session.hpp"
#include "sessionwatch/text.hpp"

namespace sw {

using namespace session_detail;

std::string_view to_string(ConsoleState s) {
  // In the order of the enumerators.
  constexpr std::array<std::string_view, 5> kNames = {"unknown", "none", "active", "disconnected",
                                                      "locked"};
  const auto i = static_cast<std::size_t>(s);
  return i < kNames.size() ? kNames[i] : "unknown";
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
  return text::lowered(label);
}

std::string host_short_name(std::string_view computer) {
  if (computer.empty() || is_dotted_number(computer)) return {};
  return std::string(computer.substr(0, computer.find('.')));
}

namespace {
bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}
}  // namespace

SessionTracker::Impl::Impl(TrackerOptions o, TrackerSink& s) : opt(std::move(o)), sink(s) {
  if (!opt.catalog) opt.catalog = &ErrorCatalog::builtin();
}

Host& SessionTracker::Impl::host_for(std::string_view computer) {
  if (last_alias && last_alias->first == computer) return *last_alias->second;
  auto alias = aliases.find(computer);
  if (alias != aliases.end()) {
    last_alias = &*alias;
    return *alias->second;
  }
  std::string key = host_key(computer);
  auto it = hosts.find(key);
  if (it == hosts.end()) {
    if (hosts.size() >= opt.max_hosts) evict_host();
    it = hosts.emplace(std::move(key), Host()).first;
    it->second.name.assign(computer);
  }
  learn_host_name(it->second, computer);
  if (aliases.size() >= 4 * opt.max_hosts + 16) forget_aliases();
  const auto [added, fresh] = aliases.emplace(std::string(computer), &it->second);
  if (fresh) it->second.spellings.emplace_back(computer);
  last_alias = &*added;
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

EvidenceRef SessionTracker::Impl::evidence_of(const Event& e, std::string_view role) {
  return EvidenceRef{std::string(e.channel()), e.record_id, e.event_id, e.time_created,
                     std::string(role)};
}

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

namespace {

SessionRecord record_of_logon(std::uint64_t id, const Logon& l) {
  SessionRecord r;
  r.logon_id = id;
  r.user = l.user;
  r.domain = l.domain;
  r.sid = l.sid;
  r.console = is_console_logon(l.type);
  r.address = r.console ? "LOCAL" : l.ip;
  r.logon_time = r.state_since = l.time;
  r.last_seen = l.last_seen;
  return r;
}

}  // namespace

std::vector<SessionRecord> SessionTracker::sessions(std::string_view host) const {
  auto it = impl_->hosts.find(host_key(host));
  if (it == impl_->hosts.end()) return {};
  const Host& h = it->second;
  // Sorted as keys first, then built once in order: a busy host holds thousands of logons, and
  // sorting the records themselves moves their strings around. Keys are unique (session ids
  // of sessions, logon ids of logons without one), so the order is the same either way.
  struct Key {
    std::optional<std::uint32_t> session_id;
    std::uint64_t logon_id;
    const SessionRecord* session;
    const Logon* logon;
  };
  std::vector<Key> keys;
  keys.reserve(h.sessions.size() + h.logons.size());
  for (const auto& [id, s] : h.sessions) keys.push_back({s.session_id, s.logon_id, &s, nullptr});
  for (const auto& [id, l] : h.logons) {
    if (!l.session_id) keys.push_back({std::nullopt, id, nullptr, &l});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.session_id != b.session_id) return a.session_id < b.session_id;
    return a.logon_id < b.logon_id;
  });
  std::vector<SessionRecord> out;
  out.reserve(keys.size());
  for (const Key& k : keys)
    out.push_back(k.session ? *k.session : record_of_logon(k.logon_id, *k.logon));
  return out;
}

std::vector<TimelineEntry> SessionTracker::timeline(std::string_view host) const {
  auto it = impl_->hosts.find(host_key(host));
  if (it == impl_->hosts.end()) return {};
  return {it->second.timeline.begin(), it->second.timeline.end()};
}

}  // namespace sw
