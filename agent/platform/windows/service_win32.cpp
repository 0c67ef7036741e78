// The Service Control Manager calls behind sessionwatch/winservice.hpp. Every decision about what
// to report lives in winsvc::Lifecycle (service_logic.cpp); this file only talks to the SCM.
#include <windows.h>

#include <lm.h>
#include <ntsecapi.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/windows/win32_text.hpp"
#include "sessionwatch/platform.hpp"
#include "sessionwatch/text.hpp"
#include "sessionwatch/winservice.hpp"

namespace sw::winsvc {

static_assert(control::kStop == SERVICE_CONTROL_STOP);
static_assert(control::kInterrogate == SERVICE_CONTROL_INTERROGATE);
static_assert(control::kShutdown == SERVICE_CONTROL_SHUTDOWN);
static_assert(control::kPreshutdown == SERVICE_CONTROL_PRESHUTDOWN);
static_assert(static_cast<DWORD>(State::kStopped) == SERVICE_STOPPED);
static_assert(static_cast<DWORD>(State::kStartPending) == SERVICE_START_PENDING);
static_assert(static_cast<DWORD>(State::kStopPending) == SERVICE_STOP_PENDING);
static_assert(static_cast<DWORD>(State::kRunning) == SERVICE_RUNNING);

namespace {

using win32::describe;
using win32::widen;

struct ScHandle {
  SC_HANDLE handle = nullptr;
  explicit ScHandle(SC_HANDLE h) : handle(h) {}
  ScHandle(const ScHandle&) = delete;
  ScHandle& operator=(const ScHandle&) = delete;
  ~ScHandle() {
    if (handle != nullptr) CloseServiceHandle(handle);
  }
  explicit operator bool() const { return handle != nullptr; }
};

std::string access_hint(DWORD code) {
  return code == ERROR_ACCESS_DENIED ? " (run it from an elevated prompt: Run as administrator)"
                                     : "";
}

// Opens the SCM and the named service; on failure `result` says why.
bool open_service(const Command& command, DWORD access, std::unique_ptr<ScHandle>& scm,
                  std::unique_ptr<ScHandle>& service, Result& result) {
  scm = std::make_unique<ScHandle>(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!*scm) {
    const DWORD code = GetLastError();
    result = {false, describe("cannot open the Service Control Manager", code) + access_hint(code)};
    return false;
  }
  service =
      std::make_unique<ScHandle>(OpenServiceW(scm->handle, widen(command.name).c_str(), access));
  if (!*service) {
    const DWORD code = GetLastError();
    result = {false, code == ERROR_SERVICE_DOES_NOT_EXIST
                         ? "service '" + command.name + "' is not installed"
                         : describe("cannot open service '" + command.name + "'", code) +
                               access_hint(code)};
    return false;
  }
  return true;
}

std::optional<SERVICE_STATUS_PROCESS> query(SC_HANDLE service) {
  SERVICE_STATUS_PROCESS status{};
  DWORD needed = 0;
  if (!QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&status),
                            sizeof status, &needed)) {
    return std::nullopt;
  }
  return status;
}

// Polls until the service reaches `target` or `timeout` passes, honouring its wait hints.
bool wait_for_either(SC_HANDLE service, DWORD target, DWORD other,
                     std::chrono::milliseconds timeout, DWORD& last_state) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto status = query(service);
    if (!status) return false;
    last_state = status->dwCurrentState;
    if (last_state == target || last_state == other) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // A tenth of the wait hint, between 100 ms and 1 s, as the SCM documentation advises.
    const DWORD step = std::clamp<DWORD>(status->dwWaitHint / 10, 100, 1000);
    Sleep(step);
  }
}

// Why a stopped service stopped, from its exit codes (run_daemon's: 1 could not start, 2
// invalid configuration or refused rules).
std::string exit_reason(const SERVICE_STATUS_PROCESS& status) {
  if (status.dwWin32ExitCode != ERROR_SERVICE_SPECIFIC_ERROR) {
    return win32::error_text(status.dwWin32ExitCode);
  }
  const DWORD code = status.dwServiceSpecificExitCode;
  std::string text = "sessionwatch exit code " + std::to_string(code);
  if (code == 1) text += " (could not start)";
  if (code == 2) text += " (invalid configuration or refused rules)";
  return text;
}

