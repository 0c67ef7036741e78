// What the forwarding benches share: a realistic 7063 alert (~600 bytes as RFC 5424) and the
// CPU clocks they report.
#pragma once

#include <sys/resource.h>

#include <ctime>
#include <string>

#include "sessionwatch/alert.hpp"

namespace sw::forward::bench {

inline double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

inline Alert sample_alert(int n) {
  Alert a;
  a.id = stable_alert_id("WS01", "Security", std::to_string(n), "rule-7063");
  a.time = 1'613'133'268LL * kTicksPerSecond;
  a.level = Level::kHigh;
  a.rule_id = "0b3a1c2e-1111-4222-8333-944455556666";
  a.rule_name = "Console logon refused (7063)";
  a.host = "WS01";
  a.event_code = "7063";
  a.user = AlertUser{"alice", "CORP"};
  a.source = AlertSource{"10.20.30.41", "10.20.30.41", {}};
  a.message =
      "The user CORP\\alice is already logged on to the console of this computer. You do not "
      "have permission to log in at this time.";
  a.extras = {{"event", {{"kind", "alert"}}},
              {"winlog", {{"channel", "System"}, {"record_id", n}, {"computer_name", "WS01"}}}};
  return a;
}

}  // namespace sw::forward::bench
