// What `sessionwatch report` draws: per computer, who held the console when, the remote sessions,
// and the alerts. Recorded from the session tracker as it changes (TrackerOptions::
// on_state_change) and from the alerts of the same detection chain `scan` runs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/query.hpp"
#include "sessionwatch/alert.hpp"
#include "sessionwatch/session.hpp"

namespace sw::cli {

// A stretch of time the console was held by one session in one state.
struct ConsoleHold {
  Ticks start = 0, end = 0;
  std::string user, domain;
  std::optional<std::uint32_t> session_id;
  ConsoleState state = ConsoleState::kActive;
};

// A remote (non-console) session from its first sight to its end, with its state changes.
struct RemoteSpan {
  Ticks start = 0, end = 0;
  std::string user, domain, address;
  std::optional<std::uint32_t> session_id;
  std::vector<std::pair<Ticks, ConsoleState>> states;  // (since, state), in time order
};

// One alert as the page shows it (as the agent's query API tells it too).
using ReportAlert = daemon::AlertSummary;

struct HostReport {
  std::string name;  // as tracked (the DNS name once one was seen)
  std::vector<ConsoleHold> holds;
  std::vector<RemoteSpan> remote;
  std::vector<std::size_t> alerts;  // indexes into ReportData::alerts
  // Open while recording.
  std::optional<ConsoleHold> open_hold;
  std::map<std::string, RemoteSpan> open_remote;  // by session key
};

struct ReportData {
  Ticks from = 0, to = 0;                   // the time the page spans
  std::map<std::string, HostReport> hosts;  // by host_key
  std::vector<ReportAlert> alerts;          // in time order
};

// Filters applied when the recording ends.
struct ReportFilter {
  std::optional<Ticks> from, to;
  std::string computer;  // empty: every computer; else matched by host_key
};

class ReportRecorder {
 public:
  // Hook for TrackerOptions::on_state_change.
  void on_state_change(const SessionTracker& tracker, std::string_view host, Ticks time);
  void on_alert(const Alert& alert);
  // Closes what is open at the last time seen, applies the filter and returns the data.
  ReportData finish(const ReportFilter& filter);

 private:
  HostReport& host(std::string_view name);
  void note_time(Ticks t);
  void record_console(HostReport& h, const ConsoleInfo& c, Ticks t);
  void record_remote(HostReport& h, const std::vector<SessionRecord>& sessions, Ticks t);

  ReportData data_;
  Ticks first_ = 0, last_ = 0;
};

}  // namespace sw::cli