bool wait_for_state(SC_HANDLE service, DWORD target, std::chrono::milliseconds timeout,
                    DWORD& last_state) {
  return wait_for_either(service, target, target, timeout, last_state);
}

std::string state_name(DWORD state) {
  switch (state) {
    case SERVICE_STOPPED:
      return "stopped";
    case SERVICE_START_PENDING:
      return "starting";
    case SERVICE_STOP_PENDING:
      return "stopping";
    case SERVICE_RUNNING:
      return "running";
    case SERVICE_CONTINUE_PENDING:
      return "continuing";
    case SERVICE_PAUSE_PENDING:
      return "pausing";
    case SERVICE_PAUSED:
      return "paused";
  }
  return "state " + std::to_string(state);
}

// Applies one ChangeServiceConfig2 setting; failures are collected, not fatal (the service runs
// without them, and older systems or wine lack some).
void configure(SC_HANDLE service, DWORD level, void* info, std::string_view what,
               std::vector<std::string>& problems) {
  if (!ChangeServiceConfig2W(service, level, info)) {
    problems.push_back(describe(std::string("could not set ") + std::string(what), GetLastError()));
  }
}

}  // namespace

// The Application event log source the service logs under: its messages come from the
// message table linked into sessionwatch.exe (one message, "%1", id 1000 as spdlog reports).
std::wstring event_source_key(std::string_view name) {
  return L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\" + widen(name);
}

void register_event_source(std::string_view name, const std::wstring& exe,
                           std::vector<std::string>& problems) {
  HKEY key = nullptr;
  LSTATUS code = RegCreateKeyExW(HKEY_LOCAL_MACHINE, event_source_key(name).c_str(), 0, nullptr, 0,
                                 KEY_SET_VALUE, nullptr, &key, nullptr);
  if (code == ERROR_SUCCESS) {
    const DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    code = RegSetValueExW(key, L"EventMessageFile", 0, REG_EXPAND_SZ,
                          reinterpret_cast<const BYTE*>(exe.c_str()),
                          static_cast<DWORD>((exe.size() + 1) * sizeof(wchar_t)));
    if (code == ERROR_SUCCESS) {
      code = RegSetValueExW(key, L"TypesSupported", 0, REG_DWORD,
                            reinterpret_cast<const BYTE*>(&types), sizeof types);
    }
    RegCloseKey(key);
  }
  if (code != ERROR_SUCCESS) {
    problems.push_back(
        describe("cannot register the event log source (its log lines will show "
                 "without a message description)",
                 static_cast<DWORD>(code)));
  }
}

void unregister_event_source(std::string_view name) {
  RegDeleteKeyW(HKEY_LOCAL_MACHINE, event_source_key(name).c_str());
}

// What install() sets beyond CreateService, and what configure() re-applies to a service an
// installer (the MSI) created: one place, so both ways of installing give the same service.
// A user or managed service account, not a built-in or virtual one (those may log on as
// services already).
static bool is_custom_account(std::string_view account) {
  auto starts = [&](std::string_view prefix) { return text::istarts_with(account, prefix); };
  return !account.empty() && !starts("NT SERVICE\\") && !starts("NT AUTHORITY\\") &&
         !starts("LocalSystem");
}

// The account a service runs as, from its configuration.
static std::wstring service_account(SC_HANDLE service) {
  DWORD needed = 0;
  QueryServiceConfigW(service, nullptr, 0, &needed);
  std::vector<BYTE> buffer(needed);
  auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
  if (needed == 0 || !QueryServiceConfigW(service, config, needed, &needed) ||
      config->lpServiceStartName == nullptr) {
    return {};
  }
  return config->lpServiceStartName;
}

