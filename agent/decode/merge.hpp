// The k-way merge behind decode_files_merged: events of several inputs, each mostly in time
// order, released in time order with bounded memory. Feeding is the caller's (a DecodeStream
// step, a batch of a followed file), so the same merger serves pulled and pushed inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event_heap.hpp"
#include "sessionwatch/decode.hpp"

namespace sw::decode_detail {

class TimeMerger {
 public:
  using Release = std::function<void(Event&)>;

  explicit TimeMerger(const MergeOptions& options) : options_(options) {}

  // A new input. `key` (its path) orders events of equal time across inputs, so the result does
  // not depend on the order inputs were added in.
  std::size_t add_stream(std::string key);
  // Holds a copy of the event (packed), or the packed event given.
  void push(std::size_t stream, const Event& event);
  void push(std::size_t stream, PackedEvent&& event);
  // Where the storage of events given packed goes once they are released (EventHeap).
  void return_spares_to(std::shared_ptr<PackedReturns> returns);
  // The stream has nothing more for now (end of file): it no longer holds the others back.
  void end(std::size_t stream);
  // Releases events in time order for as long as every open stream has an event it is sure of:
  // one older than the newest it was given by more than the reorder window, or any once ended.
  void release(const Release& out);
  // Releases the oldest held events, ready or not, while more than max_held_events (or
  // max_held_bytes) are held: the memory bound when a stream cannot be fed on demand (it comes at
  // its own pace).
  void release_over_budget(const Release& out);
  // An open stream that must be fed before anything more can be released; nullopt when none
  // (then everything held was released).
  std::optional<std::size_t> hungry() const;

  std::size_t held() const { return held_; }
  std::size_t held_bytes() const { return held_bytes_; }
  const MergeStats& stats() const { return stats_; }

 private:
  struct Stream {
    std::string key;
    EventHeap heap;         // equal times keep the stream's order
    std::size_t bytes = 0;  // what the held events take
    Ticks newest = 0;
    bool ended = false;
    std::uint64_t next_seq = 0;
    bool blocks = false;  // open and not ready() as of its last change: nothing can be released
  };

  // What push does before and after the event goes into the stream's heap.
  void arriving(Stream& s, Ticks time);
  void pushed(Stream& s, std::size_t bytes);
  bool ready(const Stream& s) const;
  // Recomputes `blocks` after the stream changed (readiness depends on its own state and on the
  // number of streams alone), so that release() asks each stream once per change, not per event.
  void refresh(Stream& s);
  bool over_budget() const;
  bool before(std::size_t a, std::size_t b) const;
  void pop(Stream& s, const Release& out);

  MergeOptions options_;
  std::vector<Stream> streams_;
  // Each stream's share of max_held_events and max_held_bytes, set as streams are added: ready()
  // is asked at every push and pop, and would divide twice each time.
  std::size_t event_share_ = 0;
  std::size_t byte_share_ = 0;
  std::shared_ptr<PackedReturns> returns_;
  std::size_t blocking_ = 0;  // streams whose `blocks` is set
  std::size_t held_ = 0;
  std::size_t held_bytes_ = 0;
  bool released_any_ = false;
  Ticks released_time_ = 0;
  MergeStats stats_;
};

}  // namespace sw::decode_detail
