#include "sessionwatch/alert_builder.hpp"

#include <algorithm>
#include <charconv>

#include <boost/asio/ip/address.hpp>

#include "session/names.hpp"
#include "sessionwatch/alert_ecs.hpp"
#include "sessionwatch/ip_address.hpp"

#include "sessionwatch/error_catalog.hpp"

namespace sw {

using nlohmann::json;
using namespace session_detail;

namespace {

constexpr std::string_view kTemplate7063 =
    "The user %s\\%s is already logged on to the console of this computer. You do not have "
    "permission to log in at this time. To resolve this issue, contact %s\\%s and have them log "
    "off.";
constexpr std::string_view kTemplate7062 =
    "The user %s\\%s is currently logged on to this computer. Only the current user or an "
    "administrator can log on to this computer.";

// The tracker's enrichment fields (docs/sessions.md): not part of the event as logged.
constexpr std::string_view kEnrichmentPrefix = "sessionwatch.";

std::string_view field_or_empty(const Event& e, FieldId id) {
  auto v = e.payload(id);
  return v ? *v : std::string_view();
}

json text_or_null(std::string_view s) {
  return s.empty() ? json(nullptr) : json(std::string(s));
}

std::string fill_template(std::string_view tmpl, std::string_view domain, std::string_view user) {
  const std::string d = domain.empty() ? "(unknown)" : std::string(domain);
  const std::string u = user.empty() ? "(unknown)" : std::string(user);
  std::string out;
  std::size_t slot = 0;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '%' && i + 1 < tmpl.size() && tmpl[i + 1] == 's') {
      out += (slot++ % 2 == 0) ? d : u;
      ++i;
    } else {
      out.push_back(tmpl[i]);
    }
  }
  return out;
}

struct ErrorFacts {
  std::uint32_t code = 0;
  std::string symbol, form, field, matched, message_template;
  std::string holder_user, holder_domain;  // from the message text
};

ErrorFacts error_facts(const Event& trigger, bool derived_event) {
  const Names& n = Names::get();
  ErrorFacts f;
  const std::string_view code_text =
      field_or_empty(trigger, derived_event ? n.error_code_out : n.error_code);
  if (auto v = parse_uint(code_text); v && *v <= 0xFFFFFFFFu)
    f.code = static_cast<std::uint32_t>(*v);
  f.symbol.assign(field_or_empty(trigger, n.error_symbol));
  f.form.assign(field_or_empty(trigger, n.error_form));
  const ErrorCatalog& catalog = ErrorCatalog::builtin();
  if (!derived_event) {
    // The enrichment (sessionwatch.error_symbol ...) restates what was found: the field and
    // text to show are the event's own, where the error was found.
    const Recognition* source = nullptr;
    const Recognition* restated = nullptr;
    const std::vector<Recognition> found = catalog.recognize(trigger);
    for (const Recognition& r : found) {
      if (!r.error || !r.error->alerting) continue;
      if (f.code && r.error->code != f.code) continue;
      const bool ours = field_name(r.field).starts_with(kEnrichmentPrefix);
      const Recognition*& slot = ours ? restated : source;
      if (!slot) slot = &r;
      if (f.holder_user.empty() && !r.holder_user.empty()) {
        f.holder_user = r.holder_user;
        f.holder_domain = r.holder_domain;
      }
    }
    if (const Recognition* r = source ? source : restated) {
      f.field.assign(field_name(r->field));
      f.matched = r->matched;
    }
  }
  if (f.code) {
    if (const ErrorInfo* info = catalog.find_win32(f.code)) {
      if (f.symbol.empty()) f.symbol = info->symbol;
      f.message_template = info->message_template;
    }
  }
  if (f.message_template.empty() && f.code == 7063) f.message_template = kTemplate7063;
  if (f.message_template.empty() && f.code == 7062) f.message_template = kTemplate7062;
  if (f.symbol.empty() && f.code == 7063) f.symbol = "ERROR_CTX_NO_FORCE_LOGOFF";
  if (f.symbol.empty() && f.code == 7062) f.symbol = "ERROR_CTX_SESSION_IN_USE";
  return f;
}

