#include "sessionwatch/alert_builder.hpp"

#include <algorithm>

#include "alert/alert_facts.hpp"
#include "session/names.hpp"
#include "sessionwatch/alert_ecs.hpp"

#include "sessionwatch/error_catalog.hpp"

namespace sw {

using nlohmann::json;
using namespace session_detail;
using namespace alert_detail;

namespace {

// host.name: the machine's one name (the tracker gave the event its DNS name when one was
// seen); host.hostname: its short name.
// host.* but its name (a typed member).
json host_json(std::string_view computer, const AlertContext* context) {
  json host = {{"os", {{"type", "windows"}}}};
  std::string short_name = context ? context->hostname : std::string();
  if (short_name.empty()) short_name = host_short_name(computer);
  if (!short_name.empty()) host["hostname"] = std::move(short_name);
  return host;
}

json winlog_json(const Event& e, bool derived_event) {
  json w;
  w["channel"] = std::string(e.channel());
  w["computer_name"] = std::string(e.computer());
  w["event_id"] = e.event_id;
  w["record_id"] = e.record_id;
  if (!e.provider_name().empty()) w["provider_name"] = std::string(e.provider_name());
  if (!e.provider_guid().empty()) w["provider_guid"] = std::string(e.provider_guid());
  if (!e.activity_id().empty()) w["activity_id"] = std::string(e.activity_id());
  if (!e.related_activity_id().empty())
    w["related_activity_id"] = std::string(e.related_activity_id());
  w["task"] = e.task;
  w["opcode"] = e.opcode;
  w["version"] = e.version;
  w["level"] = e.level;
  w["time_created"] = format_time(e.time_created);
  if (e.process_id) w["process"]["pid"] = e.process_id;
  if (e.thread_id) w["process"]["thread"]["id"] = e.thread_id;
  if (!e.user_sid().empty()) w["user"]["identifier"] = std::string(e.user_sid());
  json event_data = json::object();
  json user_data = json::object();
  for (const Field& f : e.fields()) {
    if (f.origin == FieldOrigin::kExtra && !derived_event) continue;
    // The tracker's fields live under sessionwatch.* only: a dotted key here would be expanded
    // into objects by Elasticsearch.
    if (field_name(f.id).starts_with(kEnrichmentPrefix)) continue;
    json& target = f.origin == FieldOrigin::kUserData ? user_data : event_data;
    const std::string name(field_name(f.id));
    const std::string value(e.value(f));
    if (!target.contains(name)) {
      target[name] = value;
    } else {
      if (!target[name].is_array()) target[name] = json::array({target[name]});
      target[name].push_back(value);
    }
  }
  if (!event_data.empty()) w["event_data"] = std::move(event_data);
  if (!user_data.empty()) w["user_data"] = std::move(user_data);
  if (!e.message().empty()) w["message"] = std::string(e.message());
  return w;
}

// ECS event.category, event.type, event.action and outcome of what an alert reports. Actions are
// Winlogbeat's names for the Security events, so views built for Winlogbeat pivot on them too.
struct EventClass {
  bool process = false;  // category process instead of authentication + session
  std::string_view type = "info";
  std::string_view action;
  std::string_view outcome = "unknown";
};

struct KnownEvent {
  std::string_view channel_part;  // a substring of the channel, or "" for any
  std::uint32_t id;
  EventClass what;
};

constexpr KnownEvent kKnownEvents[] = {
    {"Security", 4624, {false, "start", "logged-in", "success"}},
    {"Security", 4625, {false, "start", "logon-failed", "failure"}},
    {"Security", 4634, {false, "end", "logged-out", "success"}},
    {"Security", 4647, {false, "end", "logged-out", "success"}},
    {"Security", 4648, {false, "start", "logged-in-explicit", "success"}},
    {"Security", 4778, {false, "start", "session-reconnected", "success"}},
    {"Security", 4779, {false, "end", "session-disconnected", "success"}},
    {"Security", 4800, {false, "info", "workstation-locked", "success"}},
    {"Security", 4801, {false, "info", "workstation-unlocked", "success"}},
    {"Security", 4688, {true, "start", "created-process", "unknown"}},
    {"Sysmon", 1, {true, "start", "Process Create (rule: ProcessCreate)", "unknown"}},
    {"LocalSessionManager", 21, {false, "start", "session-logon", "success"}},
    {"LocalSessionManager", 22, {false, "start", "shell-start", "success"}},
    {"LocalSessionManager", 23, {false, "end", "session-logoff", "success"}},
    {"LocalSessionManager", 24, {false, "end", "session-disconnected", "success"}},
    {"LocalSessionManager", 25, {false, "start", "session-reconnected", "success"}},
    {"RemoteConnectionManager", 1149, {false, "start", "remote-authentication", "success"}},
};

EventClass classify(const Event& trigger, std::uint32_t error_code, bool derived_event) {
  if (error_code == 7063 || error_code == 7062 || derived_event) {
    return {false, "start", "console-logon-refused", "failure"};
  }
  for (const KnownEvent& k : kKnownEvents) {
    if (k.id == trigger.event_id &&
        trigger.channel().find(k.channel_part) != std::string_view::npos)
      return k.what;
  }
  EventClass other;
  other.action = "rule-match";
  if (error_code) other.outcome = "failure";
  return other;
}

// event.* but its id and code (typed members).
json event_json(const Event& trigger, const EventClass& what) {
  json event = {{"kind", "alert"}};
  event["category"] =
      what.process ? json::array({"process"}) : json::array({"authentication", "session"});
  event["type"] = json::array({std::string(what.type)});
  event["action"] = std::string(what.action);
  event["outcome"] = std::string(what.outcome);
  if (!trigger.provider_name().empty()) event["provider"] = std::string(trigger.provider_name());
  return event;
}

// ECS rule.*: the ECS names only; the Sigma level, file and references go to sessionwatch.rule.
// rule.* but its id and name (typed members).
json rule_json(const RuleInfo& rule) {
  json authors = json::array();
  std::string_view rest = rule.author;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) authors.push_back(std::string(one));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  json r = {{"uuid", rule.id},
            {"description", rule.description},
            {"ruleset", rule.source == "builtin" ? "sessionwatch" : "sigma"}};
  if (!authors.empty()) r["author"] = std::move(authors);
  if (!rule.references.empty()) r["reference"] = rule.references.front();
  return r;
}

// sessionwatch.rule but its level (the alert's).
json sessionwatch_rule_json(const RuleInfo& rule) {
  json r = {{"file", rule.source}};
  if (!rule.references.empty()) r["references"] = rule.references;
  return r;
}

// What happened, not where it was read: the record id, or for a text line (no record id) its
// time and content, so a moved or rotated file raises the same incident under the same id.
std::string record_identity(const Event& e) {
  if (e.record_id != 0) return std::to_string(e.record_id);
  std::string id = std::to_string(e.time_created) + ":" + std::to_string(e.event_id);
  for (std::string_view part : {e.provider_name(), e.message()}) {
    id.push_back('\x1f');
    id.append(part);
  }
  for (const Field& f : e.fields()) {
    const std::string_view name = field_name(f.id);
    if (name.starts_with(kEnrichmentPrefix)) continue;  // the tracker's view changes; the event not
    id.push_back('\x1f');
    id.append(name);
    id.push_back('=');
    id.append(e.value(f));
  }
  return id;
}

json evidence_json(const Event& trigger, const std::vector<EvidenceRef>& evidence) {
  json ev = json::array();
  auto add_evidence = [&](const EvidenceRef& r) {
    ev.push_back({{"channel", r.channel},
                  {"record_id", r.record_id},
                  {"event_id", r.event_id},
                  {"time", format_time(r.time)},
                  {"role", r.role}});
  };
  if (evidence.empty()) {
    add_evidence(EvidenceRef{std::string(trigger.channel()), trigger.record_id, trigger.event_id,
                             trigger.time_created, "trigger"});
  } else {
    for (const EvidenceRef& r : evidence) add_evidence(r);
  }
  return ev;
}

// sessionwatch.attempt: who was refused (typed) and, as extras, when, how often, and where
// each part came from.
json attempt_extras(const Requester& req, const Event& trigger, const AlertContext* context) {
  json attempt;
  attempt["session_id"] = req.session_id ? json(*req.session_id) : json(nullptr);
  attempt["time"] = format_time(trigger.time_created);
  attempt["count_last_hour"] = context ? json(context->attempts_last_hour) : json(nullptr);
  json attempt_sources = json::object();
  if (!req.source.empty()) attempt_sources["user"] = req.source;
  if (!req.address_source.empty()) attempt_sources["address"] = req.address_source;
  if (req.session_id) attempt_sources["session_id"] = "tracker";
  if (context) attempt_sources["count_last_hour"] = "tracker";
  attempt["source"] = std::move(attempt_sources);
  if (!req.basis.empty()) attempt["basis"] = req.basis;
  return attempt;
}

// error.* (ECS) and sessionwatch.error but its code (a typed member).
void add_error(const ErrorFacts& err, const AlertConsole& holder, Alert& alert) {
  alert.error_code = err.code;
  alert.extras["error"] = {
      {"code", std::to_string(err.code)},
      {"id", text_or_null(err.symbol)},
      {"message",
       fill_template(err.message_template, holder.domain.value_or(""), holder.user.value_or(""))}};
  alert.extras["sessionwatch"]["error"] = {{"form", text_or_null(err.form)},
                                           {"field", text_or_null(err.field)},
                                           {"matched", text_or_null(err.matched)}};
}

// The identity of the alert: its id, time, rule and host.
Alert alert_head(const RuleInfo& rule, const Event& trigger) {
  Alert alert;
  alert.host.assign(trigger.computer());
  alert.time = trigger.time_created;
  alert.level = rule.level;
  alert.rule_id = rule.id;
  alert.rule_name = rule.title;
  // The machine by its key, so the NetBIOS and the DNS spelling of it give one id.
  alert.id = stable_alert_id(host_key(trigger.computer()), trigger.channel(),
                             record_identity(trigger), rule.id);
  // A text line carries no event id: no code rather than a made-up "0".
  if (trigger.event_id != 0 || trigger.record_id != 0)
    alert.event_code = std::to_string(trigger.event_id);
  return alert;
}

}  // namespace

