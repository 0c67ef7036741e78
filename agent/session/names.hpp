// Interned field ids the session module reads and writes, looked up once.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "sessionwatch/event.hpp"

namespace sw::session_detail {

struct Names {
  // Enrichment (the contract with the rules, see docs/sessions.md).
  FieldId error_code, error_symbol, error_form, console_user, console_user_name, console_domain,
      console_state, console_session_id, console_since, host_sessions, requester;
  // Derived events.
  FieldId kind, target_user, target_domain, session_id_out, logon_id_out, console_user_out,
      console_domain_out, console_session_out, console_state_out, console_since_out, client_address,
      client_name, activity_out, detection, error_code_out, reason_out, start_time,
      session_name_out;
  // Windows payload fields read by the tracker.
  FieldId user, session_id, address, session, reason, target_session, source, param1, param2,
      param3, logon_type, target_user_name, target_domain_name, target_user_sid, target_logon_id,
      account_name, account_domain, logon_id, session_name, client_address_in, client_name_in,
      ip_address, ts_id, user_sid, session_id_sec, subject_user_name, subject_domain_name, account,
      user_name_field, domain_field, param7;

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

inline std::string join_account(std::string_view domain, std::string_view user) {
  if (user.empty()) return {};
  if (domain.empty()) return std::string(user);
  std::string out(domain);
  out.push_back('\\');
  out.append(user);
  return out;
}

bool iequals(std::string_view a, std::string_view b);
// Same account: user names equal ignoring case, and domains equal when both are known.
bool same_account(std::string_view domain_a, std::string_view user_a, std::string_view domain_b,
                  std::string_view user_b);

}  // namespace sw::session_detail
