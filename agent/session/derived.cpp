// Derived events: what the tracker concluded (a logon, a takeover, a refusal ...), kept on the
// host's timeline and handed to the sink as events of the sessionwatch channel once the event
// that caused them was.
#include <charconv>
#include <iterator>

#include "session/names.hpp"
#include "session/tracker_impl.hpp"
#include "sessionwatch/hash.hpp"

namespace sw {

using namespace session_detail;

namespace {

// A record identity that is the same whenever the same evidence gives the same fact.
// The hash continued over a number's decimal digits (as std::to_string spells it), built on the
// stack: a time's 18 digits are too long for a string's inline buffer.
template <typename Integer>
std::uint64_t fnv1a_decimal(Integer value, std::uint64_t h) {
  char digits[24];
  const char* end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  return fnv1a(std::string_view(digits, static_cast<std::size_t>(end - digits)), h);
}

std::uint64_t derived_record_id(const std::string& host_name, const Derived& d) {
  std::uint64_t h = fnv1a(kind_name(d.kind));
  h = fnv1a(host_key(host_name), h);
  for (const EvidenceRef& ev : d.evidence) {
    h = fnv1a(ev.channel, h);
    h = fnv1a_decimal(ev.record_id, h);
    h = fnv1a_decimal(ev.time, h);
  }
  return h & ((std::uint64_t{1} << 53) - 1);
}

std::string timeline_detail(const Derived& d) {
  if (d.kind == Kind::kTakeover || d.kind == Kind::kRefused || d.kind == Kind::kIdle) {
    std::string detail = "console " + join_account(d.console.domain, d.console.user);
    if (d.console.session_id) detail += " session " + std::to_string(*d.console.session_id);
    detail += " (" + std::string(to_string(d.console.state)) + ")";
    if (d.error_code) detail += " inferred " + std::to_string(d.error_code);
    return detail;
  }
  return d.reason;
}

void add_console_fields(const ConsoleInfo& console, Event& e) {
  const Names& n = Names::get();
  if (!console.user.empty()) {
    e.add_field(n.console_user_out, console.user, FieldOrigin::kExtra);
    if (!console.domain.empty())
      e.add_field(n.console_domain_out, console.domain, FieldOrigin::kExtra);
  }
  if (console.session_id)
    e.add_field(n.console_session_out, std::to_string(*console.session_id), FieldOrigin::kExtra);
  e.add_field(n.console_state_out, to_string(console.state), FieldOrigin::kExtra);
  if (console.since)
    e.add_field(n.console_since_out, format_time(console.since), FieldOrigin::kExtra);
}

}  // namespace

Derived SessionTracker::Impl::session_derived(Kind kind, const SessionRecord& s, Ticks t) {
  return Derived{.kind = kind,
                 .time = t,
                 .user = s.user,
                 .domain = s.domain,
                 .session = s.session_id,
                 .logon_id = s.logon_id,
                 .address = s.address,
                 .session_name = s.session_name};
}

void SessionTracker::Impl::queue(Host& host, Derived d) {
  if (opt.max_timeline_per_host > 0) add_to_timeline(host, d);
  pending.emplace_back(host.name, std::move(d));
}

void SessionTracker::Impl::add_to_timeline(Host& host, const Derived& d) {
  TimelineEntry entry{.time = d.time,
                      .kind = std::string(kind_name(d.kind)),
                      .user = d.user,
                      .domain = d.domain,
                      .session_id = d.session,
                      .address = d.address,
                      .detail = timeline_detail(d)};
  if (host.timeline.size() >= opt.max_timeline_per_host) host.timeline.pop_front();
  // Correlations conclude a little after the fact: keep the timeline in time order.
  auto pos = host.timeline.end();
  while (pos != host.timeline.begin() && std::prev(pos)->time > entry.time) --pos;
  host.timeline.insert(pos, std::move(entry));
}

void SessionTracker::Impl::emit_pending() {
  if (pending.empty()) return;
  // Emitting may not queue more (derived events do not feed the state), but keep it safe.
  std::vector<std::pair<std::string, Derived>> batch = std::move(spare_pending);
  batch.swap(pending);  // `pending` keeps the spare's room: queueing does not allocate
  for (auto& [host_name, d] : batch) {
    Host& host = host_for(host_name);
    ++stats.derived_events;
    if (!sink.wants_derived(kind_event_id(d.kind))) continue;
    Event& e = scratch;
    build_derived_event(host_name, d, e);
    enrich(host, e);
    sink.on_derived(e, d.evidence);
  }
  batch.clear();
  spare_pending = std::move(batch);
}

void SessionTracker::Impl::build_derived_event(const std::string& host_name, const Derived& d,
                                               Event& e) {
  const Names& n = Names::get();
  e.clear();
  e.set_channel(derived::kChannel);
  e.set_provider_name(derived::kChannel);
  e.set_computer(host_name);
  e.event_id = kind_event_id(d.kind);
  e.time_created = d.time;
  e.level = (d.kind == Kind::kRefused) ? 3 : 4;
  e.record_id = derived_record_id(host_name, d);
  if (!d.activity.empty()) e.set_activity_id(d.activity);
  e.add_field(n.kind, kind_name(d.kind), FieldOrigin::kExtra);
  if (!d.user.empty()) e.add_field(n.target_user, d.user, FieldOrigin::kExtra);
  if (!d.domain.empty()) e.add_field(n.target_domain, d.domain, FieldOrigin::kExtra);
  if (d.session) e.add_field(n.session_id_out, std::to_string(*d.session), FieldOrigin::kExtra);
  if (d.logon_id) {
    // to_chars, not snprintf: printf's code is large, and a derived event per logon made it 8%
    // of the detection thread's instruction-cache misses in the relay benchmark.
    char buf[24] = "0x";
    const char* end = std::to_chars(buf + 2, buf + sizeof buf, d.logon_id, 16).ptr;
    e.add_field(n.logon_id_out, std::string_view(buf, static_cast<std::size_t>(end - buf)),
                FieldOrigin::kExtra);
  }
  if (!d.address.empty()) e.add_field(n.client_address, d.address, FieldOrigin::kExtra);
  if (!d.session_name.empty()) e.add_field(n.session_name_out, d.session_name, FieldOrigin::kExtra);
  if (d.with_console) add_console_fields(d.console, e);
  if (!d.activity.empty()) e.add_field(n.activity_out, d.activity, FieldOrigin::kExtra);
  e.add_field(n.detection, d.detection, FieldOrigin::kExtra);
  if (d.error_code)
    e.add_field(n.error_code_out, std::to_string(d.error_code), FieldOrigin::kExtra);
  if (!d.reason.empty()) e.add_field(n.reason_out, d.reason, FieldOrigin::kExtra);
  if (d.start_time) e.add_field(n.start_time, format_time(d.start_time), FieldOrigin::kExtra);
}

}  // namespace sw