// Reading the Security log takes membership of Event Log Readers (S-1-5-32-573), found by SID:
// its name is localized. Both installers (install.ps1, the MSI through `service configure`) grant
// it; "Manage auditing and security log" is not needed (it can clear the log).
static void grant_event_log_readers(const std::wstring& account,
                                    std::vector<std::string>& problems) {
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD sid_size = sizeof sid;
  wchar_t domain[256];
  DWORD domain_size = 256;
  SID_NAME_USE use{};
  if (!LookupAccountNameW(nullptr, account.c_str(), sid, &sid_size, domain, &domain_size, &use)) {
    problems.push_back(
        describe("cannot look up " + win32::narrow(account) + " to add it to Event Log Readers",
                 GetLastError()));
    return;
  }
  PSID readers = nullptr;
  SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
  wchar_t group[256];
  DWORD group_size = 256;
  domain_size = 256;
  if (!AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID,
                                DOMAIN_ALIAS_RID_EVENT_LOG_READERS_GROUP, 0, 0, 0, 0, 0, 0,
                                &readers)) {
    problems.push_back(describe("cannot build the Event Log Readers SID", GetLastError()));
    return;
  }
  const bool named =
      LookupAccountSidW(nullptr, readers, group, &group_size, domain, &domain_size, &use) != 0;
  FreeSid(readers);
  if (!named) {
    problems.push_back(describe("cannot find the Event Log Readers group", GetLastError()));
    return;
  }
  LOCALGROUP_MEMBERS_INFO_0 member{sid};
  const NET_API_STATUS status =
      NetLocalGroupAddMembers(nullptr, group, 0, reinterpret_cast<BYTE*>(&member), 1);
  if (status != NERR_Success && status != ERROR_MEMBER_IN_ALIAS) {
    problems.push_back(describe("cannot add " + win32::narrow(account) + " to " +
                                    win32::narrow(group) + " (it cannot read the Security log)",
                                status));
  }
}

// A custom account needs the right to log on as a service, or the start fails with 1069.
static void grant_service_logon(const std::wstring& account, std::vector<std::string>& problems) {
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD sid_size = sizeof sid;
  wchar_t domain[256];
  DWORD domain_size = 256;
  SID_NAME_USE use{};
  if (!LookupAccountNameW(nullptr, account.c_str(), sid, &sid_size, domain, &domain_size, &use)) {
    problems.push_back(describe("cannot look up " + win32::narrow(account), GetLastError()));
    return;
  }
  LSA_OBJECT_ATTRIBUTES attributes{};
  LSA_HANDLE policy = nullptr;
  NTSTATUS status =
      LsaOpenPolicy(nullptr, &attributes, POLICY_LOOKUP_NAMES | POLICY_CREATE_ACCOUNT, &policy);
  if (status == 0) {
    wchar_t right[] = L"SeServiceLogonRight";
    LSA_UNICODE_STRING name{static_cast<USHORT>(wcslen(right) * sizeof(wchar_t)),
                            static_cast<USHORT>(sizeof right), right};
    status = LsaAddAccountRights(policy, sid, &name, 1);
    LsaClose(policy);
  }
  if (status != 0) {
    problems.push_back(describe("cannot grant " + win32::narrow(account) +
                                    " the right to log on as a service (start fails with 1069)",
                                LsaNtStatusToWinError(status)));
  }
}

