#include "daemon/engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sessionwatch/gap_alert.hpp"
#include "daemon/input.hpp"
#include "daemon/metrics.hpp"
#include "daemon/outputs.hpp"
#include "daemon/query.hpp"
#include "daemon/query_api.hpp"
#include "daemon/record_id_gaps.hpp"
#include "daemon/state.hpp"
#include "daemon/timers.hpp"
#include "decode/merge.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::daemon {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kQueueCapacityBytes = 8u << 20;
// Checkpoints are written at most this often, and never more often than it takes to write them
// times kSaveCostFactor: with a large tracker state, writing it after every batch would cost more
// than the events themselves. The state is written at the latest this long after the last event.
constexpr auto kSaveInterval = 200ms;
constexpr int kSaveCostFactor = 8;
// The journal of checkpoints is folded into a full one when it is larger than this and than the
// last full checkpoint.
constexpr std::uint64_t kMinJournalBytes = 4u << 20;
constexpr auto kStopDeadline = 15s;
// How often inputs with something pending (a rotated file kept open, an EVTX file still being
// copied) are looked at without a notification; scaled down by tests (daemon/timers.hpp).
constexpr auto kLingerCheck = 1s;
constexpr auto kStalledAfter = 60s;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

// Sources -> detection: batches, bounded by bytes. push() never blocks (the single producer
// checks has_room() first); pop() sleeps on a condition variable, so an idle agent uses no CPU.
class WorkQueue {
 public:
  enum class Popped { kItem, kClosed, kTimeout };

 public:
  void push(WorkItem&& item) {
    {
      std::lock_guard lock(mutex_);
      bytes_ += item.bytes();
      items_.push_back(std::move(item));
    }
    ready_.notify_one();
  }
  bool has_room() const {
    std::lock_guard lock(mutex_);
    return bytes_ < kQueueCapacityBytes;
  }
  // Waits for an item, until `deadline` when there is one.
  Popped pop(WorkItem& item, std::optional<SteadyClock::time_point> deadline) {
    std::unique_lock lock(mutex_);
    const auto ready = [&] { return !items_.empty() || closed_; };
    if (deadline) {
      if (!ready_.wait_until(lock, *deadline, ready)) return Popped::kTimeout;
    } else {
      ready_.wait(lock, ready);
    }
    if (items_.empty()) return Popped::kClosed;
    item = std::move(items_.front());
    items_.pop_front();
    bytes_ -= item.bytes();
    return Popped::kItem;
  }
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }
  bool empty() const {
    std::lock_guard lock(mutex_);
    return items_.empty();
  }
  std::size_t bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<WorkItem> items_;
  std::size_t bytes_ = 0;
  bool closed_ = false;
};

// Repeated errors are logged once a minute with a count of the ones left out.
class LogLimiter {
 public:
  template <typename... Args>
  void error(const std::string& key, spdlog::format_string_t<Args...> fmt, Args&&... args) {
    std::lock_guard lock(mutex_);
    Entry& e = entries_[key];
    const auto now = SteadyClock::now();
    if (e.logged && now - e.last < 60s) {
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
    SteadyClock::time_point last;
    std::uint64_t suppressed = 0;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

bool same_pipeline(const Config& a, const Config& b) {
  if (a.agent.data_dir != b.agent.data_dir || !(a.metrics == b.metrics)) return false;
  if (a.inputs.size() != b.inputs.size() || a.outputs.size() != b.outputs.size()) return false;
  for (std::size_t i = 0; i < a.inputs.size(); ++i) {
    InputConfig x = a.inputs[i], y = b.inputs[i];
    x.line = y.line = 0;
    x.kafka = y.kafka = nullptr;  // compared through their yaml
    if (!(x == y)) return false;
  }
  for (std::size_t i = 0; i < a.outputs.size(); ++i) {
    const OutputConfig &x = a.outputs[i], &y = b.outputs[i];
    if (x.type != y.type || x.name != y.name || x.path != y.path || x.yaml != y.yaml) return false;
  }
  return true;
}

}  // namespace

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
    options.tracker.on_state_change = [live](const SessionTracker& tracker, std::string_view host,
                                             Ticks time) {
      live->on_state_change(tracker, host, time);
    };
  }
  return Detector::create(options, problems);
}

struct Engine::Impl {
  Impl(Config c, std::string path, std::unique_ptr<Detector> d, RunOptions o,
       std::shared_ptr<LiveState> l)
      : config(std::move(c)),
        config_path(std::move(path)),
        detector(std::move(d)),
        live(l ? std::move(l) : std::make_shared<LiveState>()),
        options(o),
        store((std::filesystem::path(config.agent.data_dir) / "state.json").string()),
        host(platform::host_name()),
        linger_timer(io),
        watchdog_timer(io),
        deadline_timer(io) {}

