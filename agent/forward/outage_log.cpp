#include "forward/outage_log.hpp"

#include <spdlog/spdlog.h>

namespace sw::forward {

namespace {

double seconds(OutageLog::Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

void OutageLog::failed(const std::string& error, std::uint64_t waiting, Clock::time_point now) {
  ++failed_attempts_;
  if (!down_) {
    down_ = true;
    draining_ = false;
    down_since_ = now;
    last_warning_ = now;
    last_error_ = error;
    spdlog::warn("output {}: {}; {} alerts wait in the spool and are retried", output_, error,
                 waiting);
    return;
  }
  if (error == last_error_ && now - last_warning_ < kRepeat) {
    spdlog::debug("output {}: attempt {} failed: {}", output_, failed_attempts_, error);
    return;
  }
  spdlog::warn("output {}: down for {:.0f} s ({} failed attempts), {} alerts waiting: {}", output_,
               seconds(now - down_since_), failed_attempts_, waiting, error);
  last_warning_ = now;
  last_error_ = error;
}

void OutageLog::delivered(std::uint64_t before, std::uint64_t after, const std::string& url,
                          Clock::time_point now) {
  if (down_) {
    spdlog::info(
        "output {}: delivering again{} after {:.1f} s down ({} failed attempts); {} "
        "alerts waiting",
        output_, url.empty() ? "" : " to " + url, seconds(now - down_since_), failed_attempts_,
        before);
    down_ = false;
    failed_attempts_ = 0;
    last_error_.clear();
    draining_ = true;
    draining_since_ = now;
    backlog_ = before;
  }
  if (draining_ && after == 0) {
    spdlog::info(
        "output {}: backlog delivered ({} alerts were waiting when delivery resumed, "
        "{:.1f} s ago)",
        output_, backlog_, seconds(now - draining_since_));
    draining_ = false;
  }
}

void OutageLog::connection_changed(bool connected, const std::string& url) {
  if (connected) {
    spdlog::debug("output {}: connected to {}", output_, url);
  } else {
    spdlog::debug("output {}: disconnected", output_);
  }
}

}  // namespace sw::forward
