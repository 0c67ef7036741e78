// The session tracker: per computer, who holds the console (and since when), which remote
// sessions exist, and the console-arbitration patterns (takeover, refused logon = inferred
// 7063/7062). It sits between the decoders and the rules:
//
//   push(event) -> [reorder window] -> enrich (sessionwatch.* fields) -> sink.on_event(event)
//                                   -> derived events (Channel "sessionwatch") -> sink.on_derived
//
// Field names, derived event kinds and ids are a contract with the rules: see docs/sessions.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/derived.hpp"
#include "sessionwatch/event.hpp"
#include "sessionwatch/interest.hpp"
#include "sessionwatch/state_parts.hpp"

namespace sw {

class ErrorCatalog;
class SessionTracker;

enum class ConsoleState : std::uint8_t { kUnknown, kNone, kActive, kDisconnected, kLocked };
// "unknown" | "none" | "active" | "disconnected" | "locked"
std::string_view to_string(ConsoleState s);

// One event an alert or derived event was drawn from.
struct EvidenceRef {
  std::string channel;
  std::uint64_t record_id = 0;
  std::uint32_t event_id = 0;
  Ticks time = 0;
  std::string role;  // what it showed: "arbitration begin", "console disconnected", ...
};

struct SessionRecord {
  std::optional<std::uint32_t> session_id;  // TS session id; absent when only a logon id is known
  std::uint64_t logon_id = 0;               // Security logon id (0 unknown)
  std::string user, domain, sid;
  std::string address;  // "LOCAL" for the console, else the client address; empty when unknown
  std::string client_name;
  std::string session_name;  // "Console", "RDP-Tcp#3"
  bool console = false;
  ConsoleState state = ConsoleState::kActive;  // kActive, kDisconnected or kLocked
  Ticks logon_time = 0;                        // 0 when the logon was not seen
  Ticks state_since = 0;
  Ticks last_seen = 0;
};

// Who holds the console of a computer, as far as the tracker knows.
struct ConsoleInfo {
  ConsoleState state = ConsoleState::kUnknown;  // kNone: known to be free
  std::string user, domain;
  std::optional<std::uint32_t> session_id;
  Ticks since = 0;       // when the holder got the console state it is in; 0 unknown
  Ticks logon_time = 0;  // when the holder logged on, when seen; 0 unknown
};

// The most recent refused arbitration on a host (who was refused, from where).
struct RefusedAttempt {
  Ticks time = 0;
  std::string user, domain, address;
  std::optional<std::uint32_t> session_id;
  std::vector<EvidenceRef> evidence;
};

// What the alert builder needs from the tracker about the trigger's host.
struct AlertContext {
  bool host_known = false;
  std::string hostname;  // the host's short (NetBIOS) name as its events spell it; empty: unknown
  ConsoleInfo console;
  // Attempts (observed errors and refused arbitrations) on this host in the hour before the
  // trigger by the trigger's requester (or by anyone when the requester is unknown).
  std::uint32_t attempts_last_hour = 0;
  std::optional<RefusedAttempt> recent_refusal;  // within TrackerOptions::requester_window
};

struct TimelineEntry {
  Ticks time = 0;
  std::string kind;  // a derived Kind (session_logon, console_takeover, ...)
  std::string user, domain;
  std::optional<std::uint32_t> session_id;
  std::string address;
  std::string detail;
};

struct TrackerStats {
  std::uint64_t events_in = 0;
  std::uint64_t events_out = 0;
  std::uint64_t duplicates = 0;   // same (channel, record id) seen again: dropped
  std::uint64_t late_events = 0;  // older than the reorder window allowed: processed late
  std::uint64_t derived_events = 0;
  std::uint64_t sessions_evicted = 0;  // per-host cap
  std::uint64_t sessions_expired = 0;  // stale
  std::uint64_t hosts_evicted = 0;
  std::uint64_t reboots = 0;
  std::uint64_t takeovers = 0;
  std::uint64_t refusals = 0;
  std::size_t buffered_peak = 0;
};

struct TrackerOptions {
  // Events are held this long (event time) and released in time order, so events of several
  // channels arriving out of order are seen in order. 0: every event is processed on arrival.
  Ticks reorder_window = 5 * kTicksPerSecond;
  // Hard cap on events held for reordering; the oldest is released when it is reached.
  std::size_t max_buffered_events = 20000;
  // An arbitration (TS-LSM 41) gathers events this long; the whole sequence takes about 3 s.
  Ticks arbitration_window = 15 * kTicksPerSecond;
  // After the end of an arbitration (42), wait this long for the 21/25 that may follow it.
  Ticks arbitration_grace = 3 * kTicksPerSecond;
  // Tolerated clock difference between channels of one computer when correlating.
  Ticks channel_skew = 2 * kTicksPerSecond;
  // An observed error with no requester of its own is attributed to a refused arbitration this
  // recent on the same host (source "tracker").
  Ticks requester_window = 5 * 60 * kTicksPerSecond;
  Ticks attempt_window = 3600 * kTicksPerSecond;
  // Observations of one refusal by the same requester on the same host this close in time (an
  // application's event and its tool's text line) count as one attempt.
  Ticks attempt_dedupe_window = 10 * kTicksPerSecond;
  // Bounded memory.
  std::size_t max_sessions_per_host = 4096;
  std::size_t max_hosts = 10000;
  std::size_t max_timeline_per_host = 256;           // 0: no timeline (the daemon needs none)
  Ticks stale_after = 14 * 86400 * kTicksPerSecond;  // sessions not seen for this long expire
  // The recognizer (nullptr: the built-in catalog when sw_errors is linked, else none).
  const ErrorCatalog* catalog = nullptr;
  // Told after a released event may have changed a host's sessions or console (a session event;
  // an observer compares what it saw before), the change applied: the
  // report draws console holds and session lanes from what console() and sessions() then say.
  // Called on the tracker's thread with the host's name as tracked and the event's time.
  std::function<void(const SessionTracker& tracker, std::string_view host, Ticks time)>
      on_state_change;
};

// Receives the tracker's output, in order. References are valid during the call only.
class TrackerSink {
 public:
  virtual ~TrackerSink() = default;
  // Every pushed event (duplicates excepted) the sink wants, enriched with sessionwatch.* fields.
  virtual void on_event(Event& event) = 0;
  // A derived event (Channel/Provider_Name "sessionwatch", field Kind) and what it came from.
  virtual void on_derived(Event& event, const std::vector<EvidenceRef>& evidence) = 0;
  // Whether on_derived is wanted for derived events of this id (derived::k...): a sink that acts
  // on a few kinds (the built-in detections, rules on some) spares the tracker building the rest.
  virtual bool wants_derived(std::uint32_t /*event_id*/) const { return true; }
  // Whether on_event is wanted for this event, asked once its errors are recognized
  // (sessionwatch.error_code) and before the console fields are added: enriching an event nobody
  // reads is most of what the tracker does for it.
  virtual bool wants_event(const Event& /*event*/) const { return true; }
};

// Called when the tracker drops state to stay bounded: what = "session-cap" | "stale" | "host-cap".
using EvictionHook =
    std::function<void(std::string_view host, std::string_view what, std::size_t count)>;

class SessionTracker {
 public:
  SessionTracker(TrackerOptions options, TrackerSink& sink);
  ~SessionTracker();
  SessionTracker(const SessionTracker&) = delete;
  SessionTracker& operator=(const SessionTracker&) = delete;