  // Held from start to the end, so it is released last: one agent per data_dir.
  std::unique_ptr<platform::FileLock> data_dir_lock;

  // ---- configuration and collaborators ----
  Config config;
  std::string config_path;
  std::unique_ptr<Detector> detector;  // the detection thread's once started
  std::shared_ptr<LiveState> live;     // written by the detection thread, read by the API
  // What the detector read when the inputs started: `event_ids: auto` subscriptions ask for it,
  // so a reload whose rules read other events restarts the inputs.
  EventInterest subscribed_interest;
  RunOptions options;
  StateStore store;
  std::string host;
  std::unique_ptr<AlertOutputs> outputs;
  std::vector<std::unique_ptr<Input>> inputs;
  std::vector<RecordIdGaps> record_id_gaps;  // per input; the detection thread's
  EngineMetrics metrics;
  LogLimiter limiter;

  // ---- io thread ----
  asio::io_context io;
  std::unique_ptr<platform::DirectoryWatcher> watcher;
  std::unique_ptr<platform::SignalWatcher> signals;
  std::unique_ptr<MetricsServer> metrics_server;
  asio::steady_timer linger_timer;
  asio::steady_timer watchdog_timer;
  asio::steady_timer deadline_timer;
  std::map<std::string, std::vector<std::size_t>> inputs_by_directory;
  // Input folders that do not exist yet: their nearest existing parent is watched instead.
  std::set<std::string> missing_directories;
  std::vector<bool> rescan_needed;
  bool collect_posted = false;
  bool linger_armed = false;
  bool stopping = false;
  bool drained_queued = false;  // once: the end-of-input marker is in the queue
  EngineExit exit_kind = EngineExit::kStopped;
  std::optional<Config> new_config;
  std::unique_ptr<Detector> new_detector;
  std::optional<std::chrono::microseconds> watchdog_interval;

  // ---- between the threads ----
  WorkQueue queue;
  std::atomic<bool> reader_waiting{false};
  std::atomic<std::int64_t> busy_since_ms{0};
  std::mutex swap_mutex;
  std::unique_ptr<Detector> pending_detector;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool hard_stop = false;
  std::thread detection_thread;

  // ---- detection thread ----
  AgentState committed;
  bool dirty = false;
  SteadyClock::time_point last_save{};
  SteadyClock::duration save_gap = kSaveInterval;  // grows with the time a save takes
  bool full_checkpoint_due = false;                // the detector was replaced (reload)
  // Stream checkpoints stored since the last state write: handed back to their inputs once a
  // write holds them.
  std::map<std::pair<std::size_t, std::string>, std::string> uncommitted;
  std::uint64_t alerts_at_last_metrics = ~0ULL;
  // `run --once`: the events of every file input and EVTX file merged by event time (as `scan`
  // does), so the result does not depend on the order of the inputs or of their files.
  std::unique_ptr<decode_detail::TimeMerger> merger;
  std::map<std::pair<std::size_t, std::string>, std::size_t> merge_streams;
  bool merge_started = false;  // the first round is in: every file of the backlog is known

  EngineExit run();
  bool start();
  bool lock_data_dir();
  void collect_round();
  void schedule_collect();
  void arm_linger();
  void arm_watchdog();
  void on_watch(const std::vector<platform::WatchEvent>& events);
  void watch_for_creation(const std::string& dir, const std::string& error);
  void retry_missing_directories();
  void directory_gone(const std::string& dir);
  void begin_stop(std::string_view reason);
  void finish();
  void on_reload();
  void reload();
  void reject_reload(const std::string& why);
  bool healthy() const;

  void detection_main();
  bool process(WorkItem& item);
  void refuse(const RefusedFile& file);
  void deliver(std::size_t input_index, const std::string& path, Event& event,
               const Detector::AlertCallback& on_alert);
  void end_round(const std::vector<std::pair<std::size_t, std::string>>& fed,
                 std::vector<Alert>& alerts);
  void release_merged(std::vector<Alert>& alerts);
  void process_events(EventBatch& batch, std::vector<Alert>& alerts,
                      std::vector<CollectionGap>& gaps);
  void check_record_id(const EventBatch& batch, const Event& event,
                       std::vector<CollectionGap>& gaps);
  void hand_back_commits();
  std::optional<std::string> run_job(InputJob& job, std::vector<Alert>& alerts,
                                     std::vector<CollectionGap>& gaps);
  bool store_alerts(std::vector<Alert>& alerts);
  void save_state(bool force, bool final = false);
  bool write_full_checkpoint(std::string& error, StateParts* written = nullptr);
  void adopt_parts(const StatePartMap& handed);
  void snapshot_parts(bool changes_only, StateParts& out);
  void restore_record_ids(const std::string& input, const AgentState& state, RecordIdGaps& gaps);
  void apply_pending_detector();
  void publish_rule_matches();
  void note_evictions();
  void raise_gap(const CollectionGap& gap, std::vector<Alert>& alerts);
  std::size_t input_index(const std::string& name) const;
};

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