// The console holder the tracker knew, from the trigger's own fields (set by the tracker when
// the event went through it) or else from the context.
struct TrackerConsole {
  bool known = false;
  std::string user, domain, state, since;
  std::optional<std::uint32_t> session_id;
};

TrackerConsole tracker_console(const Event& trigger, bool derived_event,
                               const AlertContext* context) {
  const Names& n = Names::get();
  TrackerConsole c;
  if (derived_event && trigger.payload(n.console_state_out)) {
    c.user.assign(field_or_empty(trigger, n.console_user_out));
    c.domain.assign(field_or_empty(trigger, n.console_domain_out));
    c.state.assign(field_or_empty(trigger, n.console_state_out));
    c.since.assign(field_or_empty(trigger, n.console_since_out));
    if (auto v = parse_uint(field_or_empty(trigger, n.console_session_out)))
      c.session_id = static_cast<std::uint32_t>(*v);
  } else if (trigger.payload(n.console_state)) {
    split_account(field_or_empty(trigger, n.console_user), c.domain, c.user);
    c.state.assign(field_or_empty(trigger, n.console_state));
    c.since.assign(field_or_empty(trigger, n.console_since));
    if (auto v = parse_uint(field_or_empty(trigger, n.console_session_id)))
      c.session_id = static_cast<std::uint32_t>(*v);
  } else if (context && context->host_known) {
    c.user = context->console.user;
    c.domain = context->console.domain;
    c.state = to_string(context->console.state);
    if (context->console.since) c.since = format_time(context->console.since);
    c.session_id = context->console.session_id;
  } else {
    return c;
  }
  c.known = c.state != "unknown" && !c.state.empty();
  return c;
}

NullableText nullable(std::string_view s) {
  return s.empty() ? NullableText() : NullableText(std::string(s));
}

// sessionwatch.console: who holds it (typed) and, as extras, where each part came from and
// what the tracker said when the message disagrees with it.
struct ConsoleFacts {
  AlertConsole holder;
  json extras = json::object();
};

// The holder the message names, else the one the tracker knew.
void console_holder(const ErrorFacts& err, const TrackerConsole& tc, ConsoleFacts& c,
                    json& sources) {
  if (!err.holder_user.empty()) {
    c.holder.user = err.holder_user;
    c.holder.domain = nullable(err.holder_domain);
    sources["user"] = "message";
    if (!err.holder_domain.empty()) sources["domain"] = "message";
  } else if (tc.known && !tc.user.empty()) {
    c.holder.user = tc.user;
    c.holder.domain = nullable(tc.domain);
    sources["user"] = "tracker";
    if (!tc.domain.empty()) sources["domain"] = "tracker";
  }
}

json tracker_console_json(const TrackerConsole& tc) {
  return {{"user", tc.user},
          {"domain", text_or_null(tc.domain)},
          {"session_id", tc.session_id ? json(*tc.session_id) : json(nullptr)},
          {"state", tc.state},
          {"since", text_or_null(tc.since)}};
}

std::string disagreement_text(const ErrorFacts& err, const TrackerConsole& tc) {
  std::string text = "the message names " + join_account(err.holder_domain, err.holder_user) +
                     " as the console user, the tracker has " + join_account(tc.domain, tc.user);
  if (tc.session_id) text += " (session " + std::to_string(*tc.session_id) + ")";
  text += " " + tc.state;
  if (!tc.since.empty()) text += " since " + tc.since;
  return text;
}

ConsoleFacts console_facts(const ErrorFacts& err, const TrackerConsole& tc) {
  ConsoleFacts c;
  json sources = json::object();
  const bool message_holder = !err.holder_user.empty();
  const bool tracker_holder = tc.known && !tc.user.empty();
  const bool disagree = message_holder && tracker_holder &&
                        !same_account(err.holder_domain, err.holder_user, tc.domain, tc.user);
  console_holder(err, tc, c, sources);
  if (tc.known && !disagree) {
    c.holder.session_id = tc.session_id;
    c.holder.state = tc.state;
    c.holder.since = nullable(tc.since);
    if (tc.session_id) sources["session_id"] = "tracker";
    sources["state"] = "tracker";
    if (!tc.since.empty()) sources["since"] = "tracker";
  } else if (!disagree) {
    c.holder.state = tc.state.empty() ? "unknown" : tc.state;
  }
  c.extras["source"] = std::move(sources);
  if (message_holder && tracker_holder && !disagree) c.extras["confirmed_by"] = "tracker";
  if (disagree) {
    c.extras["disagreement"] = disagreement_text(err, tc);
    c.extras["tracker"] = tracker_console_json(tc);
  }
  return c;
}

