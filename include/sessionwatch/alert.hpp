// An alert: the ECS document sessionwatch forwards. The fields the formats, the report and the
// query API read are typed members; what else a builder, a rule or an event adds (winlog.*,
// evidence, threat.* ...) is in `extras`, in the document's own shape. write_alert_json
// (alert_json.hpp) serializes both as one document, its keys in order.
#pragma once

#include <cstdint>
#include <optional>
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

// An empty optional is written as JSON null: the field is in the document, its value unknown.
using NullableText = std::optional<std::string>;

// ECS user.*: the account the triggering event itself names.
struct AlertUser {
  std::string name;
  NullableText domain;
};

// ECS source.*: the client address the triggering event itself names; ip and port only when
// the address parses as one.
struct AlertSource {
  std::string address;
  std::string ip;  // "" when the address is a name, not an IP
  std::optional<std::uint16_t> port;
};

// sessionwatch.console.*: who holds the console (each part null when unknown).
struct AlertConsole {
  NullableText user, domain;
  std::optional<std::uint32_t> session_id;
  NullableText state, since;
};

// sessionwatch.attempt.*: who was refused, said by the event or guessed by the tracker.
struct AlertAttempt {
  NullableText user, domain, address;
};

struct Alert {
  std::string id;          // event.id: stable hash of (computer, channel, record/line id, rule id)
  Ticks time = 0;          // @timestamp: the triggering event's time
  std::string created;     // event.created: when the agent raised it; "" until then
  std::string event_code;  // event.code: the triggering event's id; "" for a text line
  Level level = Level::kMedium;  // sessionwatch.rule.level
  std::string rule_id;           // rule.id (MSGID in syslog)
  std::string rule_name;         // rule.name
  std::string host;              // host.name; "" when the event names no computer
  std::string message;           // message: the alert in one sentence
  std::optional<AlertUser> user;
  std::optional<AlertSource> source;
  std::string detection;                    // sessionwatch.detection; "" when not a detection
  std::optional<std::uint32_t> error_code;  // sessionwatch.error.code
  std::optional<AlertConsole> console;
  std::optional<AlertAttempt> attempt;
  // Every other field, nested as in the document. No key here may repeat a member above.
  nlohmann::json extras = nlohmann::json::object();
};

// A deterministic id: the same inputs always give the same 32-hex-digit id.
std::string stable_alert_id(std::string_view computer, std::string_view channel,
                            std::string_view record_identity, std::string_view rule_id);

}  // namespace sw
