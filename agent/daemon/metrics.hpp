// Self-monitoring: counters the engine updates and a Prometheus text rendering of them, served at
// /metrics (and /healthz) by a small Boost.Beast server on loopback, which also answers the query
// API under /v1/ (query_api.hpp). With a token, every request must carry it as a bearer token.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace sw::daemon {

// The Prometheus text exposition, built family by family: each family's samples follow its one
// HELP and TYPE line in the order the family was first declared, whichever part of the agent adds
// them (the engine, each input, each output). Declaring a family twice with another type or help
// text is a programming error.
class Exposition {
 public:
  enum class Type { kCounter, kGauge };
  using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

  // Declares a family with no samples yet (so it is listed even while empty).
  void declare(std::string_view family, Type type, std::string_view help);
  void add(std::string_view family, Type type, std::string_view help, const Labels& labels,
           double value);
  std::string text() const;

 private:
  struct Family {
    std::string name;
    Type type;
    std::string help;
    std::string samples;
  };
  Family& family(std::string_view name, Type type, std::string_view help);

  std::vector<Family> families_;
};

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
  // The session tracker's caps reached: computers and sessions whose state was let go.
  std::atomic<std::uint64_t> hosts_evicted{0};
  std::atomic<std::uint64_t> sessions_evicted{0};
  std::atomic<std::uint64_t> reloads{0};
  std::atomic<std::uint64_t> reload_failures{0};
  std::atomic<std::int64_t> started_unix{0};

  void set_rule_matches(std::vector<std::pair<std::string, std::uint64_t>> matches) {
    std::lock_guard lock(mutex_);
    rule_matches_ = std::move(matches);
  }
  // Adds the engine's and its inputs' families.
  void render(Exposition& out) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::uint64_t>> rule_matches_;
};

struct HttpReply {
  int status = 200;
  std::string body;  // JSON
};

class MetricsServer {
 public:
  struct Handlers {
    std::function<std::string()> render;  // /metrics
    std::function<bool()> healthy;        // /healthz
    // /v1/...: the request target (path and query) in, a JSON reply out. Empty: 404.
    std::function<HttpReply(std::string_view target)> api;
  };
  virtual ~MetricsServer() = default;
  // `token` non-empty: every request needs "Authorization: Bearer <token>" (401 otherwise).
  static std::unique_ptr<MetricsServer> start(boost::asio::io_context& io,
                                              const std::string& address, std::uint16_t port,
                                              Handlers handlers, std::string token,
                                              std::string& error);
  virtual void stop() = 0;
};

}  // namespace sw::daemon
