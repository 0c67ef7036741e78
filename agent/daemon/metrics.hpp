// Self-monitoring: counters the engine updates and a Prometheus text rendering of them, served at
// /metrics (and /healthz) by a small Boost.Beast server on loopback.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace sw::daemon {

// A Prometheus label value: backslash, double quote and newline escaped.
std::string label_value(const std::string& s);

struct InputMetrics {
  std::string name;
  std::string type;
  std::atomic<std::uint64_t> events_read{0};  // records handed to a decoder
  std::atomic<std::uint64_t> events_decoded{0};
  std::atomic<std::uint64_t> events_bad{0};
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::uint64_t> gaps{0};
  std::atomic<std::uint64_t> files_refused{0};  // matched, but not logs (binary, EVTX, gzip)
  std::atomic<double> lag_seconds{0};           // event time to read time, of the last event
};

class EngineMetrics {
 public:
  std::vector<std::unique_ptr<InputMetrics>> inputs;
  std::atomic<std::uint64_t> alerts{0};
  std::atomic<std::uint64_t> queue_bytes{0};
  std::atomic<std::uint64_t> queue_items{0};
  std::atomic<std::uint64_t> checkpoints_written{0};
  std::atomic<std::uint64_t> reloads{0};
  std::atomic<std::uint64_t> reload_failures{0};
  std::atomic<std::int64_t> started_unix{0};

  void set_rule_matches(std::vector<std::pair<std::string, std::uint64_t>> matches) {
    std::lock_guard lock(mutex_);
    rule_matches_ = std::move(matches);
  }
  // Prometheus text exposition format; `extra` appends the outputs' lines.
  std::string render(const std::function<void(std::string&)>& extra) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::uint64_t>> rule_matches_;
};

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  using Healthy = std::function<bool()>;
  virtual ~MetricsServer() = default;
  static std::unique_ptr<MetricsServer> start(boost::asio::io_context& io,
                                              const std::string& address, std::uint16_t port,
                                              Render render, Healthy healthy, std::string& error);
  virtual void stop() = 0;
};

}  // namespace sw::daemon
