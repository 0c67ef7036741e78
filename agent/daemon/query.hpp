// The live "who holds the console?" view: what the session tracker knows of each computer,
// published by the detection thread for the local API (query_api.hpp) to read on the io thread.
//
// The detection thread owns the tracker. Its state-change hook (TrackerOptions::on_state_change)
// only marks a computer dirty and notes which event changed it; at the end of each batch
// publish() copies the dirty computers' console into fresh immutable views and swaps them in
// under a mutex. Readers take shared pointers to those views under the same mutex and read them
// afterwards without it: no reader ever sees a view being written.
//
// A computer's session list (up to the tracker's 4,096 logons) costs far more to copy than its
// console, and a busy relay changes every computer in every batch: publish() copies at most a
// budget of session records per call, the computers waiting longest first, and a view shares its
// unchanged parts with the one it replaces. The engine gives a budget at most every few tens of
// ms and again while idle, so the lists catch up as soon as the input pauses.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/alert.hpp"
#include "sessionwatch/session.hpp"

namespace sw::daemon {

// An alert as people read it: who was refused, from where, who held the console. Shared by the
// API's refusals and the HTML report's alert rows.
struct AlertSummary {
  std::string id;  // the alert's event.id
  Ticks time = 0;
  std::string host, requester, address, detection, holder, holder_state, rule;
};
AlertSummary summarize_alert(const Alert& alert);
// "CORP\\alice", "alice" without a domain, empty without a user.
std::string account_name(std::string_view domain, std::string_view user);

// An event that changed a computer's sessions or console.
struct EventSource {
  Ticks time = 0;
  std::string channel;
  std::uint32_t event_id = 0;
  std::uint64_t record_id = 0;
  std::string file;        // where the agent read it (empty: a live Event Log subscription)
  std::uint64_t line = 0;  // its line or record number in that file (0: unknown)
};

// The recent alerts of one computer, newest last; older ones drop off the front.
struct RefusalLog {
  std::deque<AlertSummary> recent;
  std::uint64_t total = 0;  // every alert seen for the computer, dropped ones included
};

// One computer as the API tells it (immutable once published).
struct HostView {
  std::string name;  // as tracked: the DNS name once one was seen
  ConsoleInfo console;
  // As of the last publish() that copied them (never null); shared while unchanged.
  std::shared_ptr<const std::vector<SessionRecord>> sessions;
  std::deque<EventSource> sources;  // the latest events that changed the console, newest last
  Ticks last_change = 0;            // event time of the latest state change
  std::shared_ptr<const RefusalLog> refusals;  // null until the first alert
};

struct LiveStateOptions {
  std::size_t max_refusals = 50;  // per computer
  std::size_t max_sources = 8;    // per computer
  // Computers kept (as the tracker's own cap): past it, the one unchanged the longest goes.
  std::size_t max_hosts = 10000;
};

class LiveState {
 public:
  explicit LiveState(LiveStateOptions options = {});

  // ---- detection thread ----
  // The event the detector is processing: a state change it causes names it as its source.
  class CauseScope {
   public:
    CauseScope(LiveState* state, const Event& event);
    ~CauseScope();
    CauseScope(const CauseScope&) = delete;
    CauseScope& operator=(const CauseScope&) = delete;

   private:
    LiveState* state_;
  };
  // Nobody can ask (the agent serves no query API: `metrics` is off): every call below is then
  // a no-op, since copying session lists nobody reads costs the detection thread a few percent.
  // Set before mark_all() at each (re)start; alerts raised while off are not in the refusal logs.
  void set_enabled(bool enabled);
  // Hook for TrackerOptions::on_state_change: notes the change (and the event that caused it
  // when it changed the console); publish() copies the state.
  void on_state_change(const SessionTracker& tracker, std::string_view host, Ticks time);
  void on_alert(const Alert& alert);
  // Every computer the tracker knows becomes dirty (after its state was restored).
  void mark_all(const SessionTracker& tracker);
  // Copies what changed since the last call from the tracker and makes it visible to readers;
  // the session lists of changed computers only up to `session_records` (at least one list when
  // it is not 0), the others wait for a later call.
  static constexpr std::size_t kAllSessions = static_cast<std::size_t>(-1);
  void publish(const SessionTracker& tracker, std::size_t session_records = kAllSessions);
  // Some computer's published session list is behind the tracker's.
  bool sessions_behind() const { return enabled_ && !behind_.empty(); }

  // ---- any thread ----
  // A computer by FQDN or short name, any case; null when unknown.
  std::shared_ptr<const HostView> find(std::string_view computer) const;
  std::vector<std::shared_ptr<const HostView>> hosts() const;  // by name

 private:
  bool enabled_ = true;
  struct Pending {
    std::string name;
    bool state_changed = false;
    Ticks last_change = 0;
    std::vector<EventSource> sources;
    std::vector<AlertSummary> alerts;
  };
  using SessionList = std::shared_ptr<const std::vector<SessionRecord>>;
  Pending& pending_for(std::string_view name);
  Pending& pending_for(const std::string& key, std::string_view name);  // key: host_key(name)
  std::map<std::string, SessionList> copy_sessions(const SessionTracker& tracker,
                                                   std::size_t budget);
  HostView next_view(const HostView* old, Pending* p, const SessionTracker& tracker,
                     SessionList sessions) const;
  void drop_stalest(std::size_t count);  // with the lock held

  LiveStateOptions options_;
  // detection thread only
  const Event* cause_ = nullptr;
  std::map<std::string, Pending> pending_;       // by host_key
  std::map<std::string, ConsoleInfo> consoles_;  // by host_key: as of the last change
  // Computers whose published session list is behind the tracker's: by host_key, in the order
  // they fell behind (the set says which are in the queue).
  std::deque<std::string> behind_order_;
  std::set<std::string, std::less<>> behind_;
  // shared
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const HostView>> hosts_;  // by host_key
};

}  // namespace sw::daemon