struct Requester {
  std::string user, domain, address, source, address_source, basis;
  std::optional<std::uint32_t> session_id;
  // Said by the trigger itself (its own fields, or the evidence of a derived event); only these
  // become ECS user.* and source.*, a guess stays under sessionwatch.attempt with its basis.
  bool user_carried = false, address_carried = false;
};

Requester requester_of(const Event& trigger, bool derived_event, const AlertContext* context) {
  const Names& n = Names::get();
  Requester r;
  if (derived_event) {
    r.user.assign(field_or_empty(trigger, n.target_user));
    r.domain.assign(field_or_empty(trigger, n.target_domain));
    r.address.assign(field_or_empty(trigger, n.client_address));
    if (r.address == "LOCAL") r.address.clear();
    if (auto v = parse_uint(field_or_empty(trigger, n.session_id_out)))
      r.session_id = static_cast<std::uint32_t>(*v);
    if (!r.user.empty()) r.source = "tracker";
    if (!r.address.empty()) r.address_source = "tracker";
    r.user_carried = r.address_carried = true;
    return r;
  }
  for (auto [u, d] :
       {std::pair{n.target_user_name, n.target_domain_name}, std::pair{n.user, n.domain_field},
        std::pair{n.param1, n.param2}, std::pair{n.account_name, n.account_domain},
        std::pair{n.account, n.domain_field}, std::pair{n.user_name_field, n.domain_field}}) {
    const std::string_view user = field_or_empty(trigger, u);
    if (user.empty() || user == "-") continue;
    if (user.find('\\') != std::string_view::npos) {
      split_account(user, r.domain, r.user);
    } else {
      r.user.assign(user);
      r.domain.assign(field_or_empty(trigger, d));
    }
    r.source = "event";
    r.user_carried = true;
    break;
  }
  if (r.user.empty()) {
    const std::string_view req = field_or_empty(trigger, n.requester);
    if (!req.empty()) {
      split_account(req, r.domain, r.user);
      r.source = "tracker";
      r.basis = "the account the event was logged as";
    }
  }
  for (FieldId id : {n.ip_address, n.client_address_in, n.param3, n.address}) {
    const std::string_view a = field_or_empty(trigger, id);
    if (a.empty() || a == "-" || a == "LOCAL" || a == "127.0.0.1" || a == "::1") continue;
    r.address.assign(a);
    r.address_source = "event";
    r.address_carried = true;
    break;
  }
  if (r.user.empty() && context && context->recent_refusal) {
    const RefusedAttempt& ra = *context->recent_refusal;
    r.user = ra.user;
    r.domain = ra.domain;
    r.session_id = ra.session_id;
    r.source = "tracker";
    r.basis = "refused console arbitration at " + format_time(ra.time);
    if (r.address.empty() && !ra.address.empty()) {
      r.address = ra.address;
      r.address_source = "tracker";
    }
  }
  return r;
}

// A client address as Windows and tools write it: "10.1.2.3", "10.1.2.3:50123", "fe80::1%12",
// "[fe80::1%12]:3389". Only a valid address (its zone dropped) is an IP: a client name such as
// LAPTOP-BOB is not, and an `ip` field of a collector would reject it.
struct ClientAddress {
  std::string ip;
  std::optional<std::uint16_t> port;
};

std::optional<std::uint16_t> parse_port(std::string_view digits) {
  std::uint16_t port = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return {};
  return port;
}

