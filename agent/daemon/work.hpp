// What flows from the sources to the detection thread: batches of records with the checkpoint
// that becomes true once they (and every alert they raise) are safely spooled.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/packed_event.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/gap_alert.hpp"
#include "sessionwatch/platform.hpp"
#include "sessionwatch/state_parts.hpp"

namespace sw::daemon {

// Events the agent cannot account for (sessionwatch/gap_alert.hpp).
using sw::CollectionGap;

// A record the reader could not hand on (longer than the largest record it accepts).
struct RecordError {
  std::uint64_t number = 0;
  std::string reason;
};

// Vectors of decoded events handed back once processed, so that a steady stream decodes into
// the same Events (whose buffers keep their capacity) instead of allocating per event on one
// thread and freeing on another. Shared by an input (take) and the detection thread (give).
class EventPool {
 public:
  std::vector<Event> take() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) return {};
    std::vector<Event> events = std::move(free_.back());
    free_.pop_back();
    return events;
  }
  void give(std::vector<Event>&& events) {
    std::lock_guard lock(mutex_);
    if (free_.size() < kKept) free_.push_back(std::move(events));
  }

 private:
  static constexpr std::size_t kKept = 4;
  std::mutex mutex_;
  std::vector<std::vector<Event>> free_;
};

// Decoded events of one stream of an input (a followed file, a Windows Event Log channel, a
// Kafka partition) and the input's checkpoint after the last of them: opaque to the engine, which
// stores it in the state file once the batch's alerts are spooled, then hands it back through
// Input::committed().
struct EventBatch {
  std::size_t input_index = 0;
  std::string stream;  // the checkpoint's key within the input (a file's identity, a channel)
  std::string origin;  // what to call the stream in logs (a file's path)
  std::vector<Event> events;
  // Instead of `events` when the time merge holds them (run --once): packed on the io thread
  // (Engine::Impl::pack_for_merge), as the merge keeps them.
  std::vector<PackedEvent> packed;
  std::vector<RecordError> errors;  // records that are no events, counted and logged
  std::string checkpoint;           // true after these events
  bool forget = false;              // the stream is over: drop its checkpoint instead
  // Compare record ids per computer and channel within the stream (forwarded events in files).
  bool check_record_ids = false;
  std::uint64_t bytes_read = 0;  // what was read to get these events (metrics)
  std::uint64_t records_read = 0;
  std::size_t memory = 0;           // heap bytes held by the events (the work queue's budget)
  std::shared_ptr<EventPool> pool;  // where `events` go once processed, when set
};

struct InputMetrics;

// Work an input leaves to the detection thread, for readers that hand events over synchronously
// (an EVTX file read from its checkpoint to its end): the job reads, the engine tracks and
// matches what it is handed, then stores the checkpoint the job returns.
class InputJob {
 public:
  struct Context {
    const std::string* checkpoint = nullptr;  // the stream's stored checkpoint, if any
    std::function<void(Event&)> deliver;      // tracks and matches one event
    // Logs an error at most once a minute per key.
    std::function<void(const std::string& key, const std::string& message)> error;
    std::vector<CollectionGap>* gaps = nullptr;  // raised before the events' alerts
    InputMetrics* metrics = nullptr;
  };
  virtual ~InputJob() = default;
  // The stream's checkpoint after what was read; nullopt when nothing was (unchanged, unreadable).
  virtual std::optional<std::string> run(Context& context) = 0;

  std::size_t input_index = 0;
  std::string stream;  // the checkpoint's key within the input
  std::string origin;  // what to call it in logs (a file's path)
};

// A file an input matched but does not read (binary, compressed, EVTX in a file input): said
// once per file, in the log and the metrics.
struct RefusedFile {
  std::size_t input_index = 0;
  std::string path;
  std::string reason;
};

struct WorkItem {
  std::vector<CollectionGap> gaps;  // raised before the records
  std::optional<RefusedFile> refused;
  std::shared_ptr<InputJob> job;
  std::optional<EventBatch> events;
  // Detector parts another relay handed over (a Kafka partition's computers): merged into the
  // detector's state before the events queued after them.
  std::optional<StatePartMap> adopt_parts;
  // `run --once`: every input had nothing more to read when this was queued; once the detection
  // thread reaches it, everything read before it has been processed.
  bool drained = false;
  // `run --once`: the end of one collect round, naming the files that got a batch in it (input
  // index and path). A file that got none has nothing more for now: the time merge stops
  // waiting for it.
  std::optional<std::vector<std::pair<std::size_t, std::string>>> round;
  std::size_t bytes() const {
    if (events) return 64 + events->memory + (events->events.size() + events->packed.size()) * 512;
    return 64;
  }
};

std::uint64_t hash_bytes(std::string_view data);

// Searches the batch's events not searched yet for alerting errors (Event::found_error, with the
// built-in catalog), as the tracker does for those that come unsearched. The io thread calls it
// while detection is the slower side (engine/collect.cpp): the result is the same either way.
void search_errors(EventBatch& batch);

}  // namespace sw::daemon
