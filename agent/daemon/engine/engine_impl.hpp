// The engine's state and steps, shared by the files it is split into (private to daemon/engine*):
//   lifecycle.cpp    start (data_dir, state, outputs, inputs, watches, metrics, threads), run,
//                    stop and the watchdog
//   collect.cpp      the io thread's collect rounds and folder watches
//   reload.cpp       SIGHUP: the new config compared, the detector swapped or the pipeline
//   restarted detection.cpp    the detection thread: events, jobs, gaps, refused files, alerts to
//   the spools checkpoints.cpp  state writes (journal or full), commits handed back to the inputs
// The io thread owns the inputs, watches and timers; the detection thread owns the detector, the
// record-id trackers and the committed state; WorkQueue and the mutexes are between them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/packed_spares.hpp"
#include "daemon/engine.hpp"
#include "daemon/engine/checkpoint_writer.hpp"
#include "daemon/engine/log_limiter.hpp"
#include "daemon/engine/work_queue.hpp"
#include "daemon/input.hpp"
#include "daemon/metrics.hpp"
#include "daemon/outputs.hpp"
#include "daemon/query.hpp"
#include "daemon/record_id_gaps.hpp"
#include "daemon/state.hpp"
#include "decode/merge.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::daemon {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

// Checkpoints are written at most this often, and never more often than it takes to write them
// times kSaveCostFactor (checkpoints.cpp): with a large tracker state, writing it after every
// batch would cost more than the events themselves. The state is written at the latest this long
// after the last event.
constexpr std::chrono::milliseconds kSaveInterval{200};
// How long the last batch's fsync may run beside the detection of the batches after it before
// it is waited for (its checkpoints, and theirs, then move).
constexpr std::chrono::milliseconds kSyncOverlap{50};
// The live view's session lists (query.hpp) are copied at most this often, at most this many
// records at a time: a few ms of copying, however many computers each batch changes.
constexpr std::chrono::milliseconds kSessionsPublishInterval{50};
constexpr std::size_t kSessionRecordsPerPublish = 16384;

// The detection thread's busy_since_ms clock, read by the watchdog.
inline std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

// Stream checkpoints by (input index, stream).
using StreamCommits = std::map<std::pair<std::size_t, std::string>, std::string>;

// Where a batch moves its inputs' checkpoints: each stream's new one, or none to forget it.
struct CheckpointMoves {
  std::vector<std::pair<std::pair<std::size_t, std::string>, std::optional<std::string>>> streams;
  bool changed = false;  // something to write (a gap too)
};

