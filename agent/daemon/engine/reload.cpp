// SIGHUP: the new configuration and rules are checked, then either the detector is swapped at a
// batch boundary (same inputs and outputs) or the pipeline is restarted.
#include "daemon/engine/engine_impl.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace sw::daemon {

namespace {

bool same_pipeline(const Config& a, const Config& b) {
  if (a.agent.data_dir != b.agent.data_dir || !(a.metrics == b.metrics)) return false;
  if (a.inputs.size() != b.inputs.size() || a.outputs.size() != b.outputs.size()) return false;
  for (std::size_t i = 0; i < a.inputs.size(); ++i) {
    InputConfig x = a.inputs[i], y = b.inputs[i];
    x.line = y.line = 0;
    x.options = y.options = nullptr;  // compared through their yaml
    if (!(x == y)) return false;
  }
  for (std::size_t i = 0; i < a.outputs.size(); ++i) {
    const OutputConfig &x = a.outputs[i], &y = b.outputs[i];
    if (x.type != y.type || x.name != y.name || x.path != y.path || x.yaml != y.yaml) return false;
  }
  return true;
}

}  // namespace

void Engine::Impl::on_reload() {
  if (stopping) return;
  platform::service::notify_reloading();
  spdlog::info("SIGHUP: reloading {}", config_path);
  try {
    reload();
  } catch (const std::exception& e) {
    // Whatever the new files hold (or memory runs out building them), the agent keeps running.
    reject_reload(e.what());
  }
}

void Engine::Impl::reject_reload(const std::string& why) {
  ++metrics.reload_failures;
  spdlog::error("reload rejected ({}); the previous configuration and rules keep running", why);
  platform::service::notify_ready("running (last reload rejected)");
}

void Engine::Impl::reload() {
  ConfigResult result = load_config(config_path);
  if (!result.config) {
    for (const ConfigError& e : result.errors) spdlog::error("{}", to_string(e));
    reject_reload("invalid configuration");
    return;
  }
  auto fresh = build_reloaded_detector(*result.config);
  if (!fresh) {
    reject_reload("broken rules");
    return;
  }
  ++metrics.reloads;
  if (keeps_pipeline(*result.config, *fresh)) {
    swap_detector(*result.config, std::move(fresh));
  } else {
    restart_pipeline(std::move(*result.config), std::move(fresh));
  }
}

// Null when the rules are broken; rules skipped (`skip_broken`) are said as warnings.
std::unique_ptr<Detector> Engine::Impl::build_reloaded_detector(const Config& next) {
  std::vector<std::string> problems;
  auto fresh = make_detector(next, problems, options.reorder_window_seconds, live);
  for (const std::string& p : problems) {
    if (fresh) {
      spdlog::warn("rule skipped: {}", p);
    } else {
      spdlog::error("{}", p);
    }
  }
  return fresh;
}

// True when only the rules or the log level changed: the inputs and outputs keep running.
bool Engine::Impl::keeps_pipeline(const Config& next, const Detector& fresh) const {
  const bool auto_filter =
      std::any_of(inputs.begin(), inputs.end(), [](auto& i) { return i->follows_interest(); });
  return same_pipeline(config, next) && !(auto_filter && fresh.interest() != subscribed_interest);
}

void Engine::Impl::swap_detector(const Config& next, std::unique_ptr<Detector> fresh) {
  config.rules = next.rules;
  config.agent.log_level = next.agent.log_level;
  setup_logging(config.agent.log_level);
  spdlog::info("reload: {} rule(s) loaded; inputs and outputs unchanged", fresh->rule_count());
  {
    std::lock_guard lock(swap_mutex);
    pending_detector = std::move(fresh);
  }
  queue.push(WorkItem{});  // wakes the detection thread to swap at a batch boundary
  platform::service::notify_ready("running (reloaded)");
}

void Engine::Impl::restart_pipeline(Config next, std::unique_ptr<Detector> fresh) {
  spdlog::info(
      "reload: inputs, outputs, data_dir or the events the rules read changed; "
      "restarting the pipeline");
  new_config = std::move(next);
  new_detector = std::move(fresh);
  exit_kind = EngineExit::kRestart;
  begin_stop("reload");
}

void Engine::Impl::apply_pending_detector() {
  std::unique_ptr<Detector> fresh;
  {
    std::lock_guard lock(swap_mutex);
    fresh = std::move(pending_detector);
  }
  if (!fresh) return;
  std::string error;
  if (!fresh->restore(detector->snapshot(), error)) {
    spdlog::warn("reload: session tracker state not carried over ({})", error);
  }
  detector = std::move(fresh);
  full_checkpoint_due = true;  // its parts may differ from the old detector's
  alerts_at_last_metrics = ~0ULL;
  publish_rule_matches();
  dirty = true;
}

}  // namespace sw::daemon
