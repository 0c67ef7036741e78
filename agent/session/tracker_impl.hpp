// SessionTracker's private implementation. Its members are defined by responsibility, in the
// order an event meets them:
//   reorder.cpp           the reorder window: push, hold, release in event time
//   tracker.cpp           the host table and its names, the channel dispatch, the public API
//   channel_lsm.cpp       TerminalServices-LocalSessionManager (21-25, 39-42)
//   channel_security.cpp  Security (4624, 4634/4647, 4778/4779, 4800/4801)
//   channel_system.cpp    the System log: Winlogon 7001/7002, shutdowns and restarts
//   channel_rcm.cpp       TerminalServices-RemoteConnectionManager (1149)
//   sessions.cpp          session records and their logons, shared by the channel handlers
//   arbitration.cpp       console arbitrations (TS-LSM 41/42) and what they concluded
//   derived.cpp           derived events: the timeline and the events handed to the sink
//   enrich.cpp            the sessionwatch.* fields of each event, and the alert context
//   eviction.cpp          bounded memory: the host cap, the session cap, stale logons
//   snapshot.cpp          the state as versioned JSON
#pragma once

#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/event_heap.hpp"
#include "session/tracker_state.hpp"
#include "sessionwatch/hash.hpp"
#include "sessionwatch/session.hpp"

namespace sw {

namespace session_detail {

// A derived event before it becomes an Event.
struct Derived {
  Kind kind = Kind::kLogon;
  Ticks time = 0;
  Ticks start_time = 0;
  std::string user, domain;
  std::optional<std::uint32_t> session;
  std::uint64_t logon_id = 0;
  std::string address, session_name, reason, activity;
  std::string detection = "observed";
  ConsoleInfo console;
  bool with_console = false;
  std::uint32_t error_code = 0;
  std::vector<EvidenceRef> evidence;
};

// A second account of a state change (TS-LSM 24/25 after Security 4779/4778, or the other way
// round) comes within this long of the first.
inline constexpr Ticks kRepeatWithin = 3 * kTicksPerSecond;

// The fields of Security 4624 read before it is known to be an interactive logon of a person.
struct LogonFields {
  std::optional<LogonType> type;
  std::string_view user, domain, sid;
};

// The fields every TS-LSM session event carries.
struct LsmFields {
  std::string user, domain;
  std::string_view address;  // "LOCAL" at the console
  bool local = false;
  std::optional<std::uint32_t> session_id;
};

// The fields of Security 4778/4779 (a session reconnected to / disconnected from a window
// station).
struct StationFields {
  std::optional<std::uint64_t> logon_id;
  std::string_view user, domain, session_name, address;
  bool console = false;  // the session name is "Console"
  bool connect = false;  // 4778
};

}  // namespace session_detail

struct SessionTracker::Impl {
  using Host = session_detail::Host;
  using Logon = session_detail::Logon;
  using LogonType = session_detail::LogonType;
  using Derived = session_detail::Derived;
  using Arbitration = session_detail::Arbitration;
  using RemoteHint = session_detail::RemoteHint;
  using Kind = session_detail::Kind;
  using LsmFields = session_detail::LsmFields;
  using StationFields = session_detail::StationFields;
  using LogonFields = session_detail::LogonFields;

  Impl(TrackerOptions o, TrackerSink& s);

  TrackerOptions opt;
  TrackerSink& sink;
  const SessionTracker* self = nullptr;  // for TrackerOptions::on_state_change
  EvictionHook hook;
  TrackerStats stats;
  std::unordered_map<std::string, Host> hosts;
  // Computer names exactly as events spell them -> their host, so the hot path neither folds
  // nor allocates a key per event.
  std::unordered_map<std::string, Host*, StringViewHash, std::equal_to<>> aliases;
  // The alias host_for() found last, compared before the map is searched: a log's consecutive
  // events mostly come from one computer. Null whenever aliases are erased.
  const decltype(aliases)::value_type* last_alias = nullptr;

