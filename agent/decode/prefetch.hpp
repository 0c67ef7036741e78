// Decoding ahead of a merge on worker threads (several files read in parallel by `scan`). Each
// step of a stream runs on whichever thread is free; its sink calls are recorded and replayed on
// the merging thread when the merge asks that stream for its next step, so the merge sees exactly
// the calls, in the order, that reading the streams one step at a time on one thread gives.
// Streams whose steps are independent (EVTX chunks) have several steps decoded at once, so that
// one large file keeps every thread busy.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include "core/packed_event.hpp"
#include "sessionwatch/decode.hpp"

namespace sw::decode_detail {

// Where recorded steps are replayed: their events come as recorded, packed (a step holds up to
// about 1 MiB of events, read ahead and waiting).
class ReplaySink : public EventSink {
 public:
  virtual void on_packed(PackedEvent&& event) = 0;
};

// The sink calls of one step of a stream, and what the step returned.
struct RecordedStep {
  struct Progress {
    std::uint64_t done = 0, total = 0;
  };
  std::vector<std::variant<PackedEvent, DecodeError, Progress>> calls;
  DecodeStats added;  // what the step added to the stream's totals
  bool more = false;
  std::exception_ptr failure;  // what the step threw, rethrown on replay
  bool ready = false;          // recorded whole (a thread may still be decoding it)
};

class Prefetcher {
 public:
  // At most this many steps are held ahead (recorded or being decoded) for one stream.
  static constexpr std::size_t kAheadPerLane = 2;

  // `workers` threads, started at once (they decode the first files while the others are being
  // opened); at most `max_ahead` recorded steps held over all streams, plus those of the stream
  // the merge asked for last (at most kAheadPerLane, or two per thread for independent steps).
  Prefetcher(std::size_t workers, std::size_t max_ahead);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Makes the next lane; its stream is opened with the sink returned, then given to add().
  EventSink& new_lane();
  // The stream of the lane made last (null when its file could not be opened).
  void add(std::unique_ptr<DecodeStream> stream);

  // The lane's next step, replayed into `sink`: what DecodeStream::step would return.
  bool step(std::size_t lane, ReplaySink& sink);
  // Decodes one step ahead on the calling thread, as a worker would (the merging thread while
  // its sink cannot take events yet); false when none may begin within the budget.
  bool help();
  // The lane's totals as of the last step replayed.
  const DecodeStats& stats(std::size_t lane) const { return lanes_[lane]->stats; }

 private:
  struct Recorder final : EventSink {
    RecordedStep* into = nullptr;
    void on_event(Event& e) override {
      into->calls.emplace_back(std::in_place_type<PackedEvent>, e);
    }
    void on_error(const DecodeError& e) override { into->calls.emplace_back(e); }
    void on_progress(std::uint64_t done, std::uint64_t total) override {
      into->calls.emplace_back(RecordedStep::Progress{done, total});
    }
  };
  struct Lane {
    Recorder recorder;  // the sink the stream was opened with (steps run in order)
    std::unique_ptr<DecodeStream> stream;
    std::uint64_t independent = 0;  // its independent_steps(); 0: one step at a time, in order
    std::uint64_t started = 0;      // steps begun
    std::size_t running = 0;        // steps being decoded now
    // Steps begun and not replayed yet, in step order; each owned here, filled by its thread.
    std::deque<std::unique_ptr<RecordedStep>> ahead;
    bool added = false;   // its stream was given (or refused)
    bool ended = false;   // no step is left to begin (its last one, or one returning false, begun)
    bool closed = false;  // its last step was replayed: steps begun after it are dropped
    DecodeStats stats;    // merging thread only
  };

  void work();
  // The lane to read ahead: the one the merge asked for last while it can take another step;
  // else, within the budget, the one with the fewest steps held, the first such in the merge's
  // order (it asks for files in the order they were given until each is ready); or null.
  Lane* pick();
  bool can_begin(const Lane& lane) const;
  // Decodes the lane's next step with the lock released.
  void run_step(Lane& lane, std::unique_lock<std::mutex>& lock);
  // The stream is freed once no step of it is left to run: what is held grows with the files
  // being read, not with the files given.
  static void free_when_done(Lane& lane);
  // Drops the recorded steps of a closed lane (read past its end).
  void drop_ready(Lane& lane);
  // Runs the step (no lock held) into `into`.
  static void record(Lane& lane, std::uint64_t k, RecordedStep& into);
  static void replay(RecordedStep& step, ReplaySink& sink);

  std::vector<std::unique_ptr<Lane>> lanes_;
  Lane* wanted_ = nullptr;  // the lane the merge asked for last: read ahead of all others
  std::size_t max_ahead_, ahead_total_ = 0;
  bool stop_ = false;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::thread> threads_;
};

}  // namespace sw::decode_detail
