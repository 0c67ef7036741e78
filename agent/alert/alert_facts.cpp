// What an alert says and where each fact came from: the error the trigger carries, the console
// holder the message names or the tracker knew, and who was refused.
#include "alert/alert_facts.hpp"

#include "session/names.hpp"
#include "sessionwatch/error_catalog.hpp"

namespace sw::alert_detail {

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

}  // namespace

std::string_view field_or_empty(const Event& e, FieldId id) {
  auto v = e.payload(id);
  return v ? *v : std::string_view();
}

json text_or_null(std::string_view s) {
  return s.empty() ? json(nullptr) : json(std::string(s));
}

NullableText nullable(std::string_view s) {
  return s.empty() ? NullableText() : NullableText(std::string(s));
}

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

namespace {

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

}  // namespace

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

}  // namespace sw::alert_detail
