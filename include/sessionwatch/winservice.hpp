// The Windows service: `sessionwatch service install|uninstall|start|stop|status` through the
// Service Control Manager, and the service entry point that runs the daemon.
//
// The SCM calls live in agent/platform/windows/service_win32.cpp; argument parsing, command-line
// quoting and the stop state machine are portable and unit-tested everywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::winsvc {

inline constexpr std::string_view kDefaultServiceName = "sessionwatch";
inline constexpr std::string_view kDefaultDisplayName = "sessionwatch event log monitor";
inline constexpr std::string_view kDefaultDescription =
    "Watches Windows logon and session events, detects console logon conflicts (error 7063) "
    "and forwards alerts.";
// The default account: the service's own virtual account, NT SERVICE\<name> (Windows 7 /
// 2008 R2 and later). What it is granted (Event Log Readers, the ProgramData folders) reaches this
// service alone, not every service sharing LocalService.
std::string default_account(std::string_view service_name);

enum class Action { kInstall, kConfigure, kUninstall, kStart, kStop, kStatus, kRun };

struct Command {
  Action action = Action::kStatus;
  std::string name = std::string(kDefaultServiceName);
  std::string config_path;  // install/run: --config PATH (empty: the default path)
  std::string account;      // install: --account NAME (empty: default_account(name))
  std::string password;     // install: --password TEXT (only with --account)
  // install: --password-stdin, the password is the first line of standard input: a password on
  // the command line lands in process-creation events (4688, Sysmon 1) this agent forwards.
  bool password_from_stdin = false;
  // install: the program the service runs; empty = this program (set by tests and installers
  // that register a copy elsewhere).
  std::string executable;
};

// Parses the words after `service`: "install [--config PATH] [--account NAME [--password P]]
// [--name NAME]", "uninstall|start|stop|status [--name NAME]", "run [--config PATH] [--name
// NAME]" (what the SCM starts). False with `error` on anything else.
bool parse_command(const std::vector<std::string>& args, Command& out, std::string& error);
// --password-stdin: the first line of `in` (without its line end) becomes the password.
bool read_password(std::istream& in, Command& command, std::string& error);
std::string usage();

// Quotes one argument so CommandLineToArgvW (and the MS C runtime) reads it back unchanged.
std::string quote_argument(std::string_view arg);
// The service's ImagePath: the quoted executable, then "service run" and the options.
std::string service_command_line(std::string_view exe_path, const Command& install);

// Restart on failure: after 5 s, 30 s, then 60 s; the failure count resets after a day.
struct RecoveryPolicy {
  std::vector<std::chrono::seconds> restart_delays{
      std::chrono::seconds(5), std::chrono::seconds(30), std::chrono::seconds(60)};
  std::chrono::seconds reset_period{std::chrono::hours(24)};
};

// ---- What the service reports to the SCM, decided without the SCM ----

// The SERVICE_CONTROL_* and SERVICE_* values of winsvc.h (the Windows build static_asserts them).
namespace control {
inline constexpr std::uint32_t kStop = 0x1;
inline constexpr std::uint32_t kInterrogate = 0x4;
inline constexpr std::uint32_t kShutdown = 0x5;
inline constexpr std::uint32_t kPreshutdown = 0xF;
}  // namespace control
enum class State : std::uint32_t {
  kStopped = 1,
  kStartPending = 2,
  kStopPending = 3,
  kRunning = 4,
};
std::string_view to_string(State state);

struct StatusReport {
  State state = State::kStartPending;
  std::uint32_t checkpoint = 0;
  std::chrono::milliseconds wait_hint{0};
  std::uint32_t exit_code = 0;  // Win32 exit code when stopped (0 = clean)
  bool accept_stop = false;     // STOP and PRESHUTDOWN are accepted while running only
  friend bool operator==(const StatusReport&, const StatusReport&) = default;
};

// The stop sequence: on the first STOP, SHUTDOWN or PRESHUTDOWN the daemon is asked to drain
// (once); until it returns, STOP_PENDING is reported with a rising checkpoint so the SCM keeps
// waiting.
class Lifecycle {
 public:
  explicit Lifecycle(std::chrono::milliseconds stop_wait_hint = std::chrono::seconds(30))
      : wait_hint_(stop_wait_hint) {}

  StatusReport starting();
  StatusReport running();
  struct ControlResult {
    bool handled = false;       // NO_ERROR to the SCM (else ERROR_CALL_NOT_IMPLEMENTED)
    bool request_stop = false;  // call the daemon's stop function now
    std::optional<StatusReport> report;
  };
  ControlResult on_control(std::uint32_t code);
  // While draining, every wait_hint/3: the next STOP_PENDING report.
  StatusReport still_stopping();
  StatusReport stopped(std::uint32_t exit_code);
  State state() const { return state_; }
  std::chrono::milliseconds wait_hint() const { return wait_hint_; }

 private:
  StatusReport report(State state);
  State state_ = State::kStopped;
  std::uint32_t checkpoint_ = 0;
  std::chrono::milliseconds wait_hint_;
};

// ---- The SCM operations (Windows; elsewhere they fail with a message) ----

struct Result {
  bool ok = false;
  std::string message;  // what happened, or what went wrong and what to do
};

Result install(const Command& command, const RecoveryPolicy& recovery = {});
// Applies install()'s settings (description, delayed start, recovery, preshutdown timeout, event
// log source) to a service another installer created, e.g. the MSI's ServiceInstall.
Result configure(const Command& command, const RecoveryPolicy& recovery = {});
Result uninstall(const Command& command);
Result start(const Command& command);
Result stop(const Command& command, std::chrono::seconds timeout = std::chrono::seconds(60));
Result status(const Command& command);

// What the daemon gives the service entry point.
struct Daemon {
  // Runs until stop() is honoured; returns the process exit code (0 = clean).
  std::function<int()> run;
  // Thread-safe: drain, checkpoint and make run() return.
  std::function<void()> stop;
};

// Connects to the SCM and runs `daemon` as service `name`; returns once it stopped. False with
// `error` when the process was not started by the SCM (ERROR_FAILED_SERVICE_CONTROLLER_CONNECT).
bool run_as_service(std::string_view name, Daemon daemon, std::string& error);

// The service's logs: a rotating file %ProgramData%\sessionwatch\logs\<name>.log (10 MiB x 5)
// and, for warnings and errors, the Application event log under source `name` (registered by
// install()). Registers them as the agent's logger; the daemon then logs there instead of to
// stderr, which a service does not have. False with `error` when neither could be opened; a
// partial failure leaves `error` set and returns true.
bool setup_service_logging(std::string_view name, std::string& error);

// Dispatches `sessionwatch service ...`: prints the result, returns the process exit code.
// `run_daemon` builds the daemon for `service run` from the config path.
int run_command(const std::vector<std::string>& args,
                const std::function<Daemon(const std::string& config_path)>& make_daemon);

}  // namespace sw::winsvc
