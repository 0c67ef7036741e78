// Stop and reload requests from POSIX signals, delivered on the io_context by Asio.
#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "sessionwatch/platform.hpp"

namespace sw::platform {

namespace {

class PosixSignalWatcher : public SignalWatcher {
 public:
  PosixSignalWatcher(boost::asio::io_context& io, std::function<void(std::string_view)> on_stop,
                     std::function<void()> on_reload)
      : signals_(io, SIGTERM, SIGINT, SIGHUP),
        on_stop_(std::move(on_stop)),
        on_reload_(std::move(on_reload)) {
    std::signal(SIGPIPE, SIG_IGN);
    wait();
  }
  ~PosixSignalWatcher() override {
    boost::system::error_code ignored;
    signals_.cancel(ignored);
  }
  PosixSignalWatcher(const PosixSignalWatcher&) = delete;
  PosixSignalWatcher& operator=(const PosixSignalWatcher&) = delete;

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

  boost::asio::signal_set signals_;
  std::function<void(std::string_view)> on_stop_;
  std::function<void()> on_reload_;
};

}  // namespace

std::unique_ptr<SignalWatcher> SignalWatcher::create(boost::asio::io_context& io,
                                                     std::function<void(std::string_view)> on_stop,
                                                     std::function<void()> on_reload) {
  return std::make_unique<PosixSignalWatcher>(io, std::move(on_stop), std::move(on_reload));
}

}  // namespace sw::platform