// A checkpoint the detection thread took, for the writer thread to write.
struct PendingCheckpoint {
  bool full = false;
  AgentState state;       // the positions
  StateParts parts;       // full: every part; appended: the parts changed since the last one
  StreamCommits commits;  // handed back to their inputs once written
  SteadyClock::time_point taken;
  SteadyClock::duration taking{};  // the detection thread's part
};

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
  // Some input reads the detector parts of each state write (Input::state_written): only then
  // are they kept past a full write, which otherwise moves them into the file's text.
  bool state_written_wanted = false;
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
  bool operator_asked_stop = false;   // a signal (or the service manager) asked once
  bool drained_queued = false;        // once: the end-of-input marker is in the queue
  std::size_t streams_at_start = 0;   // the checkpointed streams when the agent started
  bool waiting_for_delivery = false;  // once: stored and checkpointed, the outputs still sending
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
  std::thread delivery_thread;  // once: waits for the outputs while the io loop still runs

  // ---- detection thread ----
  AgentState committed;
  bool dirty = false;
  SteadyClock::time_point last_save{};
  SteadyClock::duration save_gap = kSaveInterval;  // grows with the time a save takes
  SteadyClock::time_point next_sessions_publish{};
  bool full_checkpoint_due = false;  // the detector was replaced (reload)
  // Stream checkpoints stored since the last state write: handed back to their inputs once a
  // write holds them.
  StreamCommits uncommitted;
  // The last batch's alerts are in the spools, their fsync under way while the next batch is
  // detected; its checkpoints move once they are durable (finish_unsynced).
  std::optional<CheckpointMoves> unsynced;
  SteadyClock::time_point unsynced_at{};  // when its alerts were stored
  std::uint64_t alerts_at_last_metrics = ~0ULL;
  // `run --once`: the events of every file input and EVTX file merged by event time (as `scan`
  // does), so the result does not depend on the order of the inputs or of their files.
  std::unique_ptr<decode_detail::TimeMerger> merger;
  std::map<std::pair<std::size_t, std::string>, std::size_t> merge_streams;  // never erased
  const decltype(merge_streams)::value_type* last_merge_stream = nullptr;  // merge_stream()'s last
  bool merge_started = false;  // the first round is in: every file of the backlog is known
  // Storage of the events the merge released, back from the detection thread to be packed into
  // again here (io thread), and what pack_for_merge has of it.
  std::shared_ptr<PackedReturns> merge_returns = std::make_shared<PackedReturns>();
  PackedSpares merge_spares{std::size_t{8} << 20};

  // lifecycle.cpp: start, run, stop (io thread)
  EngineExit run();
  bool start();
  bool open_data_dir();
  bool lock_data_dir();
  AgentState load_state();
  void restore_detector(const AgentState& state);
  bool open_outputs();
  bool open_inputs(const AgentState& state, std::vector<WorkItem>& initial);
  bool write_first_checkpoint(AgentState state);
  bool watch_input_folders();
  bool start_metrics_server();
  void start_detection(std::vector<WorkItem> initial);
  void stop_hard();
  bool stopped_hard();
  void arm_watchdog();
  void on_stop_signal(std::string_view why);
  void begin_stop(std::string_view reason);
  void finish();
  void wait_for_delivery();
  void end_io();
  bool healthy() const;

  // collect.cpp: collect rounds and folder watches (io thread)
  void collect_round();
  void pack_for_merge(EventBatch& batch);
  void end_once_round(std::vector<std::pair<std::size_t, std::string>> fed, bool found);
  void schedule_collect();
  void arm_linger();
  void on_watch(const std::vector<platform::WatchEvent>& events);
  void watch_for_creation(const std::string& dir, std::string error);
  void retry_missing_directories();
  void follow_again(const std::string& dir);
  void directory_gone(const std::string& dir);

  // reload.cpp: SIGHUP (io thread), the detector swap (detection thread)
  void on_reload();
  void reload();
  std::unique_ptr<Detector> build_reloaded_detector(const Config& next);
  bool keeps_pipeline(const Config& next, const Detector& fresh) const;
  void swap_detector(const Config& next, std::unique_ptr<Detector> fresh);
  void restart_pipeline(Config next, std::unique_ptr<Detector> fresh);
  void reject_reload(const std::string& why);
  void apply_pending_detector();

  // detection.cpp: the detection thread's loop
  void detection_main();
  bool detection_loop();
  bool process_timed(WorkItem& item);
  void publish_live();
  std::optional<SteadyClock::time_point> wake_up_at() const;
  void flush_detector();
  bool process(WorkItem& item);
  void refuse(const RefusedFile& file);
  // To the detector, or to the time merge when there is one (a copy of `event`).
  void deliver(std::size_t input_index, const std::string& path, Event& event,
               const Detector::AlertCallback& on_alert);
  void deliver(std::size_t input_index, const std::string& path, PackedEvent&& event,
               const Detector::AlertCallback& on_alert);
  std::size_t merge_stream(std::size_t input_index, const std::string& path);
  void release_over_budget(const Detector::AlertCallback& on_alert);
  void end_round(const std::vector<std::pair<std::size_t, std::string>>& fed,
                 std::vector<Alert>& alerts);
  void release_merged(std::vector<Alert>& alerts);
  void process_events(EventBatch& batch, std::vector<Alert>& alerts,
                      std::vector<CollectionGap>& gaps);
  void check_record_id(const EventBatch& batch, std::string_view computer, std::string_view channel,
                       std::uint64_t record_id, std::vector<CollectionGap>& gaps);
  std::optional<std::string> run_job(InputJob& job, std::vector<Alert>& alerts,
                                     std::vector<CollectionGap>& gaps);
  void stamp_alerts(std::vector<Alert>& alerts);
  bool store_alerts(std::vector<Alert>& alerts);
  bool store_alerts_unsynced(std::vector<Alert>&& alerts);
  bool finish_unsynced();
  CheckpointMoves checkpoint_moves(WorkItem& item, std::optional<std::string> job_checkpoint,
                                   bool gaps) const;
  void move_checkpoints(CheckpointMoves& moves);
  static void append_moves(CheckpointMoves& moves, CheckpointMoves&& later);
  void publish_rule_matches();
  void note_evictions();
  void raise_gap(const CollectionGap& gap, std::vector<Alert>& alerts);
  std::size_t input_index(const std::string& name) const;

  // checkpoints.cpp: state writes and the commits they lead to (detection thread; written on
  // the checkpoint writer's thread)
  void save_state(bool force, bool final = false);
  void take_back_failed_write();
  // `last`: the final checkpoint, its detector parts encoded as they are written
  // (Detector::last_parts).
  PendingCheckpoint take_checkpoint(bool full, bool last = false);
  void write_checkpoint(PendingCheckpoint& checkpoint);  // writer thread
  bool write_full_checkpoint(std::string& error);
  void hand_back_commits(StreamCommits commits);
  void adopt_parts(const StatePartMap& handed);
  void snapshot_parts(bool changes_only, StateParts& out, bool last = false);
  void restore_record_ids(const std::string& input, const AgentState& state, RecordIdGaps& gaps);

  // ---- between the detection thread and the checkpoint writer ----
  // Set by a failed write (the writer then wakes the detection thread): its commits wait in
  // failed_commits, read after writer.wait_idle(), for the next write.
  std::atomic<bool> write_failed{false};
  StreamCommits failed_commits;
  // A checkpoint is due but waits for the write under way: the writer wakes the detection
  // thread when it is done, which never waits for it (save_state).
  std::atomic<bool> checkpoint_deferred{false};
  // The writer's time for the last appended checkpoint (SteadyClock ticks): spaces the next.
  std::atomic<SteadyClock::rep> last_append_writing{0};
  // Last: destroyed, so done writing, before what its writes use.
  CheckpointWriter writer{[this] {
    if (checkpoint_deferred.exchange(false)) queue.wake();
  }};
};

}  // namespace sw::daemon