static void apply_settings(SC_HANDLE service, const std::string& name, const std::wstring& exe,
                           const RecoveryPolicy& recovery, std::vector<std::string>& problems) {
  std::wstring description = widen(kDefaultDescription);
  SERVICE_DESCRIPTIONW desc{description.data()};
  configure(service, SERVICE_CONFIG_DESCRIPTION, &desc, "the description", problems);
  SERVICE_DELAYED_AUTO_START_INFO delayed{TRUE};
  configure(service, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &delayed, "delayed start", problems);
  std::vector<SC_ACTION> actions;
  for (const auto delay : recovery.restart_delays) {
    actions.push_back({SC_ACTION_RESTART, static_cast<DWORD>(delay.count() * 1000)});
  }
  SERVICE_FAILURE_ACTIONSW failure{};
  failure.dwResetPeriod = static_cast<DWORD>(recovery.reset_period.count());
  failure.cActions = static_cast<DWORD>(actions.size());
  failure.lpsaActions = actions.data();
  configure(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failure, "recovery actions", problems);
  // Also restart when the service stops itself with an error, not only when it crashes.
  SERVICE_FAILURE_ACTIONS_FLAG failure_flag{TRUE};
  configure(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &failure_flag, "recovery on error exit",
            problems);
  // The drain needs more than the 20 s SHUTDOWN gives; PRESHUTDOWN waits this long.
  SERVICE_PRESHUTDOWN_INFO preshutdown{60'000};
  configure(service, SERVICE_CONFIG_PRESHUTDOWN_INFO, &preshutdown, "the preshutdown timeout",
            problems);
  // Least privilege: the service's own SID in its token (what a virtual account is granted), and
  // no privilege but SeChangeNotify (no SeImpersonate and the like LocalService would carry).
  SERVICE_SID_INFO sid_info{SERVICE_SID_TYPE_UNRESTRICTED};
  configure(service, SERVICE_CONFIG_SERVICE_SID_INFO, &sid_info, "the service SID", problems);
  static wchar_t kRequiredPrivileges[] = L"SeChangeNotifyPrivilege\0";
  SERVICE_REQUIRED_PRIVILEGES_INFOW privileges{kRequiredPrivileges};
  configure(service, SERVICE_CONFIG_REQUIRED_PRIVILEGES_INFO, &privileges,
            "the required privileges", problems);
  if (const std::wstring account = service_account(service); !account.empty()) {
    grant_event_log_readers(account, problems);
  }
  register_event_source(name, exe, problems);
}

Result install(const Command& command, const RecoveryPolicy& recovery) {
  ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE));
  if (!scm) {
    const DWORD code = GetLastError();
    return {false, describe("cannot open the Service Control Manager", code) + access_hint(code)};
  }
  const std::wstring exe =
      command.executable.empty() ? win32::module_path() : widen(command.executable);
  if (exe.empty()) return {false, describe("cannot find this program's path", GetLastError())};
  const std::wstring image_path = widen(service_command_line(win32::narrow(exe), command));
  const std::wstring name = widen(command.name);
  // Display names must be unique too: a second instance carries its name.
  const std::wstring display =
      widen(command.name == kDefaultServiceName
                ? std::string(kDefaultDisplayName)
                : std::string(kDefaultDisplayName) + " (" + command.name + ")");
  const std::string account_name =
      command.account.empty() ? default_account(command.name) : command.account;
  const std::wstring account = widen(account_name);
  const std::wstring password = widen(command.password);
  // The Event Log service must run first: the source subscribes to it at start.
  static const wchar_t kDependencies[] = L"EventLog\0";
  ScHandle service(CreateServiceW(
      scm.handle, name.c_str(), display.c_str(), SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
      SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, image_path.c_str(), nullptr, nullptr, kDependencies,
      account.c_str(), password.empty() ? nullptr : password.c_str()));
  if (!service) {
    const DWORD code = GetLastError();
    if (code == ERROR_SERVICE_EXISTS) {
      return {false, "service '" + command.name +
                         "' is already installed (uninstall it first to change its settings)"};
    }
    return {false,
            describe("cannot create service '" + command.name + "'", code) + access_hint(code)};
  }

  std::vector<std::string> problems;
  if (is_custom_account(command.account)) grant_service_logon(account, problems);
  apply_settings(service.handle, command.name, exe, recovery, problems);

  std::string message = "installed service '" + command.name + "' (automatic, delayed start, as " +
                        account_name + "): " + win32::narrow(image_path);
  for (const std::string& p : problems) message += "\nwarning: " + p;
  return {true, message};
}

Result configure(const Command& command, const RecoveryPolicy& recovery) {
  std::unique_ptr<ScHandle> scm, service;
  Result result;
  if (!open_service(command, SERVICE_CHANGE_CONFIG | SERVICE_QUERY_CONFIG, scm, service, result)) {
    return result;
  }
  const std::wstring exe =
      command.executable.empty() ? win32::module_path() : widen(command.executable);
  std::vector<std::string> problems;
  apply_settings(service->handle, command.name, exe, recovery, problems);
  std::string message = "configured service '" + command.name +
                        "': description, delayed start, restart after failure, 60 s preshutdown "
                        "drain, event log source";
  for (const std::string& p : problems) message += "\nwarning: " + p;
  return {true, message};
}

