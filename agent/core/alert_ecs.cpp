#include "sessionwatch/alert_ecs.hpp"

#include <algorithm>
#include <cctype>

namespace sw {

using nlohmann::json;

namespace {

#ifndef SW_VERSION
#define SW_VERSION "unknown"
#endif

// ATT&CK tactics by the name Sigma tags use (attack.lateral_movement), with their ids.
struct Tactic {
  std::string_view tag, id, name;
};
constexpr Tactic kTactics[] = {
    {"reconnaissance", "TA0043", "Reconnaissance"},
    {"resource_development", "TA0042", "Resource Development"},
    {"initial_access", "TA0001", "Initial Access"},
    {"execution", "TA0002", "Execution"},
    {"persistence", "TA0003", "Persistence"},
    {"privilege_escalation", "TA0004", "Privilege Escalation"},
    {"defense_evasion", "TA0005", "Defense Evasion"},
    {"credential_access", "TA0006", "Credential Access"},
    {"discovery", "TA0007", "Discovery"},
    {"lateral_movement", "TA0008", "Lateral Movement"},
    {"collection", "TA0009", "Collection"},
    {"command_and_control", "TA0011", "Command and Control"},
    {"exfiltration", "TA0010", "Exfiltration"},
    {"impact", "TA0040", "Impact"},
};

// "attack.t1021.001" -> "T1021.001"; anything else -> "".
std::string technique_id(std::string_view tag) {
  if (!tag.starts_with("attack.t") || tag.size() < 12) return {};
  std::string id(tag.substr(7));
  for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const bool digits = std::all_of(id.begin() + 1, id.begin() + 5, [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
  return digits ? id : std::string();
}

void add_unique(json& array, std::string_view value) {
  if (value.empty()) return;
  for (const json& v : array) {
    if (v.get_ref<const std::string&>() == value) return;
  }
  array.push_back(std::string(value));
}

void add_unique_nullable(json& array, const NullableText& value) {
  if (value) add_unique(array, std::string_view(*value));
}

void add_threat(json& doc, const std::vector<std::string>& tags) {
  json techniques = json::array();
  json tactic_ids = json::array();
  json tactic_names = json::array();
  for (const std::string& tag : tags) {
    if (std::string id = technique_id(tag); !id.empty()) add_unique(techniques, id);
    for (const Tactic& t : kTactics) {
      if (tag.size() == 7 + t.tag.size() && tag.starts_with("attack.") && tag.ends_with(t.tag)) {
        add_unique(tactic_ids, std::string(t.id));
        add_unique(tactic_names, std::string(t.name));
      }
    }
  }
  if (techniques.empty() && tactic_ids.empty()) return;
  json threat = {{"framework", "MITRE ATT&CK"}};
  if (!techniques.empty()) threat["technique"] = {{"id", std::move(techniques)}};
  if (!tactic_ids.empty()) {
    threat["tactic"] = {{"id", std::move(tactic_ids)}, {"name", std::move(tactic_names)}};
  }
  doc["threat"] = std::move(threat);
}

void add_related(Alert& alert) {
  json& doc = alert.extras;
  json users = json::array();
  if (alert.user) add_unique(users, alert.user->name);
  if (alert.attempt) add_unique_nullable(users, alert.attempt->user);
  if (alert.console) add_unique_nullable(users, alert.console->user);
  json ips = json::array();
  if (alert.source) add_unique(ips, alert.source->ip);
  json hosts = json::array();
  add_unique(hosts, alert.host);
  if (const auto host = doc.find("host"); host != doc.end() && host->is_object()) {
    if (const auto name = host->find("hostname"); name != host->end() && name->is_string())
      add_unique(hosts, name->get_ref<const std::string&>());
  }
  json related = json::object();
  if (!users.empty()) related["user"] = std::move(users);
  if (!ips.empty()) related["ip"] = std::move(ips);
  if (!hosts.empty()) related["hosts"] = std::move(hosts);
  if (!related.empty()) doc["related"] = std::move(related);
}

}  // namespace

int ecs_severity(Level level) {
  switch (level) {
    case Level::kInformational:
      return 1;
    case Level::kLow:
      return 21;
    case Level::kMedium:
      return 47;
    case Level::kHigh:
      return 73;
    case Level::kCritical:
      return 99;
  }
  return 47;
}

void complete_ecs(Alert& alert, const std::vector<std::string>& rule_tags, Ticks created) {
  json& doc = alert.extras;
  doc["ecs"] = {{"version", std::string(kEcsVersion)}};
  doc["agent"] = {{"type", "sessionwatch"}, {"version", SW_VERSION}};
  doc["observer"] = {
      {"vendor", "sessionwatch"}, {"product", "sessionwatch"}, {"version", SW_VERSION}};
  json& event = doc["event"];
  event["module"] = "sessionwatch";
  event["dataset"] = "sessionwatch.alert";
  if (created != 0) alert.created = format_time(created);
  event["severity"] = ecs_severity(alert.level);
  if (!rule_tags.empty()) doc["tags"] = rule_tags;
  add_threat(doc, rule_tags);
  add_related(alert);
}

}  // namespace sw