  EventHeap heap;  // the reorder window: equal times keep their arrival order
  std::uint64_t next_seq = 0;
  Ticks max_time = std::numeric_limits<Ticks>::min() / 2;
  Ticks released_time = std::numeric_limits<Ticks>::min() / 2;

  std::vector<std::pair<std::string, Derived>> pending;
  std::vector<std::pair<std::string, Derived>> spare_pending;  // emitted, its room kept
  // The next hosts to evict at the cap, quietest last, with the last_seen they had when chosen:
  // found an eighth of the cap at a time, so a tracker at its cap does not scan every host for
  // each new one.
  std::vector<std::pair<Ticks, std::string>> victims;
  // Keys of hosts evicted since the last snapshot_parts(changes only).
  std::vector<std::string> evicted_unsaved;
  Event scratch;
  // Texts enrich builds for every event, kept so their buffers are allocated once.
  std::string account_text, requester_text;

  // ---- The host table (tracker.cpp) ----
  Host& host_for(std::string_view computer);
  static void learn_host_name(Host& host, std::string_view computer);
  static void use_host_name(const Host& host, Event& event);
  // Replaces the hosts with restored ones (snapshot.cpp).
  void install(std::unordered_map<std::string, Host> restored, Ticks restored_released_time);
  static EvidenceRef evidence_of(const Event& e, std::string_view role);
  void apply(Host& host, const Event& e);

  // ---- Reorder window (reorder.cpp) ----
  void push(Event& event);
  bool seen_before(Host& host, const Event& event);
  void pop_and_release();
  void release_until(Ticks t);
  void flush();
  void release(Event& event);
  void release(Host& host, Event& event);  // `host` is the event's

  // ---- TS-LSM (channel_lsm.cpp) ----
  void apply_lsm(Host& host, const Event& e);
  Derived lsm_derived(const Event& e, const LsmFields& f, Kind kind) const;
  void on_lsm_session_logon(Host& host, const Event& e, const LsmFields& f);   // 21, 22
  void on_lsm_session_logoff(Host& host, const Event& e, const LsmFields& f);  // 23
  void on_lsm_session_change(Host& host, const Event& e, const LsmFields& f);  // 24, 25
  void on_lsm_session_disconnect(Host& host, const Event& e, const LsmFields& f,
                                 SessionRecord& s);  // 24
  void on_lsm_session_reconnect(Host& host, const Event& e, const LsmFields& f, SessionRecord& s,
                                bool repeat);                                     // 25
  void on_lsm_disconnected_by(Host& host, const Event& e);                        // 39, 40
  void on_lsm_arbitration_begin(Host& host, const Event& e, const LsmFields& f);  // 41
  void on_lsm_arbitration_end(Host& host, const Event& e, const LsmFields& f);    // 42

  // ---- Security (channel_security.cpp) ----
  void apply_security(Host& host, const Event& e);
  void on_logon(Host& host, const Event& e);           // 4624
  void on_logoff(Host& host, const Event& e);          // 4634, 4647
  void on_station_change(Host& host, const Event& e);  // 4778, 4779
  void on_lock_change(Host& host, const Event& e);     // 4800, 4801
  static void remember_sid_name(Host& host, std::string_view sid, std::string_view domain,
                                std::string_view user);
  Logon& record_logon(Host& host, const Event& e, std::uint64_t logon_id, const LogonFields& f);
  void note_remote_logon(Host& host, const Event& e, const Logon& l, std::uint64_t logon_id);
  bool give_logon_to_session(Host& host, Logon& l, std::uint64_t logon_id);
  static bool adopt_token_twin(Host& host, Logon& l, std::uint64_t logon_id);
  static std::vector<std::uint64_t> erase_token_twins(Host& host, const Logon& l);
  void end_session_of_logon(Host& host, const Event& e, std::uint64_t logon_id);
  SessionRecord* session_of_station(Host& host, const StationFields& f);
  bool update_station(Host& host, const Event& e, SessionRecord& s, const StationFields& f);