std::optional<ClientAddress> parse_client_address(std::string_view text) {
  std::string_view host = text;
  std::optional<std::uint16_t> port;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return {};
    const std::string_view after = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!after.empty() && !(after.front() == ':' && (port = parse_port(after.substr(1)))))
      return {};
  } else if (std::count(host.begin(), host.end(), ':') == 1) {  // IPv4 and port
    const auto colon = host.find(':');
    if (!(port = parse_port(host.substr(colon + 1)))) return {};
    host = host.substr(0, colon);
  }
  // Parsed by our own strict parser, not inet_pton: Windows' takes "10.1.2" as 10.1.0.2.
  const std::optional<IpAddress> ip = parse_ip(host);
  if (!ip) return {};
  if (host.find(':') == std::string_view::npos) {
    boost::asio::ip::address_v4::bytes_type v4;
    std::copy(ip->bytes.begin() + 12, ip->bytes.end(), v4.begin());
    return ClientAddress{boost::asio::ip::address_v4(v4).to_string(), port};
  }
  return ClientAddress{boost::asio::ip::address_v6(ip->bytes).to_string(), port};
}

AlertSource source_of(std::string_view address) {
  AlertSource source{std::string(address), {}, {}};
  if (const auto parsed = parse_client_address(address)) {
    source.ip = parsed->ip;
    source.port = parsed->port;
  }
  return source;
}

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

// "DOMAIN\user", or "user" when the domain is unknown; "" when the user is.
std::string account_text(const AlertConsole& holder) {
  if (!holder.user) return {};
  return holder.domain ? *holder.domain + "\\" + *holder.user : *holder.user;
}

// " (locked since ...)": the holder's state, when known.
std::string state_text(const AlertConsole& console) {
  if (!console.state || *console.state == "unknown") return {};
  std::string text = " (" + *console.state;
  if (console.since) text += " since " + *console.since;
  return text + ")";
}

