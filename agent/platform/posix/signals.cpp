// Stop and reload requests from POSIX signals, delivered on the io_context by Asio.
#include <csignal>
#include <mutex>
#include <string>

#include <boost/asio/post.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "sessionwatch/platform.hpp"

namespace sw::platform {

namespace {

class PosixSignalWatcher;
std::mutex g_watcher_mutex;
PosixSignalWatcher* g_watcher = nullptr;
std::string g_pending_stop;  // a request made while no watcher listened

class PosixSignalWatcher : public SignalWatcher {
 public:
  PosixSignalWatcher(boost::asio::io_context& io, std::function<void(std::string_view)> on_stop,
                     std::function<void()> on_reload)
      : io_(io),
        signals_(io, SIGTERM, SIGINT, SIGHUP),
        on_stop_(std::move(on_stop)),
        on_reload_(std::move(on_reload)) {
    std::signal(SIGPIPE, SIG_IGN);
    wait();
    std::lock_guard lock(g_watcher_mutex);
    g_watcher = this;
    if (!g_pending_stop.empty()) {
      post_stop(std::move(g_pending_stop));
      g_pending_stop.clear();
    }
  }
  ~PosixSignalWatcher() override {
    {
      std::lock_guard lock(g_watcher_mutex);
      if (g_watcher == this) g_watcher = nullptr;
    }
    boost::system::error_code ignored;
    signals_.cancel(ignored);
  }
  PosixSignalWatcher(const PosixSignalWatcher&) = delete;
  PosixSignalWatcher& operator=(const PosixSignalWatcher&) = delete;

  // Called with g_watcher_mutex held.
  void post_stop(std::string why) {
    boost::asio::post(io_, [this, why = std::move(why)] { on_stop_(why); });
  }

 private:
  void wait() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
      if (ec) return;
      if (signal_number == SIGHUP) {
        on_reload_();
      } else {
        on_stop_(signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
      }
      wait();
    });
  }

  boost::asio::io_context& io_;
  boost::asio::signal_set signals_;
  std::function<void(std::string_view)> on_stop_;
  std::function<void()> on_reload_;
};

}  // namespace

void request_stop(std::string_view why) {
  std::lock_guard lock(g_watcher_mutex);
  if (g_watcher != nullptr) {
    g_watcher->post_stop(std::string(why));
  } else {
    g_pending_stop = why.empty() ? "stop requested" : std::string(why);
  }
}

std::unique_ptr<SignalWatcher> SignalWatcher::create(boost::asio::io_context& io,
                                                     std::function<void(std::string_view)> on_stop,
                                                     std::function<void()> on_reload) {
  return std::make_unique<PosixSignalWatcher>(io, std::move(on_stop), std::move(on_reload));
}

}  // namespace sw::platform