bool Engine::Impl::start() {
  std::error_code ec;
  std::string dir_error;
  if (!platform::create_private_directories(config.agent.data_dir, dir_error)) {
    spdlog::critical("cannot create data_dir: {}", dir_error);
    return false;
  }
  if (!lock_data_dir()) return false;
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
  const bool restored =
      !state.parts.empty()
          ? detector->restore_parts(state.parts, error)
          : state.detector_snapshot.empty() || detector->restore(state.detector_snapshot, error);
  if (!restored) {
    spdlog::warn("session tracker state not restored ({}); starting with an empty tracker", error);
  }
  live->mark_all(detector->tracker());
  live->publish(detector->tracker());
  outputs = make_outputs(config.outputs, config.agent.data_dir, error);
  if (!outputs) {
    spdlog::critical("{}", error);
    return false;
  }

  subscribed_interest = detector->interest();
  std::vector<WorkItem> initial;
  for (std::size_t i = 0; i < config.inputs.size(); ++i) {
    const InputConfig& ic = config.inputs[i];
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
    m->type = std::string(to_string(ic.type));
    metrics.inputs.push_back(std::move(m));
    restore_record_ids(ic.name, state, record_id_gaps.emplace_back());
    for (const std::string& dir : input->directories()) inputs_by_directory[dir].push_back(i);
    inputs.push_back(std::move(input));
  }
  rescan_needed.assign(inputs.size(), false);
  // What was restored now lives in the detector and the record-id trackers.
  state.parts.clear();
  state.detector_snapshot.clear();
  if (options.once) merger = std::make_unique<decode_detail::TimeMerger>(MergeOptions{});

  // A checkpoint at once, so a crash before the first event neither re-reads nor skips.
  committed = state;
  for (const auto& input : inputs) input->positions(committed);
  committed.saved_at = now_ticks();
  if (!write_full_checkpoint(error)) {
    spdlog::critical("cannot write state: {}", error);
    return false;
  }

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
  signals = platform::SignalWatcher::create(
      io, [this](std::string_view why) { begin_stop(why); }, [this] { on_reload(); });
  if (config.metrics.enabled) {
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
    metrics_server = MetricsServer::start(io, config.metrics.address, config.metrics.port,
                                          std::move(handlers), config.metrics.token, error);
    if (!metrics_server) {
      spdlog::critical("{}", error);
      return false;
    }
  }
  metrics.started_unix = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  detection_thread = std::thread([this] { detection_main(); });
  for (WorkItem& item : initial) queue.push(std::move(item));
  schedule_collect();
  watchdog_interval = platform::service::watchdog_interval();
  arm_watchdog();
  return true;
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
  std::size_t streams = 0;
  for (const auto& [input, entries] : committed.streams) streams += entries.size();
  spdlog::info("sessionwatch running: {} input(s), {} output(s), {} rule(s), data in {}",
               inputs.size(), config.outputs.size(), detector->rule_count(), config.agent.data_dir);
  platform::service::notify_ready("running: " + std::to_string(inputs.size()) + " inputs, " +
                                  std::to_string(streams) + " streams");
  io.run();
  if (detection_thread.joinable()) detection_thread.join();
  for (auto& input : inputs) input->exit();
  bool hard = false;
  {
    std::lock_guard lock(stop_mutex);
    hard = hard_stop;
  }
  if (options.once && exit_kind == EngineExit::kStopped && !hard &&
      !outputs->wait_delivered(options.delivery_timeout)) {
    spdlog::error(
        "outputs did not confirm every alert within {}s: the rest stays spooled for the next run",
        options.delivery_timeout.count());
    exit_kind = EngineExit::kUndelivered;
  }
  outputs->close();
  return exit_kind;
}

// ---------------------------------------------------------------- io thread

void Engine::Impl::schedule_collect() {
  if (collect_posted || stopping) return;
  collect_posted = true;
  asio::post(io, [this] { collect_round(); });
}

