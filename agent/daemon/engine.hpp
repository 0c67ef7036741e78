// The running agent: inputs -> bounded queue -> detection thread (decode, Detector, outputs,
// checkpoints). The io_context thread owns notifications, signals, timers and the metrics server;
// the detection thread owns the Detector, the outputs and the committed state.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "sessionwatch/config.hpp"
#include "sessionwatch/daemon.hpp"
#include "sessionwatch/pipeline.hpp"

namespace sw::daemon {

class LiveState;

enum class EngineExit {
  kStopped,      // asked to stop: drained and flushed
  kRestart,      // reload with inputs/outputs changed: run again with new_config()
  kFailed,       // could not start (logged)
  kUndelivered,  // `once`: drained, but some alerts are still spooled (logged)
};

class Engine {
 public:
  // `config_path` is re-read on reload. `live` (from make_detector's hook) is what the query API
  // answers from; null: the engine keeps its own, and the API knows only what was restored.
  Engine(Config config, std::string config_path, std::unique_ptr<Detector> detector,
         RunOptions options = {}, std::shared_ptr<LiveState> live = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs until stopped; the calling thread becomes the io thread.
  EngineExit run();
  // After kRestart: the validated config to run next.
  std::optional<Config> take_new_config();
  std::unique_ptr<Detector> take_new_detector();
  // Counts of this run so far (events of every input, alerts raised).
  RunSummary summary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Builds the detector a config asks for; problems (rules with file:line) in `problems`.
// `reorder_window_seconds` > 0 holds events to process them in time order (RunOptions).
// `live`: told of every change of the tracker's state, for the query API.
std::unique_ptr<Detector> make_detector(const Config& config, std::vector<std::string>& problems,
                                        std::int64_t reorder_window_seconds = 0,
                                        std::shared_ptr<LiveState> live = nullptr);

void setup_logging(LogLevel level);

}  // namespace sw::daemon
