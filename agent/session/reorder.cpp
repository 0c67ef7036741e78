// The reorder window: events arrive in file and channel order, and are released in event time
// once no event within the window can come before them.
#include <algorithm>

#include "session/tracker_impl.hpp"

namespace sw {

using namespace session_detail;

void SessionTracker::Impl::push(Event& event) {
  ++stats.events_in;
  Host& host = host_for(event.computer());
  host.unsaved = true;
  if (event.time_created > host.last_seen) host.last_seen = event.time_created;
  if (seen_before(host, event)) {
    ++stats.duplicates;
    return;
  }
  if (opt.reorder_window <= 0) {
    if (event.time_created < released_time) ++stats.late_events;
    release(host, event);
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

bool SessionTracker::Impl::seen_before(Host& host, const Event& event) {
  // Record ids are per channel; an event without one (text lines) is never a repeat.
  if (event.record_id == 0) return false;
  const std::string_view channel = event.channel();
  RecentIds* ids = nullptr;
  for (auto& [name, r] : host.seen_ids) {
    if (name == channel) ids = &r;
  }
  if (!ids) ids = &host.seen_ids.emplace_back(std::string(channel), RecentIds()).second;
  return ids->seen(event.record_id);
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
  release(host_for(event.computer()), event);
}

void SessionTracker::Impl::release(Host& host, Event& event) {
  if (event.time_created > released_time) released_time = event.time_created;
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
  recognize_error(host, event);
  ++stats.events_out;
  if (sink.wants_event(event)) {
    enrich(host, event);
    sink.on_event(event);
  }
  emit_pending();
  if (changed && opt.on_state_change) {
    opt.on_state_change(*self, host.name, event.time_created);
    cached_console(host);  // valid again: the next call is for the next change
  }
  maybe_sweep(host);
}

}  // namespace sw