Result uninstall(const Command& command) {
  std::unique_ptr<ScHandle> scm, service;
  Result result;
  if (!open_service(command, DELETE | SERVICE_STOP | SERVICE_QUERY_STATUS, scm, service, result)) {
    return result;
  }
  const auto status = query(service->handle);
  if (status && status->dwCurrentState != SERVICE_STOPPED) {
    SERVICE_STATUS ignored{};
    ControlService(service->handle, SERVICE_CONTROL_STOP, &ignored);
    DWORD state = 0;
    wait_for_state(service->handle, SERVICE_STOPPED, std::chrono::seconds(60), state);
  }
  if (!DeleteService(service->handle)) {
    const DWORD code = GetLastError();
    if (code == ERROR_SERVICE_MARKED_FOR_DELETE) {
      return {true, "service '" + command.name + "' is already marked for deletion"};
    }
    return {false, describe("cannot delete service '" + command.name + "'", code)};
  }
  unregister_event_source(command.name);
  return {true, "uninstalled service '" + command.name + "'"};
}

Result start(const Command& command) {
  std::unique_ptr<ScHandle> scm, service;
  Result result;
  if (!open_service(command, SERVICE_START | SERVICE_QUERY_STATUS, scm, service, result)) {
    return result;
  }
  if (!StartServiceW(service->handle, 0, nullptr)) {
    const DWORD code = GetLastError();
    if (code != ERROR_SERVICE_ALREADY_RUNNING) {
      return {false, describe("cannot start service '" + command.name + "'", code)};
    }
  }
  // The service reports RUNNING once its inputs run, STOPPED when it refused to start.
  DWORD state = 0;
  if (!wait_for_either(service->handle, SERVICE_RUNNING, SERVICE_STOPPED, std::chrono::seconds(120),
                       state) ||
      state != SERVICE_RUNNING) {
    std::string why;
    if (const auto last = query(service->handle); last && last->dwCurrentState == SERVICE_STOPPED) {
      why = ": " + exit_reason(*last);
    }
    return {false, "service '" + command.name + "' did not start; it is " + state_name(state) +
                       why + " (see the logs in %ProgramData%\\sessionwatch\\logs)"};
  }
  return {true, "service '" + command.name + "' is running"};
}

Result stop(const Command& command, std::chrono::seconds timeout) {
  std::unique_ptr<ScHandle> scm, service;
  Result result;
  if (!open_service(command, SERVICE_STOP | SERVICE_QUERY_STATUS, scm, service, result)) {
    return result;
  }
  // The process outlives its SERVICE_STOPPED report by its own teardown; whoever stops the
  // service to replace or remove its program (an upgrade, the MSI's uninstall) needs it gone,
  // or the file is still in use. Hold the process before asking it to stop.
  HANDLE process = nullptr;
  if (const auto before = query(service->handle); before && before->dwProcessId != 0) {
    process = OpenProcess(SYNCHRONIZE, FALSE, before->dwProcessId);
  }
  struct CloseProcess {
    HANDLE h;
    ~CloseProcess() {
      if (h != nullptr) CloseHandle(h);
    }
  } close_process{process};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  SERVICE_STATUS status{};
  if (!ControlService(service->handle, SERVICE_CONTROL_STOP, &status)) {
    const DWORD code = GetLastError();
    if (code == ERROR_SERVICE_NOT_ACTIVE) {
      return {true, "service '" + command.name + "' is not running"};
    }
    return {false, describe("cannot stop service '" + command.name + "'", code)};
  }
  DWORD state = 0;
  if (!wait_for_state(service->handle, SERVICE_STOPPED, timeout, state)) {
    return {false, "service '" + command.name + "' is still " + state_name(state) + " after " +
                       std::to_string(timeout.count()) + " s (it drains its queues first)"};
  }
  if (process != nullptr) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (WaitForSingleObject(process, static_cast<DWORD>(std::max<std::int64_t>(left.count(), 0))) !=
        WAIT_OBJECT_0) {
      return {false,
              "service '" + command.name + "' reported stopped but its process has not exited yet"};
    }
  }
  return {true, "service '" + command.name + "' stopped"};
}

static bool query_config2(SC_HANDLE service, DWORD level, std::vector<BYTE>& buffer) {
  DWORD needed = 0;
  QueryServiceConfig2W(service, level, nullptr, 0, &needed);
  if (needed == 0) return false;
  buffer.assign(needed, 0);
  return QueryServiceConfig2W(service, level, buffer.data(), needed, &needed) != FALSE;
}