Alert build_alert(const RuleInfo& rule, const Event& trigger,
                  const std::vector<EvidenceRef>& evidence, const AlertContext* context) {
  const Names& n = Names::get();
  const bool derived_event = trigger.channel() == derived::kChannel;
  const ErrorFacts err = error_facts(trigger, derived_event);
  const Requester req = requester_of(trigger, derived_event, context);
  ConsoleFacts console = console_facts(err, tracker_console(trigger, derived_event, context));

  Alert alert = alert_head(rule, trigger);
  json& doc = alert.extras;
  doc["event"] = event_json(trigger, classify(trigger, err.code, derived_event));
  if (!trigger.computer().empty()) doc["host"] = host_json(trigger.computer(), context);
  if (req.user_carried && !req.user.empty()) alert.user = AlertUser{req.user, nullable(req.domain)};
  if (req.address_carried && !req.address.empty()) alert.source = source_of(req.address);
  if (err.code) add_error(err, console.holder, alert);
  doc["rule"] = rule_json(rule);
  doc["winlog"] = winlog_json(trigger, derived_event);

  alert.detection = "observed";
  if (derived_event) {
    const std::string_view d = field_or_empty(trigger, n.detection);
    if (!d.empty()) alert.detection.assign(d);
  }
  json& sw = doc["sessionwatch"];
  sw["rule"] = sessionwatch_rule_json(rule);
  alert.attempt = AlertAttempt{nullable(req.user), nullable(req.domain), nullable(req.address)};
  sw["attempt"] = attempt_extras(req, trigger, context);
  sw["remediation"] = err.code == 7063 || err.code == 7062
                          ? json(remediation(trigger.computer(), err.code, console.holder))
                          : json(nullptr);
  sw["console"] = std::move(console.extras);
  alert.console = std::move(console.holder);
  sw["evidence"] = evidence_json(trigger, evidence);
  alert.message = alert_message(rule, trigger.computer(), err.code, req, *alert.console);
  complete_ecs(alert, rule.tags, 0);
  return alert;
}

}  // namespace sw
