// The sentences of an alert: its message, the remediation, the error text filled in.
#include "alert/alert_facts.hpp"
#include "session/names.hpp"

namespace sw::alert_detail {

using namespace session_detail;

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

}  // namespace sw::alert_detail