void Engine::Impl::collect_round() {
  collect_posted = false;
  if (stopping || drained_queued) return;
  // Announce the wait before looking, so a detection thread that frees room right now sees it.
  reader_waiting = true;
  if (!queue.has_room()) return;
  reader_waiting = false;
  bool more = false;
  std::vector<WorkItem> out;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i]->collect(rescan_needed[i], out)) more = true;
    rescan_needed[i] = false;
  }
  const bool found = !out.empty();
  std::vector<std::pair<std::size_t, std::string>> fed;
  for (WorkItem& item : out) {
    if (item.events) {
      const EventBatch& b = *item.events;
      fed.emplace_back(b.input_index, b.origin.empty() ? b.stream : b.origin);
    }
    queue.push(std::move(item));
  }
  if (options.once) {
    // Done only when a whole round finds nothing new and nothing waits to settle; the marker
    // then follows the last batch.
    const bool settling = std::any_of(inputs.begin(), inputs.end(),
                                      [](const auto& input) { return input->settling(); });
    // A file waiting to settle may hold the oldest events: the time merge hears of the round
    // only once nothing does.
    if (!settling) {
      WorkItem round;
      round.round = std::move(fed);
      queue.push(std::move(round));
    }
    if (more || found) {
      schedule_collect();
    } else if (settling) {
      arm_linger();
    } else {
      drained_queued = true;
      WorkItem marker;
      marker.drained = true;
      queue.push(std::move(marker));
    }
    return;
  }
  if (more) schedule_collect();
  arm_linger();
}

void Engine::Impl::arm_linger() {
  if (linger_armed || stopping) return;
  const bool any = std::any_of(inputs.begin(), inputs.end(),
                               [](const auto& input) { return input->lingering(); });
  if (!any) return;
  linger_armed = true;
  linger_timer.expires_after(scaled_timer(kLingerCheck));
  linger_timer.async_wait([this](const boost::system::error_code& ec) {
    linger_armed = false;
    if (ec) return;
    schedule_collect();
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

// A folder an input reads that does not exist (yet, or any more): watch the nearest parent that
// does, so the folder is followed as soon as it is created (mkdir -p creates several levels one
// by one).
void Engine::Impl::watch_for_creation(const std::string& dir, const std::string& error) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    spdlog::error("{} (the inputs reading there see nothing until the agent is restarted)", error);
    return;
  }
  std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  while (parent.has_relative_path() && !std::filesystem::exists(parent, ec)) {
    parent = parent.parent_path();
  }
  std::string parent_error;
  if (!watcher->add(parent.string(), parent_error)) {
    spdlog::error("{}; cannot watch {} for it either ({}): restart the agent once it exists", error,
                  parent.string(), parent_error);
    return;
  }
  if (missing_directories.insert(dir).second) {
    spdlog::info("input folder {} does not exist yet; watching {} for it", dir, parent.string());
  }
}

void Engine::Impl::retry_missing_directories() {
  std::vector<std::string> waiting(missing_directories.begin(), missing_directories.end());
  for (const std::string& dir : waiting) {
    std::string error;
    if (!watcher->add(dir, error)) {
      watch_for_creation(dir, error);  // a deeper parent may exist by now
      continue;
    }
    missing_directories.erase(dir);
    spdlog::info("input folder {} appeared; following its files", dir);
    for (std::size_t i : inputs_by_directory[dir]) rescan_needed[i] = true;
  }
}

// An input folder was removed or moved away, and its watch with it: watch it again if something
// already stands at its path, else wait for it to be created.
void Engine::Impl::directory_gone(const std::string& dir) {
  std::string error;
  if (watcher->add(dir, error)) return;
  spdlog::warn("input folder {} went away; watching for it to come back", dir);
  watch_for_creation(dir, error);
}

void Engine::Impl::on_watch(const std::vector<platform::WatchEvent>& events) {
  const bool appeared = std::any_of(events.begin(), events.end(), [](const auto& e) {
    return e.kind == platform::WatchKind::kAppeared || e.kind == platform::WatchKind::kOverflow;
  });
  if (appeared && !missing_directories.empty()) retry_missing_directories();
  for (const platform::WatchEvent& e : events) {
    if (e.kind == platform::WatchKind::kOverflow) {
      std::fill(rescan_needed.begin(), rescan_needed.end(), true);
      continue;
    }
    if (e.kind == platform::WatchKind::kChanged) continue;
    auto it = inputs_by_directory.find(e.directory);
    if (it == inputs_by_directory.end()) continue;
    if (e.kind == platform::WatchKind::kGone && e.name.empty()) directory_gone(e.directory);
    for (std::size_t i : it->second) rescan_needed[i] = true;
  }
  schedule_collect();
}

void Engine::Impl::begin_stop(std::string_view reason) {
  if (stopping) {
    spdlog::warn("{} again: stopping now without waiting for the outputs", reason);
    outputs->abort();
    std::lock_guard lock(stop_mutex);
    hard_stop = true;
    stop_cv.notify_all();
    return;
  }
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
    outputs->abort();
    std::lock_guard lock(stop_mutex);
    hard_stop = true;
    stop_cv.notify_all();
  });
}

