// Decoding ahead of a merge on worker threads (several files read in parallel by `scan`). Each
// step of a stream runs on whichever thread is free; its sink calls are recorded and replayed on
// the merging thread when the merge asks that stream for its next step, so the merge sees exactly
// the calls, in the order, that reading the streams one step at a time on one thread gives.
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

#include "sessionwatch/decode.hpp"

namespace sw::decode_detail {

// The sink calls of one step of a stream, and what the step returned.
struct RecordedStep {
  struct Progress {
    std::uint64_t done = 0, total = 0;
  };
  std::vector<std::variant<Event, DecodeError, Progress>> calls;
  DecodeStats stats;  // the stream's totals after the step
  bool more = false;
  std::exception_ptr failure;  // what the step threw, rethrown on replay
};

class Prefetcher {
 public:
  // At most this many recorded steps are held ahead for one stream.
  static constexpr std::size_t kAheadPerLane = 2;

  // `workers` threads, started at once (they decode the first files while the others are being
  // opened); at most `max_ahead` recorded steps held over all streams.
  Prefetcher(std::size_t workers, std::size_t max_ahead);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Makes the next lane; its stream is opened with the sink returned, then given to add().
  EventSink& new_lane();
  // The stream of the lane made last (null when its file could not be opened).
  void add(std::unique_ptr<DecodeStream> stream);

  // The lane's next step, replayed into `sink`: what DecodeStream::step would return.
  bool step(std::size_t lane, EventSink& sink);
  // The lane's totals as of the last step replayed.
  const DecodeStats& stats(std::size_t lane) const { return lanes_[lane]->stats; }

 private:
  struct Recorder final : EventSink {
    RecordedStep* into = nullptr;
    void on_event(Event& e) override { into->calls.emplace_back(e); }
    void on_error(const DecodeError& e) override { into->calls.emplace_back(e); }
    void on_progress(std::uint64_t done, std::uint64_t total) override {
      into->calls.emplace_back(RecordedStep::Progress{done, total});
    }
  };
  struct Lane {
    Recorder recorder;
    std::unique_ptr<DecodeStream> stream;
    std::deque<RecordedStep> ahead;
    bool added = false;  // its stream was given (or refused)
    bool busy = false;   // a thread is stepping it
    bool ended = false;  // its last step is recorded
    DecodeStats stats;   // merging thread only
  };

  void work();
  // The lane to read ahead, within the budget: the one with the fewest steps ready, the first
  // such in the merge's order (it asks for files in the order they were given until each is
  // ready); or null.
  Lane* pick();
  // Steps `lane` once with the lock released.
  void run_step(Lane& lane, std::unique_lock<std::mutex>& lock);
  static void replay(RecordedStep& step, EventSink& sink);

  std::vector<std::unique_ptr<Lane>> lanes_;
  std::size_t max_ahead_, ahead_total_ = 0;
  bool stop_ = false;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::thread> threads_;
};

}  // namespace sw::decode_detail
