// `sessionwatch service ...`: the Windows service (install, uninstall, start, stop, status, and
// `run`, which is what the Service Control Manager starts). The SCM work is in sw_platform
// (winservice.hpp); here the daemon is handed to it: run_daemon to run, request_stop to drain.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "sessionwatch/daemon.hpp"
#include "sessionwatch/platform.hpp"
#include "sessionwatch/winservice.hpp"

namespace sw::cli {

namespace {

constexpr const char* kServiceHelp =
    R"(sessionwatch service - run the agent as a Windows service

Usage:
  sessionwatch service install [--config PATH] [--account NAME [--password-stdin]] [--name NAME]
  sessionwatch service configure|uninstall|start|stop|status [--name NAME]
  sessionwatch service run [--config PATH] [--name NAME]     (what the service manager starts)

install registers the service: automatic (delayed) start, restarted after 5 s, 30 s and 60 s when
it fails, running as its own virtual account NT SERVICE\<name> unless --account is given; the
account is added to the "Event Log Readers" group (by SID) so it can read the Security log, and a
custom account is granted the right to log on as a service. The service keeps no privilege but
SeChangeNotify. --password-stdin reads the
account's password from the first line of standard input (a gMSA, DOMAIN\name$, needs none;
--password P still works but puts the password in process-creation events, 4688 and Sysmon 1,
that this agent forwards). The default configuration is
%ProgramData%\sessionwatch\sessionwatch.yaml; check it first with `sessionwatch check -c PATH`.
configure applies the same settings (delayed start, recovery, a 60 s preshutdown drain, the event
log source) to a service another installer registered; the MSI runs it after installing.

The service stops on STOP, SHUTDOWN and PRESHUTDOWN by draining its queues, delivering alerts to
the spools and writing its checkpoints. It logs to %ProgramData%\sessionwatch\logs\<name>.log
and, for warnings and errors, to the Application event log under the source <name>.

--name NAME runs a second instance under another name (its own data_dir in its config).
On Linux use the systemd unit instead (packaging/systemd).
)";

// The --name value in the arguments, "--name X" or "--name=X" (the service and its log source
// share it), read by the same parser as the command itself.
std::string service_name(const std::vector<std::string>& args) {
  winsvc::Command command;
  std::string error;
  if (!winsvc::parse_command(args, command, error)) return std::string(winsvc::kDefaultServiceName);
  return command.name;
}

}  // namespace

int cmd_service(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "-h" || a == "--help") {
      std::fputs(kServiceHelp, stdout);
      return 0;
    }
  }
  const std::string name = service_name(args);
  return winsvc::run_command(args, [name](const std::string& config_path) {
    winsvc::Daemon daemon;
    const std::string path = config_path.empty() ? platform::default_config_path() : config_path;
    daemon.run = [name, path] {
      std::string error;
      const bool logging = winsvc::setup_service_logging(name, error);
      if (!error.empty()) std::fprintf(stderr, "sessionwatch service: %s\n", error.c_str());
      (void)logging;  // without a log the service still runs; the SCM shows its exit code
      return run_daemon(path);
    };
    daemon.stop = [] { platform::request_stop("service stop"); };
    return daemon;
  });
}

}  // namespace sw::cli