std::string remediation(std::string_view computer, std::uint32_t code,
                        const AlertConsole& console) {
  // A text line may name no computer: say so rather than print an empty name.
  const bool named = !computer.empty();
  const std::string host = named ? std::string(computer) : "<COMPUTER>";
  const std::string where = named ? host : "the computer that logged it (its name is unknown)";
  std::string holder = account_text(console);
  if (holder.empty()) holder = "the user logged on at the console";
  std::string id = "<ID>";
  if (console.session_id) id = std::to_string(static_cast<int>(*console.session_id));
  std::string text;
  if (code == 7062) {
    text = holder + " is logged on to " + where +
           " and only that user or an administrator may log on. ";
  } else {
    text = holder + " holds the console of " + where + state_text(console) + ". ";
  }
  text += "Contact " + holder + " and ask them to log off. ";
  text += "To see who is logged on: quser /server:" + host + " (or qwinsta /server:" + host + "). ";
  text += "An administrator can end that session with: logoff " + id + " /server:" + host;
  if (id == "<ID>") text += " (ID from quser)";
  text += ", or Task Manager > Users > Sign off. ";
  text += "On a server, mstsc /admin connects to the administrative session instead. ";
  text +=
      "Why: client editions allow one interactive session, so a remote logon must take over the "
      "console and only users allowed to disconnect its user may; on servers the policy "
      "\"Restrict Remote Desktop Services users to a single session\" (fSingleSessionPerUser) "
      "makes a user reuse their existing session. Check the logon rights \"Allow log on "
      "locally\" and \"Allow log on through Remote Desktop Services\" of the refused user. ";
  text +=
      "Not this error: access denied (5), 4625 with 0xC000015B (logon type not granted) and 4825 "
      "(not a member of Remote Desktop Users) are permission problems, not a held console.";
  return text;
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

// message: the alert in one sentence, for a collector that shows only that.
std::string alert_message(const RuleInfo& rule, std::string_view computer, std::uint32_t code,
                          const Requester& req, const AlertConsole& console) {
  const std::string where =
      computer.empty() ? std::string("an unnamed computer") : std::string(computer);
  if (code != 7063 && code != 7062) return rule.title + " on " + where;
  std::string who = "A logon";
  if (req.user_carried && !req.user.empty()) who = join_account(req.domain, req.user) + "'s logon";
  if (req.address_carried && !req.address.empty()) who += " from " + req.address;
  if (!req.user_carried && !req.user.empty()) {  // a guess, said as one
    who += " (probably " + join_account(req.domain, req.user) + "'s";
    if (!req.address_carried && !req.address.empty()) who += ", from " + req.address;
    who += ")";
  }
  std::string text = who + " to " + where + " was refused (" + std::to_string(code) + ")";
  const std::string holder = account_text(console);
  if (!holder.empty()) text += ": " + holder + " holds the console" + state_text(console);
  return text;
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

// ---- Built-in detections ----

const RuleInfo& BuiltinDetections::observed_rule() {
  static const RuleInfo rule = [] {
    RuleInfo r;
    r.id = "5e55b0a1-7063-4c0d-9f1e-0b5e55100001";
    r.title = "Console logon refused: 7063/7062 reported by an event";
    r.description =
        "An event carries Win32 error 7063 ERROR_CTX_NO_FORCE_LOGOFF or 7062 "
        "ERROR_CTX_SESSION_IN_USE (as a code, HRESULT, symbol, tool output or message): a logon "
        "was refused because another user holds the console or the session.";
    r.author = "sessionwatch";
    r.level = Level::kHigh;
    r.tags = {"attack.t1021.001"};
    r.source = "builtin";
    return r;
  }();
  return rule;
}

const RuleInfo& BuiltinDetections::inferred_rule() {
  static const RuleInfo rule = [] {
    RuleInfo r;
    r.id = "5e55b0a1-7063-4c0d-9f1e-0b5e55100002";
    r.title = "Console logon refused: console arbitration ended without a session";
    r.description =
        "A remote logon began session arbitration (TS-LSM 41) and ended it (42/40) without "
        "getting a session while another user kept the console: the pattern of 7063 "
        "ERROR_CTX_NO_FORCE_LOGOFF (or 7062 when another user's session was in use).";
    r.author = "sessionwatch";
    r.level = Level::kHigh;
    r.source = "builtin";
    return r;
  }();
  return rule;
}

void BuiltinDetections::on_event(const Event& event, const std::vector<EvidenceRef>& evidence,
                                 const AlertContext* context, std::vector<Alert>& out) const {
  if (!enabled_) return;
  const Names& n = Names::get();
  if (event.channel() == derived::kChannel) {
    if (event.event_id == derived::kArbitrationRefused) {
      out.push_back(build_alert(inferred_rule(), event, evidence, context));
    }
    return;
  }
  const std::string_view code = field_or_empty(event, n.error_code);
  if (code == "7063" || code == "7062") {
    out.push_back(build_alert(observed_rule(), event, evidence, context));
  }
}

// ---- Table ----

namespace {

// "DOMAIN\user from ADDRESS": said by the event, else the tracker's guess (marked so), or "-".
std::string table_requester(const Alert& a) {
  const std::string from = a.source ? " from " + a.source->address : std::string();
  if (a.user) return join_account(a.user->domain.value_or(""), a.user->name) + from;
  if (a.attempt && a.attempt->user) {
    // Not said by the event: the tracker's guess, with its basis in sessionwatch.attempt.
    std::string text = account_text(AlertConsole{a.attempt->user, a.attempt->domain, {}, {}, {}});
    if (a.attempt->address) text += " from " + *a.attempt->address;
    return text + " (guessed)";
  }
  return "-" + from;
}

// "DOMAIN\user #2 (locked)", or "-".
std::string table_holder(const AlertConsole& console) {
  std::string holder = account_text(console);
  if (holder.empty()) return "-";
  if (console.session_id) holder += " #" + std::to_string(*console.session_id);
  if (console.state) holder += " (" + *console.state + ")";
  return holder;
}

}  // namespace

std::string render_alert_table(const std::vector<Alert>& alerts) {
  std::vector<std::array<std::string, 7>> rows;
  rows.push_back({"TIME", "HOST", "REQUESTER", "CONSOLE HOLDER", "SINCE", "DETECTION", "RULE"});
  for (const Alert& a : alerts) {
    const AlertConsole& console = a.console ? *a.console : AlertConsole{};
    const std::string since = console.since.value_or("");
    rows.push_back({format_time(a.time), a.host, table_requester(a), table_holder(console),
                    since.empty() ? "-" : since, a.detection, a.rule_name});
  }
  std::array<std::size_t, 7> width{};
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line.append(width[i] - r[i].size() + 2, ' ');
    }
    out += line;
    out.push_back('\n');
  }
  return out;
}

}  // namespace sw
