// An alert: the ECS JSON document sessionwatch forwards, plus the few facts outputs need
// without re-reading the document. Alerts are rare, so clarity (nlohmann::json) wins over speed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sessionwatch/event.hpp"

namespace sw {

// Sigma levels, also the alert's severity.
enum class Level : std::uint8_t { kInformational, kLow, kMedium, kHigh, kCritical };
std::string_view to_string(Level l);
bool parse_level(std::string_view s, Level& out);
// Syslog severity (RFC 5424) for a level: critical 2, high 3, medium 4, low 5, informational 6.
int syslog_severity(Level l);

// What an alert needs to know of the rule that raised it (Sigma metadata). The rule engine
// owns the rules; alerts carry a copy of this.
struct RuleInfo {
  std::string id;
  std::string title;
  std::string description;
  std::string author;  // DRL 1.1: kept in every alert raised by a Sigma rule
  Level level = Level::kMedium;
  std::vector<std::string> tags;
  std::vector<std::string> references;
  std::vector<std::string> falsepositives;
  std::string source;  // file the rule came from ("builtin" for built-in detections)
};

struct Alert {
  std::string id;  // event.id: stable hash of (computer, channel, record/line id, rule id)
  Ticks time = 0;  // @timestamp: the triggering event's time
  Level level = Level::kMedium;
  std::string rule_id;    // rule.id (MSGID in syslog)
  std::string rule_name;  // rule.name
  std::string host;       // host.name
  nlohmann::json doc;     // the whole ECS document, including the fields above
};

// A deterministic id: the same inputs always give the same 32-hex-digit id.
std::string stable_alert_id(std::string_view computer, std::string_view channel,
                            std::string_view record_identity, std::string_view rule_id);

}  // namespace sw