// The recovery and preshutdown settings as status shows them (those the system reports).
static std::string settings_text(SC_HANDLE service) {
  std::string text;
  std::vector<BYTE> buffer;
  if (query_config2(service, SERVICE_CONFIG_FAILURE_ACTIONS, buffer)) {
    const auto* failure = reinterpret_cast<const SERVICE_FAILURE_ACTIONSW*>(buffer.data());
    std::string delays;
    for (DWORD i = 0; i < failure->cActions; ++i) {
      if (failure->lpsaActions[i].Type != SC_ACTION_RESTART) continue;
      delays += (delays.empty() ? "" : ", ") +
                std::to_string(failure->lpsaActions[i].Delay / 1000) + " s";
    }
    if (!delays.empty()) text += "\n  on failure: restart after " + delays;
  }
  if (query_config2(service, SERVICE_CONFIG_PRESHUTDOWN_INFO, buffer)) {
    const auto* info = reinterpret_cast<const SERVICE_PRESHUTDOWN_INFO*>(buffer.data());
    text += "\n  preshutdown drain: " + std::to_string(info->dwPreshutdownTimeout / 1000) + " s";
  }
  return text;
}

Result status(const Command& command) {
  std::unique_ptr<ScHandle> scm, service;
  Result result;
  if (!open_service(command, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG, scm, service, result)) {
    return result;
  }
  const auto state = query(service->handle);
  if (!state)
    return {false, describe("cannot query service '" + command.name + "'", GetLastError())};
  std::string text = "service '" + command.name + "': " + state_name(state->dwCurrentState);
  if (state->dwProcessId != 0) text += ", pid " + std::to_string(state->dwProcessId);
  DWORD needed = 0;
  QueryServiceConfigW(service->handle, nullptr, 0, &needed);
  std::vector<BYTE> buffer(needed);
  auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
  if (needed > 0 && QueryServiceConfigW(service->handle, config, needed, &needed)) {
    if (config->lpServiceStartName != nullptr) {
      text += "\n  account: " + win32::narrow(config->lpServiceStartName);
    }
    if (config->lpBinaryPathName != nullptr) {
      text += "\n  command: " + win32::narrow(config->lpBinaryPathName);
    }
    text += std::string("\n  start: ") + (config->dwStartType == SERVICE_AUTO_START ? "automatic"
                                          : config->dwStartType == SERVICE_DEMAND_START ? "manual"
                                          : config->dwStartType == SERVICE_DISABLED     ? "disabled"
                                                                                        : "other");
    std::vector<BYTE> delayed;
    if (config->dwStartType == SERVICE_AUTO_START &&
        query_config2(service->handle, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, delayed) &&
        reinterpret_cast<const SERVICE_DELAYED_AUTO_START_INFO*>(delayed.data())
            ->fDelayedAutostart) {
      text += " (delayed)";
    }
  }
  text += settings_text(service->handle);
  if (state->dwCurrentState == SERVICE_STOPPED && state->dwWin32ExitCode != NO_ERROR &&
      state->dwWin32ExitCode != ERROR_SERVICE_NEVER_STARTED) {
    text += "\n  last exit: " + exit_reason(*state);
  }
  return {true, text};
}

// ---- The service entry point ----

