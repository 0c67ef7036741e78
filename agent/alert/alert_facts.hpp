// The facts an alert states, each with where it came from (event | message | tracker), and the
// sentences built from them. Internal to the alert module: alert_builder.cpp assembles them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sessionwatch/alert.hpp"
#include "sessionwatch/event.hpp"
#include "sessionwatch/session.hpp"

namespace sw::alert_detail {

// The tracker's enrichment fields (docs/sessions.md): not part of the event as logged.
inline constexpr std::string_view kEnrichmentPrefix = "sessionwatch.";

std::string_view field_or_empty(const Event& e, FieldId id);
nlohmann::json text_or_null(std::string_view s);
NullableText nullable(std::string_view s);

// The error the trigger carries (code, symbol, where it was found) and the holder its message
// names.
struct ErrorFacts {
  std::uint32_t code = 0;
  std::string symbol, form, field, matched, message_template;
  std::string holder_user, holder_domain;  // from the message text
};
ErrorFacts error_facts(const Event& trigger, bool derived_event);

// The console holder the tracker knew, from the trigger's own fields (set by the tracker when
// the event went through it) or else from the context.
struct TrackerConsole {
  bool known = false;
  std::string user, domain, state, since;
  std::optional<std::uint32_t> session_id;
};
TrackerConsole tracker_console(const Event& trigger, bool derived_event,
                               const AlertContext* context);

// sessionwatch.console: who holds it (typed) and, as extras, where each part came from and
// what the tracker said when the message disagrees with it.
struct ConsoleFacts {
  AlertConsole holder;
  nlohmann::json extras = nlohmann::json::object();
};
// The holder the message names, else the one the tracker knew; a disagreement is kept.
ConsoleFacts console_facts(const ErrorFacts& err, const TrackerConsole& tc);

// Who was refused: said by the event, or the tracker's guess with its basis.
struct Requester {
  std::string user, domain, address, source, address_source, basis;
  std::optional<std::uint32_t> session_id;
  // Said by the trigger itself (its own fields, or the evidence of a derived event); only these
  // become ECS user.* and source.*, a guess stays under sessionwatch.attempt with its basis.
  bool user_carried = false, address_carried = false;
};

Requester requester_of(const Event& trigger, bool derived_event, const AlertContext* context);

// source.*: the address as written, and its IP and port when it is a valid address.
AlertSource source_of(std::string_view address);

// "DOMAIN\user", or "user" when the domain is unknown; "" when the user is.
std::string account_text(const AlertConsole& holder);
// " (locked since ...)": the holder's state, when known.
std::string state_text(const AlertConsole& console);
// A message template's %s slots filled with domain and user in turn.
std::string fill_template(std::string_view tmpl, std::string_view domain, std::string_view user);
// What to do about a refused console logon, and why it happens.
std::string remediation(std::string_view computer, std::uint32_t code, const AlertConsole& console);
// message: the alert in one sentence, for a collector that shows only that.
std::string alert_message(const RuleInfo& rule, std::string_view computer, std::uint32_t code,
                          const Requester& req, const AlertConsole& console);

}  // namespace sw::alert_detail