void Engine::Impl::finish() {
  deadline_timer.cancel();
  watchdog_timer.cancel();
  linger_timer.cancel();
  if (metrics_server) metrics_server->stop();
  signals.reset();
  io.stop();
}

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
  std::vector<std::string> problems;
  auto fresh = make_detector(*result.config, problems, options.reorder_window_seconds, live);
  for (const std::string& p : problems) {
    if (fresh) {
      spdlog::warn("rule skipped: {}", p);
    } else {
      spdlog::error("{}", p);
    }
  }
  if (!fresh) {
    reject_reload("broken rules");
    return;
  }
  ++metrics.reloads;
  const bool auto_filter = std::any_of(config.inputs.begin(), config.inputs.end(), [](auto& i) {
    return i.event_id_filter == InputConfig::EventIds::kAuto;
  });
  if (same_pipeline(config, *result.config) &&
      !(auto_filter && fresh->interest() != subscribed_interest)) {
    config.rules = result.config->rules;
    config.agent.log_level = result.config->agent.log_level;
    setup_logging(config.agent.log_level);
    spdlog::info("reload: {} rule(s) loaded; inputs and outputs unchanged", fresh->rule_count());
    {
      std::lock_guard lock(swap_mutex);
      pending_detector = std::move(fresh);
    }
    queue.push(WorkItem{});  // wakes the detection thread to swap at a batch boundary
    platform::service::notify_ready("running (reloaded)");
    return;
  }
  spdlog::info(
      "reload: inputs, outputs, data_dir or the events the rules read changed; "
      "restarting the pipeline");
  new_config = std::move(*result.config);
  new_detector = std::move(fresh);
  exit_kind = EngineExit::kRestart;
  begin_stop("reload");
}

// ---------------------------------------------------------------- detection thread

std::size_t Engine::Impl::input_index(const std::string& name) const {
  for (std::size_t i = 0; i < config.inputs.size(); ++i) {
    if (config.inputs[i].name == name) return i;
  }
  return 0;
}

