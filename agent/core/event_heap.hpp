// Events held back to be released in time order (the reorder windows of the merge and of the
// tracker). The heap orders compact records (time, arrival, slot), so sifting moves 24 bytes
// instead of an Event; the events stay put in their slots from push to pop. A released slot
// gives its buffers back: the tracker enriches a released event in place, which grows them, and
// slots kept with those buffers held more than the events in them (9.8 MB of a 37.6 MB heap on
// 300k lines, massif), beyond any budget counted from the events pushed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "sessionwatch/event.hpp"

namespace sw {

class EventHeap {
 public:
  struct Entry {
    Ticks time = 0;
    std::uint64_t seq = 0;  // arrival: equal times keep their arrival order
    std::uint32_t slot = 0;
    std::uint32_t bytes = 0;  // the copy's footprint, for its holder's memory budget
  };

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  // The oldest held (time, then arrival).
  const Entry& top() const { return heap_.front(); }

  // Copies or moves the event into a slot; returns the footprint of what it holds.
  template <typename E>
  std::uint32_t push(E&& event, Ticks time, std::uint64_t seq) {
    const std::uint32_t slot = take_slot();
    slots_[slot] = std::forward<E>(event);
    const auto bytes =
        static_cast<std::uint32_t>(std::min<std::size_t>(slots_[slot].footprint(), UINT32_MAX));
    heap_.push_back(Entry{time, seq, slot, bytes});
    std::push_heap(heap_.begin(), heap_.end(), Later());
    return bytes;
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
    { const Event spent = std::move(slots_[slot]); }  // `= Event()` would keep the text's buffer
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
