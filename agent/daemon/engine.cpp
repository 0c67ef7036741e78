#include "daemon/engine.hpp"

#include <cstdlib>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "daemon/engine/engine_impl.hpp"

namespace sw::daemon {

void setup_logging(LogLevel level) {
  auto logger = spdlog::get("sessionwatch");
  if (!logger) {
    logger = spdlog::stderr_logger_mt("sessionwatch");
    // journald timestamps lines itself.
    logger->set_pattern(std::getenv("JOURNAL_STREAM") ? "[%l] %v"
                                                      : "%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
    spdlog::set_default_logger(logger);
  }
  static const spdlog::level::level_enum kMap[] = {
      spdlog::level::trace, spdlog::level::debug,    spdlog::level::info, spdlog::level::warn,
      spdlog::level::err,   spdlog::level::critical, spdlog::level::off};
  logger->set_level(kMap[static_cast<int>(level)]);
  logger->flush_on(spdlog::level::info);
}

std::unique_ptr<Detector> make_detector(const Config& config, std::vector<std::string>& problems,
                                        std::int64_t reorder_window_seconds,
                                        std::shared_ptr<LiveState> live) {
  DetectorOptions options;
  options.rule_paths = config.rules.paths;
  options.placeholders = config.rules.placeholders;
  options.skip_broken_rules = config.rules.skip_broken;
  // A live agent must not hold events waiting for later ones (an alert would wait for the next
  // event): events are enriched as they arrive, in the order each source delivers them, and no
  // timeline is kept (nobody reads it in the daemon; it only costs memory).
  options.tracker.reorder_window = 0;
  options.tracker.max_timeline_per_host = 0;
  if (reorder_window_seconds > 0) {
    // A one-shot run over whole files (RunOptions): hold events like `scan` does.
    options.tracker.reorder_window = reorder_window_seconds * kTicksPerSecond;
    options.tracker.max_buffered_events = 500000;
  }
  if (live) {
    options.tracker.on_state_change = [live = std::move(live)](const SessionTracker& tracker,
                                                               std::string_view host, Ticks time) {
      live->on_state_change(tracker, host, time);
    };
  }
  return Detector::create(options, problems);
}

Engine::Engine(Config config, std::string config_path, std::unique_ptr<Detector> detector,
               RunOptions options, std::shared_ptr<LiveState> live)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(config_path), std::move(detector),
                                   options, std::move(live))) {}
Engine::~Engine() = default;
EngineExit Engine::run() {
  return impl_->run();
}
std::optional<Config> Engine::take_new_config() {
  return std::move(impl_->new_config);
}
std::unique_ptr<Detector> Engine::take_new_detector() {
  return std::move(impl_->new_detector);
}
RunSummary Engine::summary() const {
  RunSummary s;
  for (const auto& m : impl_->metrics.inputs) {
    s.events_read += m->events_read;
    s.events_decoded += m->events_decoded;
    s.events_bad += m->events_bad;
  }
  s.alerts = impl_->metrics.alerts;
  return s;
}

}  // namespace sw::daemon