void Engine::Impl::detection_main() {
  WorkItem item;
  bool stored_all = true;
  for (;;) {
    // A pending checkpoint is written when the stream pauses, at most save_gap after the last.
    std::optional<SteadyClock::time_point> save_due;
    if (dirty && options.reorder_window_seconds == 0 && !merger) save_due = last_save + save_gap;
    const WorkQueue::Popped popped = queue.pop(item, save_due);
    if (popped == WorkQueue::Popped::kTimeout) {
      save_state(true);
      continue;
    }
    if (popped == WorkQueue::Popped::kClosed) break;
    {
      std::lock_guard lock(stop_mutex);
      if (hard_stop) break;
    }
    if (item.drained) {
      asio::post(io, [this] { begin_stop("inputs drained (--once)"); });
      continue;
    }
    busy_since_ms = steady_ms();
    apply_pending_detector();
    const bool stored = process(item);
    live->publish(detector->tracker());
    note_evictions();
    busy_since_ms = 0;
    if (!stored) {
      stored_all = false;
      break;
    }
    save_state(false);
    if (queue.has_room() && reader_waiting.exchange(false)) {
      asio::post(io, [this] { collect_round(); });
    }
  }
  bool hard = false;
  {
    std::lock_guard lock(stop_mutex);
    hard = hard_stop;
  }
  if (!hard && stored_all) {
    std::vector<Alert> alerts;
    if (merger) end_round({}, alerts);  // every file read: release what is held
    detector->flush([&](Alert&& a) { alerts.push_back(std::move(a)); });
    metrics.alerts += alerts.size();
    const bool stored = store_alerts(alerts);
    live->publish(detector->tracker());
    if (stored) {
      dirty = true;
      save_state(true, true);
    }
  }
  asio::post(io, [this] { finish(); });
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

// State the tracker let go at its caps is said (once a minute at most) and counted: alerts that
// needed it (a console holder, an arbitration) can no longer be raised.
void Engine::Impl::note_evictions() {
  const TrackerStats& stats = detector->tracker().stats();
  if (stats.hosts_evicted > metrics.hosts_evicted) {
    limiter.error("tracker-hosts",
                  "session tracker: more computers than it keeps; the state of {} quiet "
                  "computer(s) was let go (a relay should own fewer computers: docs/scaling.md)",
                  stats.hosts_evicted - metrics.hosts_evicted);
  }
  metrics.hosts_evicted = stats.hosts_evicted;
  metrics.sessions_evicted = stats.sessions_evicted;
}

void Engine::Impl::publish_rule_matches() {
  const std::uint64_t alerts = detector->stats().alerts;
  if (alerts == alerts_at_last_metrics) return;
  alerts_at_last_metrics = alerts;
  metrics.set_rule_matches(detector->rule_matches());
}

void Engine::Impl::raise_gap(const CollectionGap& gap, std::vector<Alert>& alerts) {
  ++metrics.inputs[input_index(gap.input)]->gaps;
  spdlog::warn("collection gap: input {} {}{}{} {} from {} {}", gap.input, gap.path,
               gap.stream.empty() ? "" : " ", gap.stream, gap.cause, gap.unit, gap.from);
  alerts.push_back(make_gap_alert(gap, host, now_ticks()));
}

bool Engine::Impl::store_alerts(std::vector<Alert>& alerts) {
  if (alerts.empty()) return true;
  // event.created: when the agent raised the alert. Set here, not when the alert is built, so
  // the same input gives byte-identical alerts in scan and in tests.
  const std::string created = format_time(now_ticks());
  for (Alert& a : alerts) {
    if (a.created.empty()) a.created = created;
    live->on_alert(a);
  }
  std::string error;
  auto backoff = 100ms;
  for (;;) {
    if (outputs->store(alerts, error)) return true;
    limiter.error("store", "cannot store alerts: {} (retrying; sources wait)", error);
    std::unique_lock lock(stop_mutex);
    if (stop_cv.wait_for(lock, backoff, [&] { return hard_stop; })) return false;
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5000ms);
  }
}

bool Engine::Impl::process(WorkItem& item) {
  std::vector<Alert> alerts;
  std::vector<CollectionGap> gaps = std::move(item.gaps);
  std::optional<std::string> job_checkpoint;
  if (item.refused) refuse(*item.refused);
  if (item.adopt_parts) adopt_parts(*item.adopt_parts);
  if (item.events) process_events(*item.events, alerts, gaps);
  if (item.round) end_round(*item.round, alerts);
  if (item.job) job_checkpoint = run_job(*item.job, alerts, gaps);
  std::vector<Alert> all;
  all.reserve(gaps.size() + alerts.size());
  for (const CollectionGap& gap : gaps) raise_gap(gap, all);
  for (Alert& a : alerts) all.push_back(std::move(a));
  if (!all.empty()) {
    metrics.alerts += all.size();
    publish_rule_matches();
    // The checkpoint moves only once the alerts of these events are in every output.
    if (!store_alerts(all)) return false;
  }
  if (job_checkpoint) {
    const InputJob& job = *item.job;
    committed.streams[config.inputs[job.input_index].name][job.stream] = *job_checkpoint;
    uncommitted[{job.input_index, job.stream}] = std::move(*job_checkpoint);
    dirty = true;
  }
  if (item.events) {
    EventBatch& b = *item.events;
    auto& entries = committed.streams[config.inputs[b.input_index].name];
    if (b.forget) {
      entries.erase(b.stream);
    } else {
      entries[b.stream] = b.checkpoint;
      uncommitted[{b.input_index, std::move(b.stream)}] = std::move(b.checkpoint);
    }
    dirty = true;
  }
  if (!gaps.empty()) dirty = true;
  return true;
}

void Engine::Impl::deliver(std::size_t input_index, const std::string& path, Event& event,
                           const Detector::AlertCallback& on_alert) {
  if (!merger) {
    const LiveState::CauseScope cause(live.get(), event);
    detector->process(event, on_alert);
    return;
  }
  auto [it, added] = merge_streams.try_emplace({input_index, path}, 0);
  if (added) it->second = merger->add_stream(path);
  merger->push(it->second, event);
  // A file read whole at once (EVTX) or a file the io thread cannot be asked for must not make
  // the merge hold more than its budget.
  merger->release_over_budget([&](Event& e) {
    const LiveState::CauseScope cause(live.get(), e);
    detector->process(e, on_alert);
  });
}

