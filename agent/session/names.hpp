// Interned field ids the session module reads and writes, looked up once.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "sessionwatch/event.hpp"
#include "sessionwatch/text.hpp"

namespace sw::session_detail {

// Each member interns its field once, when the first get() builds the one instance.
struct Names {
  // Enrichment (the contract with the rules, see docs/sessions.md).
  const FieldId error_code = intern_field("sessionwatch.error_code");
  const FieldId error_symbol = intern_field("sessionwatch.error_symbol");
  const FieldId error_form = intern_field("sessionwatch.error_form");
  const FieldId console_user = intern_field("sessionwatch.console_user");
  const FieldId console_user_name = intern_field("sessionwatch.console_user_name");
  const FieldId console_domain = intern_field("sessionwatch.console_domain");
  const FieldId console_state = intern_field("sessionwatch.console_state");
  const FieldId console_session_id = intern_field("sessionwatch.console_session_id");
  const FieldId console_since = intern_field("sessionwatch.console_since");
  const FieldId host_sessions = intern_field("sessionwatch.host_sessions");
  const FieldId requester = intern_field("sessionwatch.requester");
  // Derived events.
  const FieldId kind = intern_field("Kind");
  const FieldId target_user = intern_field("TargetUser");
  const FieldId target_domain = intern_field("TargetDomain");
  const FieldId session_id_out = intern_field("SessionID");
  const FieldId logon_id_out = intern_field("LogonID");
  const FieldId console_user_out = intern_field("ConsoleUser");
  const FieldId console_domain_out = intern_field("ConsoleDomain");
  const FieldId console_session_out = intern_field("ConsoleSessionID");
  const FieldId console_state_out = intern_field("ConsoleState");
  const FieldId console_since_out = intern_field("ConsoleSince");
  const FieldId client_address = intern_field("ClientAddress");
  const FieldId client_name = intern_field("ClientName");
  const FieldId activity_out = intern_field("ActivityID");
  const FieldId detection = intern_field("Detection");
  const FieldId error_code_out = intern_field("ErrorCode");
  const FieldId reason_out = intern_field("Reason");
  const FieldId start_time = intern_field("StartTime");
  const FieldId session_name_out = intern_field("SessionName");
  // Windows payload fields read by the tracker.
  const FieldId user = intern_field("User");
  const FieldId address = intern_field("Address");
  const FieldId session = intern_field("Session");
  const FieldId target_session = intern_field("TargetSession");
  const FieldId param1 = intern_field("Param1");
  const FieldId param2 = intern_field("Param2");
  const FieldId param3 = intern_field("Param3");
  const FieldId logon_type = intern_field("LogonType");
  const FieldId target_user_name = intern_field("TargetUserName");
  const FieldId target_domain_name = intern_field("TargetDomainName");
  const FieldId target_user_sid = intern_field("TargetUserSid");
  const FieldId target_logon_id = intern_field("TargetLogonId");
  const FieldId account_name = intern_field("AccountName");
  const FieldId account_domain = intern_field("AccountDomain");
  const FieldId ip_address = intern_field("IpAddress");
  const FieldId ts_id = intern_field("TSId");
  const FieldId user_sid = intern_field("UserSid");
  const FieldId session_id_sec = intern_field("SessionId");
  const FieldId account = intern_field("Account");
  const FieldId user_name_field = intern_field("UserName");
  const FieldId domain_field = intern_field("Domain");

  // The same fields, by the names their readers know them by.
  const FieldId session_id = session_id_out;
  const FieldId reason = reason_out;
  const FieldId logon_id = logon_id_out;
  const FieldId session_name = session_name_out;
  const FieldId client_address_in = client_address;
  const FieldId client_name_in = client_name;

  static const Names& get();
};

inline std::string_view payload_or_empty(const Event& e, FieldId id) {
  auto v = e.payload(id);
  return v ? *v : std::string_view();
}

inline std::optional<std::uint32_t> parse_u32(std::string_view s) {
  auto v = parse_uint(s);
  if (!v || *v > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

// "DOMAIN\user" -> (domain, user); "user" -> ("", user).
inline void split_account(std::string_view text, std::string& domain, std::string& user) {
  const auto slash = text.find('\\');
  if (slash == std::string_view::npos) {
    domain.clear();
    user.assign(text);
  } else {
    domain.assign(text.substr(0, slash));
    user.assign(text.substr(slash + 1));
  }
}

// "DOMAIN\\user" (or the user alone) appended to `out`; nothing without a user.
inline void append_account(std::string& out, std::string_view domain, std::string_view user) {
  if (user.empty()) return;
  if (!domain.empty()) {
    out.append(domain);
    out.push_back('\\');
  }
  out.append(user);
}

inline std::string join_account(std::string_view domain, std::string_view user) {
  std::string out;
  out.reserve(domain.size() + 1 + user.size());
  append_account(out, domain, user);
  return out;
}

using text::iequals;
// Same account: user names equal ignoring case, and domains equal when both are known.
bool same_account(std::string_view domain_a, std::string_view user_a, std::string_view domain_b,
                  std::string_view user_b);

}  // namespace sw::session_detail
