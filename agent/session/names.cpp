#include "session/names.hpp"

namespace sw::session_detail {

const Names& Names::get() {
  static const Names names;
  return names;
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
