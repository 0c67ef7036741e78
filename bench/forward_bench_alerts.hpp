// A realistic 7063 alert (~600 bytes as RFC 5424) shared by the forwarding benches.
#pragma once

#include <string>

#include "sessionwatch/alert.hpp"

namespace sw::forward::bench {

inline Alert sample_alert(int n) {
  Alert a;
  a.id = stable_alert_id("WS01", "Security", std::to_string(n), "rule-7063");
  a.time = 1'613'133'268LL * kTicksPerSecond;
  a.level = Level::kHigh;
  a.rule_id = "0b3a1c2e-1111-4222-8333-944455556666";
  a.rule_name = "Console logon refused (7063)";
  a.host = "WS01";
  a.doc = {{"@timestamp", "2021-02-12T12:34:28.1944370Z"},
           {"event", {{"id", a.id}, {"code", "7063"}, {"kind", "alert"}}},
           {"rule", {{"id", a.rule_id}, {"name", a.rule_name}, {"level", "high"}}},
           {"host", {{"name", a.host}}},
           {"user", {{"name", "alice"}, {"domain", "CORP"}}},
           {"source", {{"ip", "10.20.30.41"}}},
           {"winlog", {{"channel", "System"}, {"record_id", n}, {"computer_name", "WS01"}}},
           {"message",
            "The user CORP\\alice is already logged on to the console of this computer. You do "
            "not have permission to log in at this time."}};
  return a;
}

}  // namespace sw::forward::bench