void Engine::Impl::end_round(const std::vector<std::pair<std::size_t, std::string>>& fed,
                             std::vector<Alert>& alerts) {
  merge_started = true;
  for (const auto& [key, stream] : merge_streams) {
    if (std::find(fed.begin(), fed.end(), key) == fed.end()) merger->end(stream);
  }
  release_merged(alerts);
}

void Engine::Impl::release_merged(std::vector<Alert>& alerts) {
  if (!merger) return;
  const Detector::AlertCallback on_alert = [&](Alert&& a) { alerts.push_back(std::move(a)); };
  const auto process = [&](Event& e) {
    const LiveState::CauseScope cause(live.get(), e);
    detector->process(e, on_alert);
  };
  // Before the first round is in, a file not read yet could still hold the oldest events: only
  // what is over the memory budget goes on.
  if (merge_started) {
    merger->release(process);
  } else {
    merger->release_over_budget(process);
  }
}

void Engine::Impl::refuse(const RefusedFile& file) {
  ++metrics.inputs[file.input_index]->files_refused;
  spdlog::warn("input {}: {} is not read: {}", config.inputs[file.input_index].name, file.path,
               file.reason);
}

void Engine::Impl::check_record_id(const EventBatch& batch, const Event& event,
                                   std::vector<CollectionGap>& gaps) {
  const auto skipped = record_id_gaps[batch.input_index].observe(batch.stream, event.computer(),
                                                                 event.channel(), event.record_id);
  if (!skipped) return;
  CollectionGap gap;
  gap.input = config.inputs[batch.input_index].name;
  gap.path = batch.origin;
  gap.stream = std::string(event.computer()) + " " + std::string(event.channel());
  gap.cause = "record_ids_skipped";
  gap.unit = "records";
  gap.from = skipped->from;
  gap.to = skipped->to;
  gap.count = skipped->to - skipped->from + 1;
  gaps.push_back(std::move(gap));
}

// The input decoded the batch on its own thread; here its events are tracked and matched.
void Engine::Impl::process_events(EventBatch& batch, std::vector<Alert>& alerts,
                                  std::vector<CollectionGap>& gaps) {
  InputMetrics& m = *metrics.inputs[batch.input_index];
  const auto on_alert = [&](Alert&& a) { alerts.push_back(std::move(a)); };
  const std::string& origin = batch.origin.empty() ? batch.stream : batch.origin;
  for (const RecordError& e : batch.errors) {
    limiter.error("decode:" + origin, "{}:{}: {}", origin, e.number, e.reason);
  }
  Ticks last_time = 0;
  for (Event& event : batch.events) {
    if (batch.check_record_ids) check_record_id(batch, event, gaps);
    last_time = std::max(last_time, event.time_created);
    deliver(batch.input_index, origin, event, on_alert);
  }
  if (batch.forget) record_id_gaps[batch.input_index].forget(batch.stream);
  release_merged(alerts);
  const std::size_t decoded = batch.events.size();
  if (batch.pool) batch.pool->give(std::move(batch.events));
  m.events_read += batch.records_read;
  m.events_decoded += decoded;
  m.events_bad += batch.errors.size();
  m.bytes_read += batch.bytes_read;
  spdlog::trace("input {}: batch of {} records ({} bytes) from {}: {} events, {} bad", m.name,
                batch.records_read, batch.bytes_read, origin, decoded, batch.errors.size());
  if (last_time != 0) {
    m.lag_seconds =
        static_cast<double>(now_ticks() - last_time) / static_cast<double>(kTicksPerSecond);
  }
}

// A job an input queued (an EVTX file to read), run here since its reader hands events over
// synchronously; the stream's checkpoint once read, nullopt when nothing was.
std::optional<std::string> Engine::Impl::run_job(InputJob& job, std::vector<Alert>& alerts,
                                                 std::vector<CollectionGap>& gaps) {
  const Detector::AlertCallback on_alert = [&](Alert&& a) { alerts.push_back(std::move(a)); };
  InputJob::Context context;
  const auto& stored = committed.streams[config.inputs[job.input_index].name];
  if (const auto it = stored.find(job.stream); it != stored.end()) context.checkpoint = &it->second;
  context.deliver = [&](Event& e) { deliver(job.input_index, job.origin, e, on_alert); };
  context.error = [&](const std::string& key, const std::string& message) {
    limiter.error(key, "{}", message);
  };
  context.gaps = &gaps;
  context.metrics = metrics.inputs[job.input_index].get();
  std::optional<std::string> checkpoint = job.run(context);
  if (auto it = merge_streams.find({job.input_index, job.origin}); it != merge_streams.end()) {
    // Read whole: it holds the others back no longer.
    merger->end(it->second);
    release_merged(alerts);
  }
  return checkpoint;
}

