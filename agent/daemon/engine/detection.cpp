// The detection thread: work items in order (events, jobs, gaps, refused files), the detector,
// alerts to the spools.
#include "daemon/engine/engine_impl.hpp"

#include <algorithm>
#include <chrono>
#include <span>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "sessionwatch/gap_alert.hpp"

namespace sw::daemon {

using namespace std::chrono_literals;

namespace {

// How many packed events ahead process_events() asks for the bytes it reads first.
constexpr std::size_t kPackedAhead = 6;

}  // namespace

std::size_t Engine::Impl::input_index(const std::string& name) const {
  for (std::size_t i = 0; i < config.inputs.size(); ++i) {
    if (config.inputs[i].name == name) return i;
  }
  return 0;
}

void Engine::Impl::detection_main() {
  if (detection_loop() && !stopped_hard()) flush_detector();
  writer.wait_idle();  // its commits are posted before finish()
  asio::post(io, [this] { finish(); });
}

// Until the queue is closed and empty, or a stop that cannot wait; false when alerts could not be
// stored (their checkpoints stay behind them).
bool Engine::Impl::detection_loop() {
  WorkItem item;
  for (;;) {
    const WorkQueue::Popped popped = queue.pop(item, wake_up_at());
    if (popped == WorkQueue::Popped::kTimeout) {
      if (!finish_unsynced()) return false;  // no batch came to detect beside its fsync
      if (live->sessions_behind()) publish_live();
      save_state(false);  // when save_gap has passed
      continue;
    }
    if (popped == WorkQueue::Popped::kClosed || stopped_hard()) return true;
    if (item.drained) {
      asio::post(io, [this] { begin_stop("inputs drained (--once)"); });
      continue;
    }
    if (!process_timed(item)) return false;
    save_state(false);
    if (queue.has_room() && reader_waiting.exchange(false)) {
      asio::post(io, [this] { collect_round(); });
    }
  }
}

// When the stream pauses: the last batch's fsync is waited for, a pending checkpoint is written
// at most save_gap after the last, and the live view's session lists catch up.
std::optional<SteadyClock::time_point> Engine::Impl::wake_up_at() const {
  std::optional<SteadyClock::time_point> at;
  const auto no_later_than = [&at](SteadyClock::time_point t) {
    if (!at || t < *at) at = t;
  };
  // A deferred checkpoint waits for the writer's wake-up, not for a time.
  if (dirty && options.reorder_window_seconds == 0 && !merger && !checkpoint_deferred)
    no_later_than(last_save + save_gap);
  if (live->sessions_behind()) no_later_than(next_sessions_publish);
  if (unsynced) no_later_than(SteadyClock::now() + kSyncOverlap);
  return at;
}

// The console at once; session lists a budget at a time, at most every kSessionsPublishInterval.
void Engine::Impl::publish_live() {
  const auto now = SteadyClock::now();
  std::size_t session_records = 0;
  if (now >= next_sessions_publish) {
    session_records = kSessionRecordsPerPublish;
    next_sessions_publish = now + kSessionsPublishInterval;
  }
  live->publish(detector->tracker(), session_records);
}

// process() with the watchdog's clock running.
bool Engine::Impl::process_timed(WorkItem& item) {
  busy_since_ms = steady_ms();
  apply_pending_detector();
  const bool stored = process(item);
  publish_live();
  note_evictions();
  busy_since_ms = 0;
  return stored;
}

// At the end: what the detector still holds (events waiting for order, open correlations) is
// raised and stored, then the final checkpoint written.
void Engine::Impl::flush_detector() {
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

// event.created: when the agent raised the alert. Set here, not when the alert is built, so the
// same input gives byte-identical alerts in scan and in tests.
void Engine::Impl::stamp_alerts(std::vector<Alert>& alerts) {
  const std::string created = format_time(now_ticks());
  for (Alert& a : alerts) {
    if (a.created.empty()) a.created = created;
    live->on_alert(a);
  }
}

bool Engine::Impl::store_alerts(std::vector<Alert>& alerts) {
  if (alerts.empty()) return true;
  if (!finish_unsynced()) return false;  // in order: the batch before is durable first
  stamp_alerts(alerts);
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

// As store_alerts(), returning while the spools' fsyncs run: finish_unsynced() waits for them.
// The outputs refuse only once a stop cannot wait any more.
bool Engine::Impl::store_alerts_unsynced(std::vector<Alert>&& alerts) {
  stamp_alerts(alerts);
  std::string error;
  if (outputs->store_unsynced(std::move(alerts), error)) return true;
  limiter.error("store", "cannot store alerts: {} (stopping)", error);
  return false;
}

// The last batch's alerts made durable, then its checkpoints moved. False when a stop that
// cannot wait came first: the checkpoints stay behind the alerts.
bool Engine::Impl::finish_unsynced() {
  if (!unsynced) return true;
  std::string error;
  if (!outputs->sync_stored(error)) {
    limiter.error("store", "cannot store alerts: {} (stopping)", error);
    return false;
  }
  move_checkpoints(*unsynced);
  unsynced.reset();
  return true;
}

bool Engine::Impl::process(WorkItem& item) {
  std::vector<Alert> alerts;
  std::vector<CollectionGap> gaps = std::move(item.gaps);
  std::optional<std::string> job_checkpoint;
  if (item.refused) refuse(*item.refused);
  if (item.adopt_parts) adopt_parts(*item.adopt_parts);
  if (item.events) process_events(*item.events, alerts, gaps);
  if (item.round) end_round(*item.round, alerts);
  if (item.job) {
    if (!finish_unsynced()) return false;  // a job starts from its stream's moved checkpoint
    job_checkpoint = run_job(*item.job, alerts, gaps);
  }
  std::vector<Alert> all;
  all.reserve(gaps.size() + alerts.size());
  for (const CollectionGap& gap : gaps) raise_gap(gap, all);
  for (Alert& a : alerts) all.push_back(std::move(a));
  CheckpointMoves moves = checkpoint_moves(item, std::move(job_checkpoint), !gaps.empty());
  if (all.empty()) {
    // Nothing to store: its checkpoints move after those of the batch still syncing. That one
    // is waited for once its fsync had time to end, so a stream without alerts moves on.
    if (unsynced && SteadyClock::now() - unsynced_at < kSyncOverlap) {
      append_moves(*unsynced, std::move(moves));
      return true;
    }
    if (!finish_unsynced()) return false;
    move_checkpoints(moves);
    return true;
  }
  // The batch before was synced while this one was detected: its checkpoints move first.
  if (!finish_unsynced()) return false;
  metrics.alerts += all.size();
  publish_rule_matches();
  // These checkpoints move only once the alerts of these events are durable in every output.
  if (!store_alerts_unsynced(std::move(all))) return false;
  unsynced = std::move(moves);
  unsynced_at = SteadyClock::now();
  return true;
}

CheckpointMoves Engine::Impl::checkpoint_moves(WorkItem& item,
                                               std::optional<std::string> job_checkpoint,
                                               bool gaps) const {
  CheckpointMoves moves;
  moves.changed = gaps;
  if (job_checkpoint) {
    moves.streams.push_back({{item.job->input_index, item.job->stream}, std::move(job_checkpoint)});
    moves.changed = true;
  }
  if (item.events) {
    EventBatch& b = *item.events;
    std::optional<std::string> checkpoint;
    if (!b.forget) checkpoint = std::move(b.checkpoint);
    moves.streams.push_back({{b.input_index, std::move(b.stream)}, std::move(checkpoint)});
    moves.changed = true;
  }
  return moves;
}

// `later` after `moves`: applied in order, a stream's last checkpoint is the one it keeps.
void Engine::Impl::append_moves(CheckpointMoves& moves, CheckpointMoves&& later) {
  for (auto& move : later.streams) moves.streams.push_back(std::move(move));
  moves.changed = moves.changed || later.changed;
}

void Engine::Impl::move_checkpoints(CheckpointMoves& moves) {
  for (auto& [key, checkpoint] : moves.streams) {
    auto& entries = committed.streams[config.inputs[key.first].name];
    if (!checkpoint) {
      entries.erase(key.second);
      continue;
    }
    entries[key.second] = *checkpoint;
    uncommitted[std::move(key)] = std::move(*checkpoint);
  }
  if (moves.changed) dirty = true;
}

void Engine::Impl::deliver(std::size_t input_index, const std::string& path, Event& event,
                           const Detector::AlertCallback& on_alert) {
  if (!merger) {
    const LiveState::CauseScope cause(live.get(), event);
    detector->process(event, on_alert);
    return;
  }
  merger->push(merge_stream(input_index, path), event);
  release_over_budget(on_alert);
}

void Engine::Impl::deliver(std::size_t input_index, const std::string& path, PackedEvent&& event,
                           const Detector::AlertCallback& on_alert) {
  merger->push(merge_stream(input_index, path), std::move(event));
  release_over_budget(on_alert);
}

std::size_t Engine::Impl::merge_stream(std::size_t input_index, const std::string& path) {
  // Asked for every event, and a batch's events are of one file: the key built to look it up
  // was an allocation per event on the detection thread.
  const auto* last = last_merge_stream;
  if (last && last->first.first == input_index && last->first.second == path) return last->second;
  auto [it, added] = merge_streams.try_emplace({input_index, path}, 0);
  if (added) it->second = merger->add_stream(path);
  last_merge_stream = &*it;
  return it->second;
}

// A file read whole at once (EVTX) or a file the io thread cannot be asked for must not make
// the merge hold more than its budget.
void Engine::Impl::release_over_budget(const Detector::AlertCallback& on_alert) {
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

void Engine::Impl::check_record_id(const EventBatch& batch, std::string_view computer,
                                   std::string_view channel, std::uint64_t record_id,
                                   std::vector<CollectionGap>& gaps) {
  const auto skipped =
      record_id_gaps[batch.input_index].observe(batch.stream, computer, channel, record_id);
  if (!skipped) return;
  CollectionGap gap;
  gap.input = config.inputs[batch.input_index].name;
  gap.path = batch.origin;
  gap.stream = std::string(computer) + " " + std::string(channel);
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
    if (batch.check_record_ids)
      check_record_id(batch, event.computer(), event.channel(), event.record_id, gaps);
    last_time = std::max(last_time, event.time_created);
    deliver(batch.input_index, origin, event, on_alert);
  }
  std::span<PackedEvent> packed(batch.packed);
  for (std::size_t i = 0; i < packed.size(); ++i) {
    // Written by the io thread on the other core: fetched a few events ahead of their reading.
    if (i + kPackedAhead < packed.size()) packed[i + kPackedAhead].prefetch_keys();
    PackedEvent& event = packed[i];
    if (batch.check_record_ids)
      check_record_id(batch, event.computer(), event.channel(), event.record_id(), gaps);
    last_time = std::max(last_time, event.time());
    deliver(batch.input_index, origin, std::move(event), on_alert);
  }
  if (batch.forget) record_id_gaps[batch.input_index].forget(batch.stream);
  release_merged(alerts);
  const std::size_t decoded = batch.events.size() + batch.packed.size();
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

}  // namespace sw::daemon
