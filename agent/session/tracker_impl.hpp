// SessionTracker's private implementation, shared by tracker.cpp and snapshot.cpp.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/event_heap.hpp"
#include "session/tracker_state.hpp"
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

}  // namespace session_detail

struct SessionTracker::Impl {
  using Host = session_detail::Host;
  using Derived = session_detail::Derived;
  using Arbitration = session_detail::Arbitration;
  using RemoteHint = session_detail::RemoteHint;
  using Kind = session_detail::Kind;

  Impl(TrackerOptions o, TrackerSink& s);

  TrackerOptions opt;
  TrackerSink& sink;
  const SessionTracker* self = nullptr;  // for TrackerOptions::on_state_change
  EvictionHook hook;
  TrackerStats stats;
  std::unordered_map<std::string, Host> hosts;
  // Computer names exactly as events spell them -> their host, so the hot path neither folds
  // nor allocates a key per event.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, Host*, NameHash, std::equal_to<>> aliases;

  EventHeap heap;  // the reorder window: equal times keep their arrival order
  std::uint64_t next_seq = 0;
  Ticks max_time = std::numeric_limits<Ticks>::min() / 2;
  Ticks released_time = std::numeric_limits<Ticks>::min() / 2;

  std::vector<std::pair<std::string, Derived>> pending;
  // The next hosts to evict at the cap, quietest last, with the last_seen they had when chosen:
  // found an eighth of the cap at a time, so a tracker at its cap does not scan every host for
  // each new one.
  std::vector<std::pair<Ticks, std::string>> victims;
  // Keys of hosts evicted since the last snapshot_parts(changes only).
  std::vector<std::string> evicted_unsaved;
  Event scratch;

  Host& host_for(std::string_view computer);
  static void learn_host_name(Host& host, std::string_view computer);
  static void use_host_name(const Host& host, Event& event);
  // Two sessions connected at once (note), for longer than an arbitration (confirm): the host
  // is multi-session.
  void note_concurrent_sessions(Host& host, Ticks t);
  void confirm_concurrent_sessions(Host& host, Ticks t);
  // Replaces the hosts with restored ones (snapshot.cpp).
  void install(std::unordered_map<std::string, Host> restored, Ticks restored_released_time);
  // Makes room for one more host: the one not heard from the longest goes.
  void evict_host();
  void evict(std::unordered_map<std::string, Host>::iterator victim);
  void forget_aliases();
  static EvidenceRef evidence_of(const Event& e, std::string_view role);

  void push(Event& event);
  void pop_and_release();
  void release_until(Ticks t);
  void flush();
  void release(Event& event);

  void apply(Host& host, const Event& e);
  void apply_lsm(Host& host, const Event& e);
  void apply_rcm(Host& host, const Event& e);
  void apply_security(Host& host, const Event& e);
  void apply_winlogon(Host& host, const Event& e);
  void apply_reboot(Host& host, const Event& e);
  bool recently_rebooted(const Host& host, Ticks t) const;
  bool recently_ended(const Host& host, std::uint32_t id, Ticks t) const;

  SessionRecord& session(Host& host, std::uint32_t id, Ticks t, bool& created);
  void end_session(Host& host, std::uint32_t id, Ticks t);
  static void set_state(SessionRecord& s, ConsoleState state, Ticks t);
  bool link_logon(Host& host, SessionRecord& s, Ticks t);
  void add_hint(Host& host, RemoteHint h);

  Arbitration* find_arbitration(Host& host, const Event& e,
                                std::optional<std::uint32_t> new_session);
  void note_connect(Host& host, const Event& e, std::string_view user, std::string_view domain,
                    std::uint32_t sid, std::string_view address);
  void note_console_disruption(Host& host, const Event& e, std::uint32_t session_id, bool console);
  void note_disconnect_reason(Host& host, const Event& e, std::uint32_t session_id,
                              std::string_view reason);
  void decide_arbitrations(Host& host, Ticks now, bool all);
  void conclude(Host& host, Arbitration& a);
  void record_attempt(Host& host, Ticks t, std::string who);

  static Derived session_derived(Kind kind, const SessionRecord& s, Ticks t);
  void queue(Host& host, Derived d);
  void emit_pending();

  std::string requester_of(const Host& host, const Event& e) const;
  static std::string fold_account_text(std::string_view account);
  void enrich(Host& host, Event& e, bool recognize);

  void evict_sessions(Host& host);
  void maybe_sweep(Host& host);
  void age_logons(Host& host, Ticks now);
};

}  // namespace sw
