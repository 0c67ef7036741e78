// The Win32 layer against the real API (under wine in CI): argument quoting as Windows parses it,
// the SCM install/status/uninstall and start/stop of a service, and the Event Log source's error
// path. Windows only.
#include <gtest/gtest.h>
#include <windows.h>
// after windows.h, which it needs
#include <shellapi.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include "platform/windows/win32_text.hpp"

#include "sessionwatch/eventlog.hpp"
#include "sessionwatch/platform.hpp"
#include "sessionwatch/winservice.hpp"

namespace sw {
namespace {

std::vector<std::string> windows_parse(const std::string& command_line) {
  int argc = 0;
  wchar_t** argv = CommandLineToArgvW(win32::widen(command_line).c_str(), &argc);
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) args.push_back(win32::narrow(argv[i]));
  LocalFree(argv);
  return args;
}

TEST(WinQuotingWin32, CommandLineToArgvWReadsEveryArgumentBack) {
  const std::vector<std::string> tricky{"plain",
                                        "with space",
                                        "",
                                        "C:\\Program Files\\",
                                        "trailing\\\\",
                                        "quote\"inside",
                                        "back\\\"slash quote",
                                        "\\\\server\\share\\x y",
                                        "tab\there",
                                        "J\xc3\xa9r\xc3\xb4me \xe6\x97\xa5\xe6\x9c\xac"};
  std::string line = "prog.exe";
  for (const std::string& arg : tricky) line += " " + winsvc::quote_argument(arg);
  const std::vector<std::string> parsed = windows_parse(line);
  ASSERT_EQ(parsed.size(), tricky.size() + 1) << line;
  for (std::size_t i = 0; i < tricky.size(); ++i) EXPECT_EQ(parsed[i + 1], tricky[i]) << line;
}

TEST(WinQuotingWin32, ServiceImagePathParsesIntoTheRunCommand) {
  winsvc::Command install;
  install.name = "sw svc";
  install.config_path = "C:\\ProgramData\\session watch\\sessionwatch.yaml";
  const std::string line =
      winsvc::service_command_line("C:\\Program Files\\sessionwatch\\sessionwatch.exe", install);
  const std::vector<std::string> expected{"C:\\Program Files\\sessionwatch\\sessionwatch.exe",
                                          "service",
                                          "run",
                                          "--name",
                                          "sw svc",
                                          "--config",
                                          install.config_path};
  EXPECT_EQ(windows_parse(line), expected);
  // And what the service receives parses back to the same command.
  winsvc::Command parsed;
  std::string error;
  ASSERT_TRUE(winsvc::parse_command({expected.begin() + 2, expected.end()}, parsed, error))
      << error;
  EXPECT_EQ(parsed.action, winsvc::Action::kRun);
  EXPECT_EQ(parsed.name, install.name);
  EXPECT_EQ(parsed.config_path, install.config_path);
}

TEST(WinTextWin32, Utf8SurvivesTheRoundTripThroughUtf16) {
  const std::string text = "CORP\\J\xc3\xa9r\xc3\xb4me \xf0\x9f\x98\x80 \xe6\x97\xa5";
  const std::wstring wide = win32::widen(text);
  EXPECT_EQ(wide.size(), 16u);  // the emoji is a surrogate pair
  EXPECT_EQ(win32::narrow(wide), text);
}

std::string unique_name(std::string_view stem) {
  return std::string(stem) + "-" + std::to_string(GetCurrentProcessId());
}

std::filesystem::path this_directory() {
  return std::filesystem::path(win32::module_path()).parent_path();
}

TEST(WinServiceScm, InstallStatusUninstall) {
  winsvc::Command command;
  command.name = unique_name("sw-test-install");
  command.config_path = "C:\\ProgramData\\sessionwatch\\sessionwatch.yaml";
  winsvc::uninstall(command);  // a leftover of an interrupted run
  const winsvc::Result installed = winsvc::install(command);
  ASSERT_TRUE(installed.ok) << installed.message;
  EXPECT_NE(installed.message.find("delayed start"), std::string::npos) << installed.message;

  const winsvc::Result again = winsvc::install(command);
  EXPECT_FALSE(again.ok);
  EXPECT_NE(again.message.find("already installed"), std::string::npos) << again.message;

  const winsvc::Result state = winsvc::status(command);
  EXPECT_TRUE(state.ok) << state.message;
  EXPECT_NE(state.message.find(": stopped"), std::string::npos) << state.message;
  EXPECT_NE(state.message.find("start: automatic"), std::string::npos) << state.message;
  EXPECT_NE(state.message.find("service run --name " + command.name +
                               " --config C:\\ProgramData\\sessionwatch\\sessionwatch.yaml"),
            std::string::npos)
      << state.message;
  // Its own virtual account, not the shared LocalService (issue 14, item 7).
  EXPECT_NE(state.message.find("account: NT SERVICE\\" + command.name), std::string::npos)
      << state.message;

  const winsvc::Result removed = winsvc::uninstall(command);
  EXPECT_TRUE(removed.ok) << removed.message;
  const winsvc::Result gone = winsvc::status(command);
  EXPECT_FALSE(gone.ok);
  EXPECT_NE(gone.message.find("is not installed"), std::string::npos) << gone.message;
}

bool wait_for_file(const std::filesystem::path& path, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::filesystem::exists(path);
}

// What an MSI's ServiceInstall leaves (a bare service), then `service configure` on it.
TEST(WinServiceScm, ConfigureGivesABareServiceTheInstallSettings) {
  winsvc::Command command;
  command.name = unique_name("sw-test-configure");
  winsvc::uninstall(command);  // a leftover of an interrupted run
  EXPECT_FALSE(winsvc::configure(command).ok) << "nothing to configure yet";
  SC_HANDLE scm = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
  ASSERT_NE(scm, nullptr);
  const std::wstring name = win32::widen(command.name);
  SC_HANDLE bare = CreateServiceW(scm, name.c_str(), name.c_str(), SERVICE_ALL_ACCESS,
                                  SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                  SERVICE_ERROR_NORMAL, L"C:\\sw\\sessionwatch.exe service run",
                                  nullptr, nullptr, nullptr, nullptr, nullptr);
  ASSERT_NE(bare, nullptr) << GetLastError();
  CloseServiceHandle(bare);
  CloseServiceHandle(scm);

  const winsvc::Result before = winsvc::status(command);
  // Windows' default is 180 s (and wine's): the drain's 60 s comes from configure.
  EXPECT_EQ(before.message.find("preshutdown drain: 60 s"), std::string::npos) << before.message;
  const winsvc::Result configured = winsvc::configure(command);
  EXPECT_TRUE(configured.ok) << configured.message;
  const winsvc::Result after = winsvc::status(command);
  EXPECT_NE(after.message.find("preshutdown drain: 60 s"), std::string::npos) << after.message;
  EXPECT_EQ(after.message.find("last exit"), std::string::npos)
      << "a service never started has no exit to report: " << after.message;
  std::cout << after.message << "\n" << configured.message << "\n";

  EXPECT_TRUE(winsvc::uninstall(command).ok);
}

TEST(WinServiceScm, StartRunsTheDaemonAndStopDrainsIt) {
  const std::filesystem::path probe = this_directory() / "sw_service_probe.exe";
  ASSERT_TRUE(std::filesystem::exists(probe)) << probe.string();
  const std::filesystem::path marker =
      std::filesystem::temp_directory_path() / unique_name("sw-probe");
  std::filesystem::remove(marker.string() + ".running");
  std::filesystem::remove(marker.string() + ".drained");

  winsvc::Command command;
  command.name = unique_name("sw-test-run");
  command.executable = probe.string();
  command.config_path = marker.string();
  winsvc::uninstall(command);  // a leftover of an interrupted run
  const winsvc::Result installed = winsvc::install(command);
  ASSERT_TRUE(installed.ok) << installed.message;

  const winsvc::Result started = winsvc::start(command);
  EXPECT_TRUE(started.ok) << started.message;
  EXPECT_TRUE(wait_for_file(marker.string() + ".running", std::chrono::seconds(20)))
      << "the daemon's run() never started";
  const winsvc::Result running = winsvc::status(command);
  EXPECT_NE(running.message.find(": running"), std::string::npos) << running.message;
  const std::size_t pid_at = running.message.find(", pid ");
  ASSERT_NE(pid_at, std::string::npos) << running.message;
  const DWORD pid = static_cast<DWORD>(std::stoul(running.message.substr(pid_at + 6)));
  HANDLE process = OpenProcess(SYNCHRONIZE, FALSE, pid);
  ASSERT_NE(process, nullptr) << "the service's process " << pid;

  const winsvc::Result stopped = winsvc::stop(command, std::chrono::seconds(30));
  EXPECT_TRUE(stopped.ok) << stopped.message;
  // stop() returns once the process is gone, so its program can be replaced or removed.
  EXPECT_EQ(WaitForSingleObject(process, 0), WAIT_OBJECT_0) << "the service's process still runs";
  CloseHandle(process);
  ASSERT_TRUE(wait_for_file(marker.string() + ".drained", std::chrono::seconds(10)));
  std::ifstream drained(marker.string() + ".drained");
  std::string how;
  std::getline(drained, how);
  EXPECT_EQ(how, "stop") << "run() returned without the stop request";

  const winsvc::Result removed = winsvc::uninstall(command);
  EXPECT_TRUE(removed.ok) << removed.message;
}

// The service is RUNNING only once the daemon's inputs run; a daemon that refuses to start (its
// configuration) fails `service start` with the reason instead of passing it.
TEST(WinServiceScm, StartFailsWithTheReasonWhenTheDaemonRefusesToStart) {
  const std::filesystem::path probe = this_directory() / "sw_service_probe.exe";
  ASSERT_TRUE(std::filesystem::exists(probe)) << probe.string();
  winsvc::Command command;
  command.name = unique_name("sw-test-refused");
  command.executable = probe.string();
  command.config_path =
      (std::filesystem::temp_directory_path() / unique_name("sw-probe")).string() + "-refused";
  winsvc::uninstall(command);  // a leftover of an interrupted run
  ASSERT_TRUE(winsvc::install(command).ok);
  const winsvc::Result started = winsvc::start(command);
  EXPECT_FALSE(started.ok) << started.message;
  EXPECT_NE(started.message.find("invalid configuration or refused rules"), std::string::npos)
      << started.message;
  EXPECT_TRUE(winsvc::uninstall(command).ok);
}

TEST(WinServiceScm, RunOutsideTheScmSaysHowToStartIt) {
  std::string error;
  EXPECT_FALSE(winsvc::run_as_service("sw-not-under-scm", winsvc::Daemon{}, error));
  EXPECT_NE(error.find("not started by the Service Control Manager"), std::string::npos) << error;
}

std::filesystem::path fresh_directory(std::string_view stem) {
  const auto dir = std::filesystem::temp_directory_path() / unique_name(stem);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(WinFilesWin32, AtomicWriteReplacesAndIdentitySurvivesRename) {
  const auto dir = fresh_directory("sw-files");
  const std::string path = (dir / "checkpoint.json").string();
  std::string error;
  ASSERT_TRUE(platform::write_file_atomically(path, "first version", error)) << error;
  ASSERT_TRUE(platform::write_file_atomically(path, "second", error)) << error;
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  auto file = platform::InputFile::open(path, error);
  ASSERT_NE(file, nullptr) << error;
  char buffer[16] = {};
  EXPECT_EQ(file->read_at(2, buffer, sizeof buffer), 4);
  EXPECT_EQ(std::string(buffer, 4), "cond");
  EXPECT_EQ(file->read_at(6, buffer, sizeof buffer), 0);  // end of file

  const auto before = platform::stat_path(path);
  ASSERT_TRUE(before.has_value());
  EXPECT_TRUE(before->regular);
  EXPECT_EQ(before->size, 6u);
  // Readers keep the file open; a writer must still be able to rotate it.
  const std::string rotated = (dir / "checkpoint.1.json").string();
  std::filesystem::rename(path, rotated);
  const auto after = platform::stat_path(rotated);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->id, before->id);
  const auto open_info = file->info();
  ASSERT_TRUE(open_info.has_value());
  EXPECT_EQ(open_info->id, before->id);
  EXPECT_FALSE(platform::stat_path(path).has_value());
  EXPECT_FALSE(platform::stat_path((dir / "nothing").string()).has_value());
  file.reset();
  std::filesystem::remove_all(dir);
}

TEST(WinFilesWin32, DefaultConfigLivesInProgramData) {
  const std::string path = platform::default_config_path();
  EXPECT_NE(path.find("\\sessionwatch\\sessionwatch.yaml"), std::string::npos) << path;
  EXPECT_FALSE(platform::host_name().empty());
}

TEST(WinDirectoryWatcherWin32, ReportsFilesAppearingChangingAndGoing) {
  const auto dir = fresh_directory("sw-watch");
  boost::asio::io_context io;
  std::vector<platform::WatchEvent> seen;
  std::string error;
  auto watcher = platform::DirectoryWatcher::create(
      io,
      [&](const std::vector<platform::WatchEvent>& events) {
        seen.insert(seen.end(), events.begin(), events.end());
      },
      error);
  ASSERT_NE(watcher, nullptr) << error;
  ASSERT_TRUE(watcher->add(dir.string(), error)) << error;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the reader thread is waiting
  std::ofstream(dir / "alerts.log") << "one line\n";
  std::filesystem::remove(dir / "alerts.log");

  auto has = [&](platform::WatchKind kind) {
    for (const auto& e : seen) {
      if (e.name == "alerts.log" && e.kind == kind && e.directory == dir.string()) return true;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(has(platform::WatchKind::kAppeared) && has(platform::WatchKind::kGone)) &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(100));
    io.restart();
  }
  EXPECT_TRUE(has(platform::WatchKind::kAppeared));
  EXPECT_TRUE(has(platform::WatchKind::kGone));
  watcher->stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sw