static std::string record_ids_prefix(const std::string& input) {
  return "record_ids/" + input + "/";
}

// The record-id streams of the files this input still follows, as they were at the checkpoint.
void Engine::Impl::restore_record_ids(const std::string& input, const AgentState& state,
                                      RecordIdGaps& gaps) {
  std::set<std::string, std::less<>> open_files;
  if (const auto it = state.streams.find(input); it != state.streams.end()) {
    for (const auto& entry : it->second) open_files.insert(entry.first);
  }
  try {
    gaps.restore_parts(record_ids_prefix(input), state.parts, open_files);
  } catch (const std::exception& e) {
    // Only costs a gap across the restart going unnoticed until the streams prove themselves.
    spdlog::warn("input {}: record-id streams not restored ({}); they start afresh", input,
                 e.what());
  }
}

// The detector's parts and every input's record-id streams: all changed by the same events.
void Engine::Impl::snapshot_parts(bool changes_only, StateParts& out) {
  detector->snapshot_parts(changes_only, out);
  for (std::size_t i = 0; i < record_id_gaps.size(); ++i) {
    record_id_gaps[i].snapshot_parts(record_ids_prefix(config.inputs[i].name), changes_only, out);
  }
}

bool Engine::Impl::write_full_checkpoint(std::string& error, StateParts* written) {
  StateParts parts;
  snapshot_parts(false, parts);
  AgentState full = committed;
  for (const StatePart& part : parts) full.parts.emplace(part.key, *part.value);
  if (written) *written = std::move(parts);
  return store.save(full, error);
}

// The handed-over parts replace this detector's parts of the same keys (the tracker's header
// stays ours); the detector restores from parts only as a whole.
void Engine::Impl::adopt_parts(const StatePartMap& handed) {
  StateParts current;
  detector->snapshot_parts(false, current);
  StatePartMap merged;
  for (StatePart& part : current) merged.emplace(std::move(part.key), std::move(*part.value));
  for (const auto& [key, value] : handed) {
    if (key.starts_with("session/host/") || key.starts_with("session/sids/")) merged[key] = value;
  }
  std::string error;
  if (!detector->restore_parts(merged, error)) {
    spdlog::warn("handed-over session state not applied: {}", error);
  }
  live->mark_all(detector->tracker());
  full_checkpoint_due = true;  // snapshot_parts(false) above forgot which parts changed
  dirty = true;
}

void Engine::Impl::save_state(bool force, bool final) {
  if (!dirty) return;
  // Held events are not in the snapshot: a checkpoint past them would lose them in a crash.
  if ((options.reorder_window_seconds > 0 || merger) && !final) return;
  const auto now = SteadyClock::now();
  if (!force && now - last_save < save_gap) return;
  committed.saved_at = now_ticks();
  // Usually only what changed since the last checkpoint is appended to the journal; the journal
  // is folded into a full checkpoint once it outgrows one, so that cost is spread over as many
  // bytes of appended checkpoints as it writes.
  const bool full = final || full_checkpoint_due || store.needs_full() ||
                    store.journal_bytes() > std::max(kMinJournalBytes, store.full_bytes());
  std::string error;
  bool saved = false;
  StateParts written;
  if (full) {
    saved = write_full_checkpoint(error, &written);
  } else {
    snapshot_parts(true, written);
    saved = store.append(committed, written, error);
  }
  last_save = SteadyClock::now();  // on failure: retried after save_gap, not in a loop
  if (!saved) {
    limiter.error("state", "cannot write checkpoints: {}", error);
    return;
  }
  ++metrics.checkpoints_written;
  spdlog::debug("checkpoint: {} in {} ms (full {} bytes, journal {} bytes)",
                full ? "full" : "appended",
                std::chrono::duration_cast<std::chrono::milliseconds>(last_save - now).count(),
                store.full_bytes(), store.journal_bytes());
  dirty = false;
  full_checkpoint_due = false;
  for (const auto& input : inputs) input->state_written(written);
  hand_back_commits();
  if (!full) {
    save_gap = std::max<SteadyClock::duration>(kSaveInterval, (last_save - now) * kSaveCostFactor);
  }
}

// Inputs are only ever called on the io thread; it runs until the detection thread is done.
void Engine::Impl::hand_back_commits() {
  if (uncommitted.empty()) return;
  asio::post(io, [this, commits = std::move(uncommitted)] {
    for (const auto& [key, checkpoint] : commits)
      inputs[key.first]->committed(key.second, checkpoint);
  });
  uncommitted.clear();
}

}  // namespace sw::daemon
