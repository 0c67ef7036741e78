#include "sessionwatch/alert_table.hpp"

#include <algorithm>
#include <array>

#include "alert/alert_facts.hpp"
#include "session/names.hpp"

namespace sw {

using namespace session_detail;
using alert_detail::account_text;

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
