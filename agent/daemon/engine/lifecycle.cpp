// The engine's lifecycle: start, run until stopped, stop (drain, flush, deadline), watchdog.
#include "daemon/engine/engine_impl.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/query_api.hpp"

namespace sw::daemon {

using namespace std::chrono_literals;

namespace {

constexpr auto kStopDeadline = 15s;
constexpr auto kStalledAfter = 60s;

}  // namespace

// Each step logs why it failed; run() then stops the detection thread if it was started.
bool Engine::Impl::start() {
  if (!open_data_dir()) return false;
  AgentState state = load_state();
  restore_detector(state);
  std::vector<WorkItem> initial;
  if (!open_outputs() || !open_inputs(state, initial)) return false;
  // What was restored now lives in the detector and the record-id trackers.
  state.parts.clear();
  state.detector_snapshot.clear();
  if (options.once) {
    merger = std::make_unique<decode_detail::TimeMerger>(MergeOptions{});
    merger->return_spares_to(merge_returns);
  }
  if (!write_first_checkpoint(std::move(state)) || !watch_input_folders()) return false;
  signals = platform::SignalWatcher::create(
      io, [this](std::string_view why) { on_stop_signal(why); }, [this] { on_reload(); });
  if (config.metrics.enabled && !start_metrics_server()) return false;
  // Counted here: once the detection thread runs, `committed` is its own.
  for (const auto& [input, entries] : committed.streams) streams_at_start += entries.size();
  start_detection(std::move(initial));
  return true;
}

bool Engine::Impl::open_data_dir() {
  std::string error;
  if (!platform::create_private_directories(config.agent.data_dir, error)) {
    spdlog::critical("cannot create data_dir: {}", error);
    return false;
  }
  return lock_data_dir();
}

// The last run's state; an empty one on first start, or when it is unreadable.
AgentState Engine::Impl::load_state() {
  AgentState state;
  std::string error;
  std::vector<std::string> notes;
  if (!store.load(state, error, notes) && !error.empty()) {
    // Unreadable state (kept aside for inspection): say what that costs.
    spdlog::error("{}; no usable previous checkpoint: starting from the beginning of every input",
                  error);
    state = AgentState{};
  }
  for (const std::string& note : notes) spdlog::warn("state: {}", note);
  return state;
}

void Engine::Impl::restore_detector(const AgentState& state) {
  std::string error;
  const bool restored =
      !state.parts.empty()
          ? detector->restore_parts(state.parts, error)
          : state.detector_snapshot.empty() || detector->restore(state.detector_snapshot, error);
  if (!restored) {
    spdlog::warn("session tracker state not restored ({}); starting with an empty tracker", error);
  }
  live->set_enabled(config.metrics.enabled);  // the query API is served with the metrics
  live->mark_all(detector->tracker());
  live->publish(detector->tracker());
}

bool Engine::Impl::open_outputs() {
  std::string error;
  outputs = make_outputs(config.outputs, config.agent.data_dir, error);
  if (!outputs) spdlog::critical("{}", error);
  return outputs != nullptr;
}

// Builds and initializes every input from `state`; the work they found at once goes to `initial`.
bool Engine::Impl::open_inputs(const AgentState& state, std::vector<WorkItem>& initial) {
  subscribed_interest = detector->interest();
  for (std::size_t i = 0; i < config.inputs.size(); ++i) {
    const InputConfig& ic = config.inputs[i];
    std::string error;
    auto input = make_input(ic, i, subscribed_interest, error);
    if (input) {
      input->set_wakeup([this] { asio::post(io, [this] { schedule_collect(); }); });
    }
    if (!input || !input->init(state, initial, error)) {
      spdlog::critical("{}", error);
      return false;
    }
    auto m = std::make_unique<InputMetrics>();
    m->name = ic.name;
    m->type = ic.type;
    metrics.inputs.push_back(std::move(m));
    restore_record_ids(ic.name, state, record_id_gaps.emplace_back());
    for (const std::string& dir : input->directories()) inputs_by_directory[dir].push_back(i);
    if (input->wants_state_written()) state_written_wanted = true;
    inputs.push_back(std::move(input));
  }
  rescan_needed.assign(inputs.size(), false);
  return true;
}

// A checkpoint at once, so a crash before the first event neither re-reads nor skips.
bool Engine::Impl::write_first_checkpoint(AgentState state) {
  committed = std::move(state);
  for (const auto& input : inputs) input->positions(committed);
  committed.saved_at = now_ticks();
  std::string error;
  if (write_full_checkpoint(error)) return true;
  spdlog::critical("cannot write state: {}", error);
  return false;
}

bool Engine::Impl::watch_input_folders() {
  std::string error;
  watcher = platform::DirectoryWatcher::create(
      io, [this](const std::vector<platform::WatchEvent>& events) { on_watch(events); }, error);
  if (!watcher) {
    spdlog::critical("{}", error);
    return false;
  }
  for (const auto& [dir, indexes] : inputs_by_directory) {
    if (!watcher->add(dir, error)) watch_for_creation(dir, error);
  }
  // What changed between the inputs' first look and the watches (a file renamed or created
  // meanwhile) sent no notification: the first round looks again.
  rescan_needed.assign(inputs.size(), true);
  return true;
}

bool Engine::Impl::start_metrics_server() {
  MetricsServer::Handlers handlers;
  handlers.render = [this] {
    metrics.queue_bytes = queue.bytes();
    Exposition exposition;
    metrics.render(exposition);
    for (const auto& input : inputs) input->write_metrics(exposition);
    outputs->write_metrics(exposition);
    return exposition.text();
  };
  handlers.healthy = [this] { return healthy(); };
  handlers.api = [live = live](std::string_view target) {
    return answer_query(*live, target, now_ticks());
  };
  std::string error;
  metrics_server = MetricsServer::start(io, config.metrics.address, config.metrics.port,
                                        std::move(handlers), config.metrics.token, error);
  if (!metrics_server) spdlog::critical("{}", error);
  return metrics_server != nullptr;
}

// The detection thread, the work the inputs found at start, the first collect round, the watchdog.
void Engine::Impl::start_detection(std::vector<WorkItem> initial) {
  metrics.started_unix = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  detection_thread = std::thread([this] {
    platform::name_this_thread("detection");
    detection_main();
  });
  for (WorkItem& item : initial) queue.push(std::move(item));
  schedule_collect();
  watchdog_interval = platform::service::watchdog_interval();
  arm_watchdog();
}

bool Engine::Impl::lock_data_dir() {
  const std::string path = (std::filesystem::path(config.agent.data_dir) / "lock").string();
  std::string error;
  std::uint64_t holder = 0;
  data_dir_lock = platform::FileLock::acquire(path, error, holder);
  if (data_dir_lock) return true;
  if (holder != 0) {
    spdlog::critical(
        "data_dir {} is in use by another sessionwatch agent (pid {}; {}): two agents on one "
        "data_dir would share its spools and checkpoints and deliver events twice. Stop that "
        "agent or give this one its own data_dir.",
        config.agent.data_dir, holder, path);
  } else {
    spdlog::critical("cannot lock data_dir {}: {}", config.agent.data_dir, error);
  }
  return false;
}

EngineExit Engine::Impl::run() {
  if (!start()) {
    if (detection_thread.joinable()) {
      queue.close();
      detection_thread.join();
    }
    return EngineExit::kFailed;
  }
  spdlog::info("sessionwatch running: {} input(s), {} output(s), {} rule(s), data in {}",
               inputs.size(), config.outputs.size(), detector->rule_count(), config.agent.data_dir);
  platform::service::notify_ready("running: " + std::to_string(inputs.size()) + " inputs, " +
                                  std::to_string(streams_at_start) + " streams");
  io.run();
  if (detection_thread.joinable()) detection_thread.join();
  if (delivery_thread.joinable()) delivery_thread.join();
  for (auto& input : inputs) input->exit();
  outputs->close();
  return exit_kind;
}

// `once`, everything stored and checkpointed: waits for the outputs to confirm on a thread of its
// own, so that the io loop, and with it the signal watcher, keeps running: a SIGTERM then ends
// the wait (on_stop_signal) instead of killing the process with the default action.
// A stop the operator asked for during the flush leaves no wait.
void Engine::Impl::wait_for_delivery() {
  waiting_for_delivery = true;
  const std::chrono::milliseconds timeout =
      operator_asked_stop ? std::chrono::milliseconds(0) : options.delivery_timeout;
  if (!operator_asked_stop) {
    spdlog::info("inputs read and checkpointed: waiting up to {}s for the outputs to confirm",
                 options.delivery_timeout.count());
  }
  delivery_thread = std::thread([this, timeout] {
    platform::name_this_thread("delivery wait");
    const bool delivered = outputs->wait_delivered(timeout);
    asio::post(io, [this, delivered] {
      if (!delivered) {
        spdlog::error(
            "outputs did not confirm every alert{}: the rest stays spooled for the next run",
            operator_asked_stop ? " (asked to stop)"
                                : fmt::format(" within {}s", options.delivery_timeout.count()));
        exit_kind = EngineExit::kUndelivered;
      }
      end_io();
    });
  });
}

void Engine::Impl::arm_watchdog() {
  if (!watchdog_interval) return;
  watchdog_timer.expires_after(*watchdog_interval / 2);
  watchdog_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (healthy()) platform::service::notify_watchdog();
    arm_watchdog();
  });
}