  // One event in. With a reorder window the event is copied and released later; without one it
  // is enriched in place and released before push returns.
  void push(Event& event);
  // Releases every held event older than `t` (live sources call this from a timer).
  void release_until(Ticks t);
  // End of input: releases every held event and decides every pending arbitration.
  void flush();

  void set_eviction_hook(EvictionHook hook);

  // --- Queries (state as of the last released event) ---
  std::vector<std::string> hosts() const;  // the computer names as seen, sorted
  ConsoleInfo console(std::string_view host) const;
  std::vector<SessionRecord> sessions(std::string_view host) const;
  std::vector<TimelineEntry> timeline(std::string_view host) const;
  AlertContext alert_context(const Event& trigger) const;
  const TrackerStats& stats() const;
  const TrackerOptions& options() const;
  // The events the tracker reads: its session events and, with a catalog, every event that can
  // report a catalogued error (any channel in full, except Security: its related events only).
  EventInterest interest() const;

  // --- State across restarts: versioned JSON text, and an atomic file of it ---
  static constexpr int kSnapshotVersion = 1;
  // The tracker's own part, and the prefixes of a computer's parts: the host part first (every
  // computer tracked has one), then its logons and SID names, each settled and changed since.
  // A computer handed over, or forgotten, is all of its parts.
  static constexpr std::string_view kHeaderPart = "session/tracker";
  static constexpr std::string_view kComputerPartPrefixes[] = {"session/host/", "session/logons/",
                                                               "session/newlogons/",
                                                               "session/sids/", "session/newsids/"};
  std::string snapshot() const;
  bool restore(std::string_view snapshot, std::string& error);
  // The same state as parts: kHeaderPart and, per computer, a part under each of
  // kComputerPartPrefixes followed by its key. With `changes_only`, the parts changed since the
  // previous call (evicted computers without a value); either way every part counts as saved
  // afterwards.
  void snapshot_parts(bool changes_only, StateParts& out);
  // Every part, each computer's encoded only as it is written and not kept (Detector::last_parts):
  // no part of changes, each collection whole.
  void last_parts(StateParts& out);
  // Restores from the "session/" parts of `parts` (others are ignored).
  bool restore_parts(const StatePartMap& parts, std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The key hosts are tracked under: lower case, first DNS label ("WS-FIN-07.corp.example" and
// "ws-fin-07" are one computer, as text tool output names hosts by their short name).
std::string host_key(std::string_view computer);
// The short name of a computer as spelled ("WS-FIN-07.corp.example" -> "WS-FIN-07"); empty for
// an address or an empty name.
std::string host_short_name(std::string_view computer);

// Text renderings for the CLI.
// The session timeline of one computer (all computers when host is empty), one line per entry.
std::string render_timeline(const SessionTracker& tracker, std::string_view host = {});

}  // namespace sw
