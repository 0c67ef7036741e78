// Events held back to be released in time order (the reorder windows of the merge and of the
// tracker). Compact records (time, arrival, slot) are ordered: those that come in time order,
// nearly all of them, are queued as they come and cost no sifting; the others go to a heap, and
// the older of the two heads is released first. Each event waits packed in its slot (one
// allocation, core/packed_event.hpp, most often one a released event left) and is unpacked on
// release into an Event kept for that, which the receiver may change (the tracker enriches it in
// place): its buffers grow once to the events' size rather than for each event.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "core/packed_event.hpp"
#include "core/packed_spares.hpp"
#include "sessionwatch/event.hpp"

namespace sw {

class EventHeap {
 public:
  EventHeap() = default;
  EventHeap(const EventHeap&) = delete;  // holds events it alone owns; moved, never copied
  EventHeap& operator=(const EventHeap&) = delete;
  EventHeap(EventHeap&&) = default;
  EventHeap& operator=(EventHeap&&) = default;

  struct Entry {
    Ticks time = 0;
    std::uint64_t seq = 0;  // arrival: equal times keep their arrival order
    std::uint32_t slot = 0;
    std::uint32_t bytes = 0;  // the copy's footprint, for its holder's memory budget
  };

  bool empty() const { return run_.empty() && heap_.empty(); }
  // Bytes kept from released events for the next ones packed (bounded; none once everything
  // held is released).
  std::size_t spare_bytes() const { return spares_.bytes(); }
  // Where storage of events released here goes when they came packed (decoded on another thread):
  // back to the thread that packed them, a batch at a time.
  void return_spares_to(std::shared_ptr<PackedReturns> returns) { returns_ = std::move(returns); }
  std::size_t size() const { return run_.size() + heap_.size(); }
  // The oldest held (time, then arrival).
  const Entry& top() const { return from_run() ? run_.front() : heap_.front(); }

  // Packs a copy of the event into a slot (into the allocation of an event released before when
  // one of about its size is spare); returns what it takes in memory.
  std::uint32_t push(const Event& event, Ticks time, std::uint64_t seq) {
    packs_ = true;
    return push(PackedEvent(event, spares_.take(PackedEvent::packed_size(event))), time, seq);
  }
  std::uint32_t push(PackedEvent&& event, Ticks time, std::uint64_t seq) {
    const std::uint32_t slot = take_slot();
    const auto bytes =
        static_cast<std::uint32_t>(std::min<std::size_t>(event.footprint(), UINT32_MAX));
    slots_[slot] = std::move(event);
    const Entry entry{time, seq, slot, bytes};
    // In order (the usual input): queued, no sifting. Out of order: into the heap.
    if (run_.empty() || !Later()(run_.back(), entry)) {
      run_.push_back(entry);
    } else {
      heap_.push_back(entry);
      std::push_heap(heap_.begin(), heap_.end(), Later());
    }
    return bytes;
  }

  // Hands the oldest event to `out` (which may change it, and may push or pop meanwhile).
  template <typename Out>
  void pop(Out&& out) {
    std::uint32_t slot = 0;
    if (from_run()) {
      slot = run_.front().slot;
      run_.pop_front();
      // The event released a few pops from now, nearly always from the run: its bytes arrive
      // while this one is processed instead of stalling its unpack.
      if (run_.size() > kPrefetchAhead) slots_[run_[kPrefetchAhead].slot].prefetch();
    } else {
      std::pop_heap(heap_.begin(), heap_.end(), Later());
      slot = heap_.back().slot;
      heap_.pop_back();
    }
    // One Event per pop under way: an `out` that pops again gets its own.
    if (handing_out_ == unpacked_.size()) unpacked_.push_back(std::make_unique<Event>());
    Event& event = *unpacked_[handing_out_];
    slots_[slot].unpack(event);
    keep_spare(std::move(slots_[slot]).take_storage());
    free_.push_back(slot);
    ++handing_out_;
    out(event);
    --handing_out_;
    if (empty() && handing_out_ == 0) trim();
  }

 private:
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };
  // Whether the oldest is the run's first (else the heap's top).
  bool from_run() const {
    if (run_.empty()) return false;
    return heap_.empty() || Later()(heap_.front(), run_.front());
  }

  // Slots kept once everything held is released; the slots of a burst above it are
  // given back to the allocator then.
  static constexpr std::size_t kKeptSlots = 256;
  // How many releases ahead a held event's bytes are fetched: enough for memory to answer,
  // few enough that they are still cached when used.
  static constexpr std::size_t kPrefetchAhead = 4;

  // Kept for the next event packed here, or handed back to the thread that packed it.
  void keep_spare(PackedEvent::Storage storage) {
    if (packs_) return spares_.keep(std::move(storage));
    if (!returns_ || !storage.bytes) return;
    released_.push_back(std::move(storage));
    if (released_.size() >= PackedReturns::kBatch) returns_->give(released_);
  }

  std::uint32_t take_slot() {
    if (free_.empty()) {
      slots_.emplace_back();
      return static_cast<std::uint32_t>(slots_.size() - 1);
    }
    const std::uint32_t slot = free_.back();
    free_.pop_back();
    return slot;
  }

  void trim() {
    spares_.clear();
    if (returns_ && !released_.empty()) returns_->give(released_);
    if (slots_.size() <= kKeptSlots) return;
    slots_.resize(kKeptSlots);
    slots_.shrink_to_fit();
    free_.clear();
    for (std::uint32_t i = 0; i < kKeptSlots; ++i) free_.push_back(kKeptSlots - 1 - i);
    heap_.shrink_to_fit();
    run_.shrink_to_fit();
  }

  // Held events, oldest first, split in two: those pushed in time order (each no older than the
  // one pushed before it into the run), and a heap of the others.
  std::deque<Entry> run_;
  std::vector<Entry> heap_;
  std::vector<PackedEvent> slots_;
  std::vector<std::uint32_t> free_;
  // Up to 4 MiB: the events of a read or two (a read is about a thousand events, released in
  // turns with the next read's).
  PackedSpares spares_{std::size_t{4} << 20};
  bool packs_ = false;  // events are packed here (not given packed): spares are of use
  std::shared_ptr<PackedReturns> returns_;
  std::vector<PackedEvent::Storage> released_;    // for returns_, given a batch at a time
  std::vector<std::unique_ptr<Event>> unpacked_;  // one per pop under way, each kept in place
  std::size_t handing_out_ = 0;                   // pops under way
};

}  // namespace sw
