// `sessionwatch who HOST`: asks the running agent who holds a computer's console, for a person.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/agent_client.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"

namespace sw::cli {

namespace {

using json = nlohmann::json;

constexpr int kExitUnknownHost = 1;
constexpr int kExitNoAgent = 3;
constexpr std::size_t kRefusalsShown = 5;

constexpr const char* kWhoHelp = R"(Usage: sessionwatch who HOST [--agent URL] [--token-file FILE]

Asks the running agent ('sessionwatch run', whose configuration sets metrics.listen) who holds
the console of HOST now, and prints:
  - the holder (DOMAIN\user, session id), the console state (active, locked, disconnected)
    and since when, with the events that said so;
  - the commands that show the sessions and log the holder off (quser, logoff);
  - the open sessions;
  - the last refused logons (7063/7062 observed or inferred): who, from where, when.
HOST is the computer's DNS name or short name, in any case (WS-FIN-07 or
ws-fin-07.corp.example).

Options:
  --agent URL        the agent's API (default http://127.0.0.1:9464, the address of
                     metrics.listen)
  --token-file FILE  the bearer token, when the agent's configuration sets metrics.token or
                     metrics.token_file (an agent listening beyond loopback always does);
                     without it the SESSIONWATCH_TOKEN environment variable is used
  --json             the agent's answers as JSON (console, sessions, refusals) instead of text
  -h, --help         this text

Examples:
  sessionwatch who WS-FIN-07
  sessionwatch who ws-fin-07.corp.example --agent http://10.0.0.5:9464 --token-file ~/.sw-token
  curl -s http://127.0.0.1:9464/v1/hosts/WS-FIN-07/console     # the same, as JSON

Exit status: 0 answered, 1 the agent knows no such computer, 2 usage error, 3 the agent could
not be asked (not running, wrong address, token refused).
)";

std::string text(const json& j, const char* key, const char* absent = "") {
  if (!j.is_object() || !j.contains(key)) return absent;
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return absent;
}

// "2026-11-20T12:15:00.0000000Z" -> "2026-11-20 12:15:00 UTC"
std::string when(const std::string& iso) {
  if (iso.size() < 19) return iso.empty() ? "an unknown time" : iso;
  return iso.substr(0, 10) + " " + iso.substr(11, 8) + " UTC";
}

void print_console(const json& answer) {
  const json& c = answer["console"];
  const std::string host = text(answer, "host");
  const std::string state = text(c, "state", "unknown");
  const std::string holder = text(c, "holder");
  if (holder.empty()) {
    std::printf("%s: %s\n", host.c_str(),
                state == "none" ? "nobody holds the console (it is free)"
                                : "who holds the console is not known yet (no console logon seen)");
  } else {
    const std::string session = text(c, "session_id");
    std::printf("%s: console held by %s%s\n", host.c_str(), holder.c_str(),
                session.empty() ? "" : (" (session " + session + ")").c_str());
    std::printf("  state: %s since %s", state.c_str(), when(text(c, "since")).c_str());
    if (!text(c, "logon_time").empty()) {
      std::printf(", logged on %s", when(text(c, "logon_time")).c_str());
    }
    std::printf("\n");
  }
  std::printf("  as of %s (last change seen %s)\n", when(text(answer, "as_of")).c_str(),
              when(text(answer, "last_change")).c_str());
  if (answer.contains("sources") && !answer["sources"].empty()) {
    const json& s = answer["sources"].back();
    std::printf("  told by: %s event %s", text(s, "channel", "(an event)").c_str(),
                text(s, "event_id", "?").c_str());
    if (!text(s, "record_id").empty()) std::printf(" record %s", text(s, "record_id").c_str());
    if (!text(s, "file").empty()) {
      std::printf(" in %s:%s", text(s, "file").c_str(), text(s, "line", "?").c_str());
    }
    std::printf(" at %s\n", when(text(s, "time")).c_str());
  }
  const json& r = answer["remediation"];
  std::printf("\nReach or log them off:\n");
  std::printf("  %-44s who is logged on, with session ids\n", text(r, "quser").c_str());
  if (!text(r, "logoff").empty()) {
    std::printf("  %-44s ends %s's session (administrators; ask them first)\n",
                text(r, "logoff").c_str(), holder.c_str());
  }
}

