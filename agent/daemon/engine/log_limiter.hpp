// Repeated errors of the agent's threads, logged once a minute per key.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>

namespace sw::daemon {

// Repeated errors are logged once a minute with a count of the ones left out.
class LogLimiter {
 public:
  template <typename... Args>
  void error(const std::string& key, spdlog::format_string_t<Args...> fmt, Args&&... args) {
    std::lock_guard lock(mutex_);
    Entry& e = entries_[key];
    const auto now = std::chrono::steady_clock::now();
    if (e.logged && now - e.last < std::chrono::minutes(1)) {
      ++e.suppressed;
      return;
    }
    spdlog::error(fmt, std::forward<Args>(args)...);
    if (e.suppressed > 0) {
      spdlog::error("({} more like the previous message in the last minute)", e.suppressed);
    }
    e.logged = true;
    e.last = now;
    e.suppressed = 0;
  }

 private:
  struct Entry {
    bool logged = false;
    std::chrono::steady_clock::time_point last;
    std::uint64_t suppressed = 0;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace sw::daemon
