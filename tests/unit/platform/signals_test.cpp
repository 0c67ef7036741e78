// The stop path the Windows service uses (request_stop from another thread), on the platform's
// own SignalWatcher: POSIX here, the Windows one under wine.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sessionwatch/platform.hpp"

namespace sw::platform {
namespace {

// Runs the io_context until a stop arrives or two seconds pass; returns the reason given.
std::string run_until_stop(boost::asio::io_context& io, std::unique_ptr<SignalWatcher>& watcher,
                           std::string& reason) {
  boost::asio::steady_timer deadline(io, std::chrono::seconds(2));
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) io.stop();
  });
  io.run();
  watcher.reset();
  return reason;
}

TEST(RequestStop, ReachesARunningWatcherFromAnotherThread) {
  boost::asio::io_context io;
  std::string reason;
  auto watcher = SignalWatcher::create(
      io,
      [&](std::string_view why) {
        reason = why;
        io.stop();
      },
      [] {});
  std::thread service_control([] { request_stop("service stop"); });
  service_control.join();
  EXPECT_EQ(run_until_stop(io, watcher, reason), "service stop");
}

TEST(RequestStop, MadeBeforeTheWatcherExistsIsNotLost) {
  request_stop("service stop");
  boost::asio::io_context io;
  std::string reason;
  auto watcher = SignalWatcher::create(
      io,
      [&](std::string_view why) {
        reason = why;
        io.stop();
      },
      [] {});
  EXPECT_EQ(run_until_stop(io, watcher, reason), "service stop");
}

TEST(RequestStop, IsDeliveredOnce) {
  request_stop("service stop");
  int stops = 0;
  {
    boost::asio::io_context io;
    auto watcher = SignalWatcher::create(
        io, [&](std::string_view) { ++stops; }, [] {});
    io.run_for(std::chrono::milliseconds(200));
  }
  {
    boost::asio::io_context io;
    auto watcher = SignalWatcher::create(
        io, [&](std::string_view) { ++stops; }, [] {});
    io.run_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(stops, 1);
}

}  // namespace
}  // namespace sw::platform
