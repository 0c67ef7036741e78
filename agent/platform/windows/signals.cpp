// Stop requests on Windows: Ctrl+C / Ctrl+Break through Asio's signal_set, and closing the
// console window, logoff and shutdown through a console control handler. Windows has no
// SIGHUP; reloading is a service restart. (The service's own stop arrives through the SCM, see
// service_win32.cpp.)
#include <windows.h>

#include <csignal>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include "sessionwatch/platform.hpp"

namespace sw::platform {

namespace {

class WindowsSignalWatcher;
std::mutex g_console_mutex;
WindowsSignalWatcher* g_console_watcher = nullptr;
// A stop requested while no watcher was listening (guarded by g_console_mutex).
const char* g_pending_stop = nullptr;

class WindowsSignalWatcher : public SignalWatcher {
 public:
  WindowsSignalWatcher(boost::asio::io_context& io, std::function<void(std::string_view)> on_stop)
      : io_(io), signals_(io, SIGINT, SIGTERM, SIGBREAK), on_stop_(std::move(on_stop)) {
    wait();
    std::lock_guard lock(g_console_mutex);
    g_console_watcher = this;
    SetConsoleCtrlHandler(console_handler, TRUE);
    if (g_pending_stop != nullptr) {
      post_stop(g_pending_stop);
      g_pending_stop = nullptr;
    }
  }

  // Called with g_console_mutex held.
  void post_stop(const char* why) {
    boost::asio::post(io_, [this, why] { on_stop_(why); });
  }
  ~WindowsSignalWatcher() override {
    {
      std::lock_guard lock(g_console_mutex);
      SetConsoleCtrlHandler(console_handler, FALSE);
      g_console_watcher = nullptr;
    }
    boost::system::error_code ignored;
    signals_.cancel(ignored);
  }
  WindowsSignalWatcher(const WindowsSignalWatcher&) = delete;
  WindowsSignalWatcher& operator=(const WindowsSignalWatcher&) = delete;

 private:
  void wait() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
      if (ec) return;
      on_stop_(signal_number == SIGINT     ? "Ctrl+C"
               : signal_number == SIGBREAK ? "Ctrl+Break"
                                           : "SIGTERM");
      wait();
    });
  }

  // Runs on a thread Windows creates; hands the request to the io_context.
  static BOOL WINAPI console_handler(DWORD type) {
    if (type != CTRL_CLOSE_EVENT && type != CTRL_LOGOFF_EVENT && type != CTRL_SHUTDOWN_EVENT) {
      return FALSE;  // Ctrl+C and Ctrl+Break reach the signal_set
    }
    std::lock_guard lock(g_console_mutex);
    if (g_console_watcher == nullptr) return FALSE;
    g_console_watcher->post_stop(type == CTRL_CLOSE_EVENT    ? "console closed"
                                 : type == CTRL_LOGOFF_EVENT ? "user logoff"
                                                             : "system shutdown");
    return TRUE;
  }

  boost::asio::io_context& io_;
  boost::asio::signal_set signals_;
  std::function<void(std::string_view)> on_stop_;
};

}  // namespace

void request_stop(std::string_view why) {
  // Only literal reasons are kept: the request may be delivered after the caller returned.
  const char* reason = why == "service stop"      ? "service stop"
                       : why == "system shutdown" ? "system shutdown"
                                                  : "stop requested";
  std::lock_guard lock(g_console_mutex);
  if (g_console_watcher != nullptr) {
    g_console_watcher->post_stop(reason);
  } else {
    g_pending_stop = reason;
  }
}

std::unique_ptr<SignalWatcher> SignalWatcher::create(boost::asio::io_context& io,
                                                     std::function<void(std::string_view)> on_stop,
                                                     std::function<void()> /*on_reload*/) {
  return std::make_unique<WindowsSignalWatcher>(io, std::move(on_stop));
}

}  // namespace sw::platform

namespace sw::platform::service {

// The SCM is told through winsvc::run_as_service (notify_ready, which ends the service's
// START_PENDING, lives in service_win32.cpp); these systemd notifications have no Windows
// counterpart and do nothing.
void notify_reloading() {}
void notify_stopping() {}
void notify_watchdog() {}
void notify_status(std::string_view) {}
std::optional<std::chrono::microseconds> watchdog_interval() {
  return std::nullopt;
}

}  // namespace sw::platform::service
