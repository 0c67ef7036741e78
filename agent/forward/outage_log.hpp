// What an on-call reader needs to know about one output's delivery, logged on each change of
// state rather than per attempt: when delivery starts failing (warn, with the collector's reason),
// while it keeps failing (at most one warning a minute, with how long and how much waits), when it
// works again (info: how long it was down, the backlog), and when that backlog is delivered.
// Per connection lines are debug, per batch lines trace. Sender thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sw::forward {

class OutageLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kRepeat = std::chrono::seconds(60);

  explicit OutageLog(std::string output) : output_(std::move(output)) {}

  // A delivery attempt failed; `waiting`: alerts in the spool.
  void failed(const std::string& error, std::uint64_t waiting, Clock::time_point now);
  // The collector confirmed alerts (or took them): `before` alerts were in the spool with them,
  // `after` are left.
  void delivered(std::uint64_t before, std::uint64_t after, const std::string& url,
                 Clock::time_point now);
  void connection_changed(bool connected, const std::string& url);

  bool down() const { return down_; }

 private:
  std::string output_;
  bool down_ = false;
  Clock::time_point down_since_;
  Clock::time_point last_warning_;
  std::uint64_t failed_attempts_ = 0;
  std::string last_error_;
  bool draining_ = false;  // delivering a backlog left by an outage
  Clock::time_point draining_since_;
  std::uint64_t backlog_ = 0;
};

}  // namespace sw::forward