namespace {

// The SCM gives ServiceMain and the control handler no context pointer worth using across
// both, so the running service is process-wide (a process hosts one service).
struct Running {
  std::wstring name;
  Daemon daemon;
  Lifecycle lifecycle;
  SERVICE_STATUS_HANDLE handle = nullptr;
  std::mutex mutex;
  std::condition_variable stopped_cv;
  bool run_returned = false;
  bool ready = false;  // the daemon's inputs run (platform::service::notify_ready)
  std::thread start_reporter;
  std::thread stop_reporter;
  std::string error;
};
Running* g_running = nullptr;

void report_locked(Running& r, const StatusReport& report) {
  SERVICE_STATUS status{};
  status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  status.dwCurrentState = static_cast<DWORD>(report.state);
  status.dwControlsAccepted = report.accept_stop ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN |
                                                       SERVICE_ACCEPT_PRESHUTDOWN
                                                 : 0;
  if (report.exit_code != 0) {
    status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
    status.dwServiceSpecificExitCode = report.exit_code;
  }
  status.dwCheckPoint = report.checkpoint;
  status.dwWaitHint = static_cast<DWORD>(report.wait_hint.count());
  SetServiceStatus(r.handle, &status);
}

DWORD WINAPI control_handler(DWORD control, DWORD, void*, void* context) {
  auto& r = *static_cast<Running*>(context);
  std::unique_lock lock(r.mutex);
  const Lifecycle::ControlResult result = r.lifecycle.on_control(control);
  if (!result.handled) return ERROR_CALL_NOT_IMPLEMENTED;
  if (result.report) report_locked(r, *result.report);
  if (result.request_stop) {
    // Keep the SCM waiting while the daemon drains: a rising checkpoint every third of the hint.
    r.stop_reporter = std::thread([&r] {
      std::unique_lock reporter_lock(r.mutex);
      const auto period = r.lifecycle.wait_hint() / 3;
      while (!r.stopped_cv.wait_for(reporter_lock, period, [&r] { return r.run_returned; })) {
        report_locked(r, r.lifecycle.still_stopping());
      }
    });
    lock.unlock();
    if (r.daemon.stop) r.daemon.stop();
  }
  return NO_ERROR;
}

// START_PENDING with a rising checkpoint until the daemon's inputs run (notify_ready) or it
// returns: the SCM, `service start` and the MSI wait for RUNNING, so a configuration the daemon
// refuses fails the start instead of passing it.
void report_starting(Running& r) {
  // service_main reported the first START_PENDING; a report here could come after RUNNING.
  std::unique_lock lock(r.mutex);
  const auto period = r.lifecycle.wait_hint() / 3;
  while (!r.stopped_cv.wait_for(lock, period, [&r] { return r.ready || r.run_returned; })) {
    report_locked(r, r.lifecycle.starting());
  }
}

void WINAPI service_main(DWORD, wchar_t**) {
  Running& r = *g_running;
  r.handle = RegisterServiceCtrlHandlerExW(r.name.c_str(), control_handler, &r);
  if (r.handle == nullptr) {
    r.error = describe("RegisterServiceCtrlHandlerEx failed", GetLastError());
    return;
  }
  {
    std::lock_guard lock(r.mutex);
    report_locked(r, r.lifecycle.starting());
  }
  r.start_reporter = std::thread([&r] { report_starting(r); });
  int exit_code = 1;
  try {
    exit_code = r.daemon.run ? r.daemon.run() : 1;
  } catch (const std::exception& e) {
    r.error = std::string("the daemon failed: ") + e.what();
  }
  {
    std::lock_guard lock(r.mutex);
    r.run_returned = true;
  }
  r.stopped_cv.notify_all();
  if (r.start_reporter.joinable()) r.start_reporter.join();
  if (r.stop_reporter.joinable()) r.stop_reporter.join();
  std::lock_guard lock(r.mutex);
  // A non-zero exit makes the SCM apply the recovery actions (restart).
  report_locked(r, r.lifecycle.stopped(static_cast<std::uint32_t>(exit_code)));
}

}  // namespace

bool run_as_service(std::string_view name, Daemon daemon, std::string& error) {
  Running running;
  running.name = widen(name);
  running.daemon = std::move(daemon);
  g_running = &running;
  SERVICE_TABLE_ENTRYW table[] = {{running.name.data(), service_main}, {nullptr, nullptr}};
  const bool dispatched = StartServiceCtrlDispatcherW(table) != 0;
  const DWORD code = dispatched ? 0 : GetLastError();
  g_running = nullptr;
  if (!dispatched) {
    error = code == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT
                ? "not started by the Service Control Manager; use 'sessionwatch service start' "
                  "or 'sessionwatch run' to run in the foreground"
                : describe("StartServiceCtrlDispatcher failed", code);
    return false;
  }
  if (!running.error.empty()) {
    error = running.error;
    return false;
  }
  return true;
}

}  // namespace sw::winsvc

namespace sw::platform::service {

// The daemon's inputs run: a service still starting reports RUNNING now (and accepts STOP).
void notify_ready(std::string_view) {
  winsvc::Running* r = winsvc::g_running;
  if (r == nullptr) return;  // not a service
  {
    std::lock_guard lock(r->mutex);
    if (r->ready) return;
    r->ready = true;
    if (r->lifecycle.state() == winsvc::State::kStartPending) {
      winsvc::report_locked(*r, r->lifecycle.running());
    }
  }
  r->stopped_cv.notify_all();
}

}  // namespace sw::platform::service
