#include "session/names.hpp"

namespace sw::session_detail {

const Names& Names::get() {
  static const Names names = [] {
    Names n;
    n.error_code = intern_field("sessionwatch.error_code");
    n.error_symbol = intern_field("sessionwatch.error_symbol");
    n.error_form = intern_field("sessionwatch.error_form");
    n.console_user = intern_field("sessionwatch.console_user");
    n.console_user_name = intern_field("sessionwatch.console_user_name");
    n.console_domain = intern_field("sessionwatch.console_domain");
    n.console_state = intern_field("sessionwatch.console_state");
    n.console_session_id = intern_field("sessionwatch.console_session_id");
    n.console_since = intern_field("sessionwatch.console_since");
    n.host_sessions = intern_field("sessionwatch.host_sessions");
    n.requester = intern_field("sessionwatch.requester");

    n.kind = intern_field("Kind");
    n.target_user = intern_field("TargetUser");
    n.target_domain = intern_field("TargetDomain");
    n.session_id_out = intern_field("SessionID");
    n.logon_id_out = intern_field("LogonID");
    n.console_user_out = intern_field("ConsoleUser");
    n.console_domain_out = intern_field("ConsoleDomain");
    n.console_session_out = intern_field("ConsoleSessionID");
    n.console_state_out = intern_field("ConsoleState");
    n.console_since_out = intern_field("ConsoleSince");
    n.client_address = intern_field("ClientAddress");
    n.client_name = intern_field("ClientName");
    n.activity_out = intern_field("ActivityID");
    n.detection = intern_field("Detection");
    n.error_code_out = intern_field("ErrorCode");
    n.reason_out = intern_field("Reason");
    n.start_time = intern_field("StartTime");
    n.session_name_out = intern_field("SessionName");

    n.user = intern_field("User");
    n.session_id = n.session_id_out;
    n.address = intern_field("Address");
    n.session = intern_field("Session");
    n.reason = n.reason_out;
    n.target_session = intern_field("TargetSession");
    n.source = intern_field("Source");
    n.param1 = intern_field("Param1");
    n.param2 = intern_field("Param2");
    n.param3 = intern_field("Param3");
    n.logon_type = intern_field("LogonType");
    n.target_user_name = intern_field("TargetUserName");
    n.target_domain_name = intern_field("TargetDomainName");
    n.target_user_sid = intern_field("TargetUserSid");
    n.target_logon_id = intern_field("TargetLogonId");
    n.account_name = intern_field("AccountName");
    n.account_domain = intern_field("AccountDomain");
    n.logon_id = n.logon_id_out;
    n.session_name = n.session_name_out;
    n.client_address_in = n.client_address;
    n.client_name_in = n.client_name;
    n.ip_address = intern_field("IpAddress");
    n.ts_id = intern_field("TSId");
    n.user_sid = intern_field("UserSid");
    n.session_id_sec = intern_field("SessionId");
    n.subject_user_name = intern_field("SubjectUserName");
    n.subject_domain_name = intern_field("SubjectDomainName");
    n.account = intern_field("Account");
    n.user_name_field = intern_field("UserName");
    n.domain_field = intern_field("Domain");
    n.param7 = intern_field("param7");
    return n;
  }();
  return names;
}

namespace {
char fold(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}

bool same_account(std::string_view domain_a, std::string_view user_a, std::string_view domain_b,
                  std::string_view user_b) {
  if (user_a.empty() || user_b.empty() || !iequals(user_a, user_b)) return false;
  if (domain_a.empty() || domain_b.empty()) return true;
  // NetBIOS vs DNS domain names ("CORP" vs "corp.example"): compare the first label.
  auto first_label = [](std::string_view d) { return d.substr(0, d.find('.')); };
  return iequals(first_label(domain_a), first_label(domain_b));
}

}  // namespace sw::session_detail