  // ---- The System log (channel_system.cpp) ----
  void apply_winlogon(Host& host, const Event& e);
  void on_winlogon_logon(Host& host, const Event& e, std::uint32_t sid);   // 7001
  void on_winlogon_logoff(Host& host, const Event& e, std::uint32_t sid);  // 7002
  void apply_reboot(Host& host, const Event& e);

  // ---- TS-RCM (channel_rcm.cpp) ----
  void apply_rcm(Host& host, const Event& e);
  void add_hint(Host& host, RemoteHint h);

  // ---- Sessions and logons (sessions.cpp) ----
  SessionRecord& session(Host& host, std::uint32_t id, Ticks t, bool& created);
  void end_session(Host& host, std::uint32_t id, Ticks t);
  static void set_state(SessionRecord& s, ConsoleState state, Ticks t);
  bool link_logon(Host& host, SessionRecord& s, Ticks t);
  bool recently_rebooted(const Host& host, Ticks t) const;
  bool recently_ended(const Host& host, std::uint32_t id, Ticks t) const;
  // An event for a session that is gone because it ended moments ago: late news, not a session.
  bool ended_already(const Host& host, std::uint32_t id, Ticks t) const;
  // Two sessions connected at once (note), for longer than an arbitration (confirm): the host
  // is multi-session.
  void note_concurrent_sessions(Host& host, Ticks t);
  void confirm_concurrent_sessions(Host& host, Ticks t);

  // ---- Console arbitration (arbitration.cpp) ----
  bool in_window(const Arbitration& a, Ticks t) const;
  void begin_arbitration(Host& host, const Event& e, const LsmFields& f);
  Arbitration* find_arbitration(Host& host, const Event& e,
                                std::optional<std::uint32_t> new_session);
  void note_connect(Host& host, const Event& e, std::string_view user, std::string_view domain,
                    std::uint32_t sid, std::string_view address);
  void note_console_disruption(Host& host, const Event& e, std::uint32_t session_id, bool console);
  void note_disconnect_reason(Host& host, const Event& e, std::uint32_t session_id,
                              std::string_view reason);
  void note_newcomer_logon(Host& host, const Logon& l, std::uint64_t logon_id,
                           const EvidenceRef& evidence);
  void note_newcomer_logoff(Host& host, const Event& e, std::uint64_t logon_id);
  void decide_arbitrations(Host& host, Ticks now, bool all);
  void conclude(Host& host, Arbitration& a);
  void conclude_takeover(Host& host, Arbitration& a);
  void conclude_refusal(Host& host, Arbitration& a);
  void record_attempt(Host& host, Ticks t, std::string who);

  // ---- Derived events (derived.cpp) ----
  static Derived session_derived(Kind kind, const SessionRecord& s, Ticks t);
  void queue(Host& host, Derived d);
  void add_to_timeline(Host& host, const Derived& d);
  void emit_pending();
  void build_derived_event(const std::string& host_name, const Derived& d, Event& e);

  // ---- Enrichment (enrich.cpp) ----
  // Who asked for what the event reports ("DOMAIN\\user"), written over `out`; empty when no one.
  void requester_into(const Host& host, const Event& e, std::string& out) const;
  std::string requester_of(const Host& host, const Event& e) const;
  static std::string fold_account_text(std::string_view account);
  // The console and requester fields (sessionwatch.console_*, requester).
  void enrich(Host& host, Event& e);
  // The error the event reports (sessionwatch.error_*), counted as an attempt of its requester.
  void recognize_error(Host& host, Event& e);

  // ---- Bounded memory (eviction.cpp) ----
  // Makes room for one more host: the one not heard from the longest goes.
  void evict_host();
  void choose_victims();
  void evict(std::unordered_map<std::string, Host>::iterator victim);
  void forget_aliases();
  void evict_sessions(Host& host);
  void maybe_sweep(Host& host);
  void age_logons(Host& host, Ticks now);
};

}  // namespace sw
