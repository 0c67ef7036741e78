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
  version              Print the version and the libraries it was built with.
  help [COMMAND]       Show this text, or a command's own help.

Examples:
  sessionwatch demo
  sessionwatch scan Security.evtx TerminalServices-LocalSessionManager.evtx
  sessionwatch scan --stats forwarded.jsonl
  wevtutil qe Security /f:xml | sessionwatch scan --events -

Exit status: 0 success, 1 some records could not be decoded (the rest were), 2 usage error.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return sw::cli::kExitUsage;
  }
  const std::string command = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());

  if (command == "-h" || command == "--help" || command == "help") {
    if (!rest.empty() && rest.front() != "help") {
      std::vector<std::string> help_args{"--help"};
      const std::string& sub = rest.front();
      if (sub == "scan") return sw::cli::cmd_scan(help_args);
      if (sub == "demo") return sw::cli::cmd_demo(help_args);
      if (sub == "version") return sw::cli::cmd_version(help_args);
      if (sub == "rules") return sw::cli::cmd_rules(help_args);
      if (sub == "run") return sw::run_command(help_args);
      if (sub == "check") return sw::check_command(help_args);
      if (sub == "service") return sw::cli::cmd_service(help_args);
      std::fprintf(stderr, "sessionwatch: no command '%s'\n\n", sub.c_str());
      std::fputs(kUsage, stderr);
      return sw::cli::kExitUsage;
    }
    std::fputs(kUsage, stdout);
    return sw::cli::kExitOk;
  }
  if (command == "--version" || command == "version") return sw::cli::cmd_version(rest);
  if (command == "scan") return sw::cli::cmd_scan(rest);
  if (command == "demo") return sw::cli::cmd_demo(rest);
  if (command == "rules") return sw::cli::cmd_rules(rest);
  if (command == "run") return sw::run_command(rest);
  if (command == "check") return sw::check_command(rest);
  if (command == "service") return sw::cli::cmd_service(rest);

  std::fprintf(stderr, "sessionwatch: unknown command '%s' (try 'sessionwatch help')\n",
               command.c_str());
  return sw::cli::kExitUsage;
}
