// Events held back to be released in time order (the reorder windows of the merge and of the
// tracker). The heap orders compact records (time, arrival, slot), so sifting moves 24 bytes
// instead of an Event; the events stay put in their slots from push to pop. A released slot is
// reset rather than kept with its buffers: the tracker enriches a released event in place, which
// grows its buffers, and kept buffers cost more memory (52 -> 55 MB on 300k lines) than the
// allocations they save (no measurable CPU).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

#include "sessionwatch/event.hpp"

namespace sw {

class EventHeap {
 public:
  struct Entry {
    Ticks time = 0;
    std::uint64_t seq = 0;  // arrival: equal times keep their arrival order
    std::uint32_t slot = 0;
  };

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  // The oldest held (time, then arrival).
  const Entry& top() const { return heap_.front(); }

  void push(const Event& event, Ticks time, std::uint64_t seq) {
    heap_.push_back(Entry{time, seq, take_slot()});
    slots_[heap_.back().slot] = event;
    std::push_heap(heap_.begin(), heap_.end(), Later());
  }

  // Hands the oldest event to `out` (which may change it), then frees its slot.
  template <typename Out>
  void pop(Out&& out) {
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    const std::uint32_t slot = heap_.back().slot;
    heap_.pop_back();
    ++handing_out_;
    out(slots_[slot]);  // a deque: an event pushed meanwhile does not move this one
    --handing_out_;
    slots_[slot] = Event();
    free_.push_back(slot);
    if (heap_.empty() && handing_out_ == 0) trim();
  }

 private:
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };
  // Slots kept once everything held is released; the slots of a burst above it are
  // given back to the allocator then.
  static constexpr std::size_t kKeptSlots = 256;

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
    if (slots_.size() <= kKeptSlots) return;
    slots_.resize(kKeptSlots);
    slots_.shrink_to_fit();
    free_.clear();
    for (std::uint32_t i = 0; i < kKeptSlots; ++i) free_.push_back(kKeptSlots - 1 - i);
    heap_.shrink_to_fit();
  }

  std::vector<Entry> heap_;
  std::deque<Event> slots_;
  std::vector<std::uint32_t> free_;
  int handing_out_ = 0;  // pops under way (an `out` that pops again must not see slots trimmed)
};

}  // namespace sw