void print_sessions(const json& answer) {
  const json& sessions = answer["sessions"];
  std::printf("\nOpen sessions (%zu):\n", sessions.size());
  if (sessions.empty()) return;
  std::printf("  %-5s %-22s %-13s %-18s %s\n", "ID", "USER", "STATE", "FROM", "SINCE");
  for (const json& s : sessions) {
    const std::string user = text(s, "domain").empty()
                                 ? text(s, "user", "?")
                                 : text(s, "domain") + "\\" + text(s, "user", "?");
    std::string from = s.value("console", false) ? "console" : text(s, "address", "");
    if (from.empty()) from = "-";
    std::printf("  %-5s %-22s %-13s %-18s %s\n", text(s, "session_id", "-").c_str(), user.c_str(),
                text(s, "state").c_str(), from.c_str(), when(text(s, "state_since")).c_str());
  }
}

void print_refusals(const json& answer) {
  const json& refusals = answer["refusals"];
  const std::size_t total = answer.value("total", std::size_t{0});
  if (refusals.empty()) {
    std::printf("\nNo refused logon seen.\n");
    return;
  }
  const std::size_t shown = std::min(refusals.size(), kRefusalsShown);
  std::printf("\nLast refused logons (%zu of %zu, newest first):\n", shown, total);
  for (std::size_t i = 0; i < shown; ++i) {
    const json& a = refusals[refusals.size() - 1 - i];
    const std::string address = text(a, "address");
    std::string requester = text(a, "requester");
    if (requester.empty()) requester = "(requester not named)";
    std::printf("  %s  %s%s  %s; holder %s (%s)\n", when(text(a, "time")).c_str(),
                requester.c_str(), address.empty() ? "" : (" from " + address).c_str(),
                text(a, "detection").c_str(), text(a, "holder", "unknown").c_str(),
                text(a, "holder_state", "?").c_str());
  }
}

}  // namespace

int cmd_who(const std::vector<std::string>& args) {
  Args a(args, {"agent", "token-file"}, {"help", "json"}, {{'h', "help"}});
  if (a.flag("help")) {
    std::fputs(kWhoHelp, stdout);
    return kExitOk;
  }
  if (!a.ok() || a.positional().size() != 1) {
    std::fprintf(stderr, "sessionwatch who: %s\n\n%s",
                 !a.ok() ? a.error().c_str() : "name one computer (HOST)", kWhoHelp);
    return kExitUsage;
  }
  AgentEndpoint agent;
  std::string error;
  if (!make_agent_endpoint(a.value("agent").value_or(kDefaultAgentUrl), a.value("token-file"),
                           agent, error)) {
    std::fprintf(stderr, "sessionwatch who: %s\n", error.c_str());
    return kExitUsage;
  }
  const std::string base = "/v1/hosts/" + url_path_segment(a.positional().front());
  json answers = json::object();
  for (const char* what : {"console", "sessions", "refusals"}) {
    AgentAnswer answer;
    if (!agent_get(agent, base + "/" + what, answer, error)) {
      std::fprintf(stderr, "sessionwatch who: %s\n", error.c_str());
      return kExitNoAgent;
    }
    if (answer.status != 200) {
      std::fprintf(stderr, "sessionwatch who: %s\n", agent_error(answer).c_str());
      return answer.status == 404 ? kExitUnknownHost
                                  : (answer.status == 400 ? kExitUsage : kExitNoAgent);
    }
    answers[what] = std::move(answer.body);
  }
  if (a.flag("json")) {
    std::printf("%s\n", answers.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  print_console(answers["console"]);
  print_sessions(answers["sessions"]);
  print_refusals(answers["refusals"]);
  return kExitOk;
}

}  // namespace sw::cli
