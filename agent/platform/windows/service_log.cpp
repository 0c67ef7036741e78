// The service's own logs on Windows: a rotating file under %ProgramData%\sessionwatch\logs for
// everything at the configured level, and the Application event log (source = the service name,
// registered by `service install`) for warnings and errors, where admins look first.
#include <windows.h>

#include <filesystem>
#include <memory>
#include <vector>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/win_eventlog_sink.h>
#include <spdlog/spdlog.h>

#include "platform/windows/win32_text.hpp"
#include "sessionwatch/winservice.hpp"

namespace sw::winsvc {

namespace {

std::filesystem::path program_data() {
  wchar_t buffer[MAX_PATH] = {};
  const DWORD n = GetEnvironmentVariableW(L"ProgramData", buffer, MAX_PATH);
  return n > 0 && n < MAX_PATH ? std::filesystem::path(std::wstring(buffer, n))
                               : std::filesystem::path(L"C:\\ProgramData");
}

constexpr std::size_t kLogFileBytes = 10u << 20;
constexpr std::size_t kLogFilesKept = 5;

}  // namespace

bool setup_service_logging(std::string_view name, std::string& error) {
  std::vector<spdlog::sink_ptr> sinks;
  const std::filesystem::path folder = program_data() / "sessionwatch" / "logs";
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  try {
    auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        (folder / (std::string(name) + ".log")).string(), kLogFileBytes, kLogFilesKept);
    file->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
    sinks.push_back(std::move(file));
  } catch (const spdlog::spdlog_ex& e) {
    error = "cannot open the log file in " + folder.string() + ": " + e.what();
  }
  try {
    auto event_log = std::make_shared<spdlog::sinks::win_eventlog_sink_mt>(std::string(name));
    event_log->set_level(spdlog::level::warn);
    event_log->set_pattern("%v");
    sinks.push_back(std::move(event_log));
  } catch (const spdlog::spdlog_ex& e) {
    if (!error.empty()) error += "; ";
    error += std::string("cannot write to the Windows Event Log: ") + e.what();
  }
  if (sinks.empty()) return false;
  // The daemon picks up the logger registered under this name instead of making a stderr one.
  spdlog::drop("sessionwatch");
  auto logger = std::make_shared<spdlog::logger>("sessionwatch", sinks.begin(), sinks.end());
  spdlog::register_logger(logger);
  spdlog::set_default_logger(logger);
  return true;
}

}  // namespace sw::winsvc