bool Engine::Impl::healthy() const {
  const std::int64_t since = busy_since_ms.load();
  // Backpressure from a full or unwritable spool holds the batch on purpose (logged, metered):
  // the watchdog must not restart the agent for it.
  return since == 0 || steady_ms() - since < std::chrono::milliseconds(kStalledAfter).count() ||
         (outputs && outputs->waiting_for_spool());
}

// The operator's stop: the first drains and flushes; a second one, the operator insisting, stops
// without waiting for the outputs. A stop the engine began itself (--once drained, a reload) does
// not count as the first, or a SIGTERM during the final flush would skip the last checkpoint and
// the next run would alert again on everything since the first.
void Engine::Impl::on_stop_signal(std::string_view why) {
  if (operator_asked_stop) {
    spdlog::warn("{} again: stopping now without waiting for the outputs", why);
    stop_hard();
    return;
  }
  operator_asked_stop = true;
  if (waiting_for_delivery) {
    spdlog::warn("{}: not waiting for the outputs any longer", why);
    stop_hard();
    return;
  }
  if (stopping) {
    spdlog::info(
        "{}: already stopping (flushing alerts and checkpoints); send it again to stop "
        "without waiting for the outputs",
        why);
    return;
  }
  begin_stop(why);
}

void Engine::Impl::begin_stop(std::string_view reason) {
  if (stopping) return;
  stopping = true;
  platform::service::notify_stopping();
  spdlog::info("{}: stopping (draining queued events, flushing alerts and checkpoints)", reason);
  watcher->stop();
  linger_timer.cancel();
  queue.close();
  deadline_timer.expires_after(kStopDeadline);
  deadline_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    spdlog::error(
        "outputs still failing after {}s: stopping without them (nothing is lost: the "
        "checkpoints stay before the unstored alerts)",
        std::chrono::seconds(kStopDeadline).count());
    stop_hard();
  });
}

// Stops without waiting for the outputs: the detection thread leaves its retries and its loop.
void Engine::Impl::stop_hard() {
  outputs->abort();
  std::lock_guard lock(stop_mutex);
  hard_stop = true;
  stop_cv.notify_all();
}

bool Engine::Impl::stopped_hard() {
  std::lock_guard lock(stop_mutex);
  return hard_stop;
}

// The detection thread is done; `once` then waits for its outputs before the io loop ends.
void Engine::Impl::finish() {
  deadline_timer.cancel();
  watchdog_timer.cancel();
  linger_timer.cancel();
  if (options.once && exit_kind == EngineExit::kStopped && !stopped_hard()) {
    wait_for_delivery();
    return;
  }
  end_io();
}

void Engine::Impl::end_io() {
  if (metrics_server) metrics_server->stop();
  signals.reset();
  io.stop();
}

}  // namespace sw::daemon
