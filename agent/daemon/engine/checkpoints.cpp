// State writes (appended to the journal, or full) and the commits they lead to.
#include "daemon/engine/engine_impl.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "sessionwatch/session.hpp"

namespace sw::daemon {

namespace {

// The gap between appended checkpoints is at least this many times the detection thread's part
// of the last one, and kWriteCostFactor times the writer's (at low priority, its time grows
// when events keep the core busy, and so checkpoints come less often under load).
constexpr int kSaveCostFactor = 8;
constexpr int kWriteCostFactor = 4;
// The journal of checkpoints is folded into a full one when it is larger than this and than the
// last full checkpoint.
constexpr std::uint64_t kMinJournalBytes = 4u << 20;

std::string record_ids_prefix(const std::string& input) {
  return "record_ids/" + input + "/";
}

}  // namespace

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
// `last`: every part, the detector's made as they are written (Detector::last_parts).
void Engine::Impl::snapshot_parts(bool changes_only, StateParts& out, bool last) {
  if (last) {
    detector->last_parts(out);
  } else {
    detector->snapshot_parts(changes_only, out);
  }
  for (std::size_t i = 0; i < record_id_gaps.size(); ++i) {
    record_id_gaps[i].snapshot_parts(record_ids_prefix(config.inputs[i].name), changes_only, out);
  }
}

// Before the detection thread starts: at once, on this thread.
bool Engine::Impl::write_full_checkpoint(std::string& error) {
  StateParts parts;
  snapshot_parts(false, parts);
  return store.save(committed, parts, error);
}

// The handed-over parts replace this detector's parts of the same keys (the tracker's header
// stays ours); the detector restores from parts only as a whole.
void Engine::Impl::adopt_parts(const StatePartMap& handed) {
  StateParts current;
  detector->snapshot_parts(false, current);
  StatePartMap merged;
  for (StatePart& part : current) merged.emplace(std::move(part.key), *part.value);
  const auto& computer_prefixes = SessionTracker::kComputerPartPrefixes;  // the host part first
  for (const auto& [key, value] : handed) {
    if (!key.starts_with(computer_prefixes[0])) continue;
    // A handed computer is all its parts: none of ours (changes since) may override them.
    const std::string computer = key.substr(computer_prefixes[0].size());
    for (std::string_view prefix : computer_prefixes) merged.erase(std::string(prefix) + computer);
  }
  for (const auto& [key, value] : handed) {
    for (std::string_view prefix : computer_prefixes) {
      if (key.starts_with(prefix)) merged[key] = value;
    }
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
  take_back_failed_write();
  if (!dirty) return;
  // Held events are not in the snapshot: a checkpoint past them would lose them in a crash.
  if ((options.reorder_window_seconds > 0 || merger) && !final) return;
  const auto now = SteadyClock::now();
  if (!force && now - last_save < save_gap) return;
  // The detector's state holds the last batch: its checkpoints must be in the same write.
  if (!finish_unsynced()) return;
  // One write at a time: the store's sizes below are then those of the last one. Events do not
  // wait for a write under way (a full checkpoint's fsync): this one is taken once it is done,
  // the writer waking this thread; until then the state stays dirty and nothing is committed.
  if (!final) {
    checkpoint_deferred = true;
    if (writer.busy()) return;
    checkpoint_deferred = false;
  }
  writer.wait_idle();  // the final one only: otherwise idle already
  committed.saved_at = now_ticks();
  // Usually only what changed since the last checkpoint is appended to the journal; the journal
  // is folded into a full checkpoint once it outgrows one, so that cost is spread over as many
  // bytes of appended checkpoints as it writes.
  const bool full = final || full_checkpoint_due || store.needs_full() ||
                    store.journal_bytes() > std::max(kMinJournalBytes, store.full_bytes());
  // The final one is written while this thread waits, and nothing changes the detector after
  // it: its largest parts are encoded only as they are written, one at a time, so that the
  // whole state's text (11 MB for the relay benchmark's 200 computers) is never held at once.
  // Not when an input reads the parts of each write (they would be gone by then).
  const bool last = final && !state_written_wanted;
  auto checkpoint = std::make_shared<PendingCheckpoint>(take_checkpoint(full, last));
  checkpoint->taken = now;
  last_save = SteadyClock::now();  // on failure: retried after save_gap, not in a loop
  checkpoint->taking = last_save - now;
  dirty = false;
  full_checkpoint_due = false;
  if (!full) {
    const SteadyClock::duration writing{last_append_writing.load()};
    save_gap = std::max({SteadyClock::duration(kSaveInterval), (last_save - now) * kSaveCostFactor,
                         writing * kWriteCostFactor});
  }
  writer.submit([this, checkpoint] { write_checkpoint(*checkpoint); });
  if (final) writer.wait_idle();
}

// After a failed write: its commits wait for the next one, a full one (the parts it held are
// no longer among the changed ones).
void Engine::Impl::take_back_failed_write() {
  if (!write_failed.exchange(false)) return;
  writer.wait_idle();
  for (auto& [key, checkpoint] : failed_commits)
    uncommitted.try_emplace(key, std::move(checkpoint));
  failed_commits.clear();
  dirty = true;
  full_checkpoint_due = true;
}

// The detection thread's part of a checkpoint: what the detector, the inputs' record ids and
// the streams say between two events.
PendingCheckpoint Engine::Impl::take_checkpoint(bool full, bool last) {
  PendingCheckpoint checkpoint;
  checkpoint.full = full;
  // The parts' texts are shared with the detector, not copied: it re-encodes only what changed.
  snapshot_parts(!full, checkpoint.parts, last);
  checkpoint.state = committed;
  checkpoint.commits = std::move(uncommitted);
  uncommitted.clear();
  return checkpoint;
}

// On the writer thread: encoded, written and synced; then its commits go to their inputs.
void Engine::Impl::write_checkpoint(PendingCheckpoint& checkpoint) {
  std::string error;
  const bool saved = checkpoint.full ? store.save(checkpoint.state, checkpoint.parts, error)
                                     : store.append(checkpoint.state, checkpoint.parts, error);
  if (!saved) {
    limiter.error("state", "cannot write checkpoints: {}", error);
    failed_commits = std::move(checkpoint.commits);
    write_failed = true;
    queue.wake();
    return;
  }
  ++metrics.checkpoints_written;
  if (!checkpoint.full) {
    last_append_writing = (SteadyClock::now() - checkpoint.taken - checkpoint.taking).count();
  }
  const auto ms = [](SteadyClock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  spdlog::debug("checkpoint: {} in {} ms, {} ms of it taking it (full {} bytes, journal {} bytes)",
                checkpoint.full ? "full" : "appended", ms(SteadyClock::now() - checkpoint.taken),
                ms(checkpoint.taking), store.full_bytes(), store.journal_bytes());
  if (state_written_wanted) {
    for (const auto& input : inputs) input->state_written(checkpoint.parts);
  }
  hand_back_commits(std::move(checkpoint.commits));
}

// Inputs are only ever called on the io thread; it runs until the detection thread is done.
void Engine::Impl::hand_back_commits(StreamCommits commits) {
  if (commits.empty()) return;
  asio::post(io, [this, commits = std::move(commits)] {
    for (const auto& [key, checkpoint] : commits)
      inputs[key.first]->committed(key.second, checkpoint);
  });
}

}  // namespace sw::daemon
