// sessionwatch: the command-line entry point. Each subcommand lives in its own cmd_*.cpp.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "sessionwatch/daemon.hpp"

namespace {

constexpr const char* kUsage =
    R"(sessionwatch - who holds the console when a logon is refused with error 7063

Windows refuses a remote or administrative logon with ERROR_CTX_NO_FORCE_LOGOFF (7063, 0x1B97)
when someone else holds the console. sessionwatch reads Windows session events, tracks who is
logged on where, recognizes 7063 (and 7062) in every form it reaches a log, and raises an alert
that says who holds the console, since when, who was refused, from where, and what to do.

Usage: sessionwatch <command> [options]

Commands:
  demo                 Run the agent once over the sample bundled in the binary (a day on one
                       workstation where a locked console blocks remote logons) and print the
                       alerts it delivered.
  scan FILE...         Decode EVTX, Event XML, JSON lines (Winlogbeat/NXLog) or text files ('-' is
                       standard input) and print alerts, events (--events) or counts (--stats).
  report -o FILE.html FILE...
                       Draw the same files as one self-contained HTML page: per computer who
                       held the console when, remote sessions, refused logons; a summary on top.
  report --from-agent URL -o FILE.html
                       The same page drawn from a running agent's state (who holds each
                       console now, open sessions, recent refusals).
  who HOST [--agent URL]
                       Ask the running agent who holds HOST's console, since when, how to reach
                       or log them off, and who was refused lately.
  run [-c FILE] [--once]
                       Run the agent: follow the configured inputs, raise alerts to the outputs
                       (default config /etc/sessionwatch/sessionwatch.yaml); --once reads the
                       inputs to their end, delivers the alerts and exits (a backfill).
  check [-c FILE]      Validate the configuration and rules and print what would run.
  service ACTION       Windows: install, uninstall, start, stop or show the service that runs
                       the agent (sessionwatch service --help).
  rules check DIR...   Check Sigma rules; every problem with file:line:column.
  rules test --rules DIR FILE...
                       Which rule fired on which event, with the fields that matched.
  rules xpath [--rules DIR]
                       Print the Event Log query (QueryList XML) that an eventlog input with
                       `event_ids: auto` subscribes with.
  version              Print the version and the libraries it was built with.
  help [COMMAND]       Show this text, or a command's own help.

Examples:
  sessionwatch demo
  sessionwatch scan Security.evtx TerminalServices-LocalSessionManager.evtx
  sessionwatch scan --stats forwarded.jsonl
  sessionwatch report -o console.html Security.evtx TerminalServices-LocalSessionManager.evtx
  sessionwatch who WS-FIN-07
  wevtutil qe Security /f:xml | sessionwatch scan --events -
  sessionwatch check -c /etc/sessionwatch/sessionwatch.yaml
  sessionwatch help scan

Files:
  /etc/sessionwatch/sessionwatch.yaml   the agent's configuration (Linux packages)
  /usr/share/sessionwatch/rules         the shipped Sigma rules; local ones in /etc/sessionwatch/rules.d
  /var/lib/sessionwatch                 checkpoints, session state and spools (data_dir)

Exit status: 0 success, 1 some records could not be decoded (the rest were), 2 usage error.
)";

using Handler = int (*)(const std::vector<std::string>&);

struct Command {
  const char* name;
  Handler run;
};

// Every command, in the order `help` lists them; `help NAME` and dispatch both read this table.
constexpr Command kCommands[] = {
    {"demo", sw::cli::cmd_demo},       {"scan", sw::cli::cmd_scan},
    {"report", sw::cli::cmd_report},   {"who", sw::cli::cmd_who},
    {"run", sw::run_command},          {"check", sw::check_command},
    {"service", sw::cli::cmd_service}, {"rules", sw::cli::cmd_rules},
    {"version", sw::cli::cmd_version},
};

const Command* find_command(const std::string& name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

int help(const std::vector<std::string>& rest) {
  if (rest.empty() || rest.front() == "help") {
    std::fputs(kUsage, stdout);
    return sw::cli::kExitOk;
  }
  if (const Command* c = find_command(rest.front())) return c->run({"--help"});
  std::fprintf(stderr, "sessionwatch: no command '%s'\n\n", rest.front().c_str());
  std::fputs(kUsage, stderr);
  return sw::cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return sw::cli::kExitUsage;
  }
  const std::string command = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());

  if (command == "-h" || command == "--help" || command == "help") return help(rest);
  if (command == "--version") return sw::cli::cmd_version(rest);
  if (const Command* c = find_command(command)) return c->run(rest);

  std::fprintf(stderr, "sessionwatch: unknown command '%s' (try 'sessionwatch help')\n",
               command.c_str());
  return sw::cli::kExitUsage;
}
