// An Event held for a while (the reorder windows, events decoded ahead of the merge) in one
// allocation: its typed members, its fields and its text, back to back. A held Event takes three
// allocations and 224 bytes of members most events leave empty; the relay's 60 s window holds
// about 13,000 of them. Unpacking refills an Event the holder reuses, so releasing one allocates
// nothing once that Event has grown to the events' size.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "sessionwatch/event.hpp"

namespace sw {

class PackedEvent {
 public:
  // An allocation a packed event took, handed back when it is released so that the next event
  // packed of about its size reuses it (EventHeap keeps a few of each size).
  struct Storage {
    std::unique_ptr<std::byte[]> bytes;
    std::size_t capacity = 0;
  };
  // Allocations are made in steps of this many bytes, so that events of about one size share them.
  static constexpr std::size_t kStep = 64;

  PackedEvent() = default;
  explicit PackedEvent(const Event& event) : PackedEvent(event, Storage{}) {}
  // Packs into `storage` when it holds enough, else into a new allocation.
  PackedEvent(const Event& event, Storage storage);
  // The bytes packing `event` takes (the capacity its storage needs).
  static std::size_t packed_size(const Event& event);
  // Empties this one, giving up its allocation.
  Storage take_storage() &&;

  // Makes `out` equal to the packed event (its capacity is kept).
  void unpack(Event& out) const;
  // What holders look at without unpacking.
  Ticks time() const;
  std::uint64_t record_id() const;
  std::string_view computer() const;
  std::string_view channel() const;
  // What the packed event takes in memory (memory budgets).
  std::size_t footprint() const { return sizeof(PackedEvent) + capacity_; }
  bool empty() const { return !data_; }
  // Asks the CPU to bring the packed bytes into its caches ahead of unpack: a held event has
  // usually left them by the time it is released.
  void prefetch() const;
  // The same for what time(), record_id(), computer() and channel() read (the head, the fields
  // and the start of the text, where the decoders put the computer and channel): the detection
  // thread reads those first, just after the decoding thread wrote them, from the other core.
  void prefetch_keys() const;

 private:
  std::string_view text(Span s) const;
  void prefetch_first(std::size_t max_bytes) const;
  static std::span<Span Event::*const> text_members();
  // Calls copy(event member, head member) for each member the head keeps (packed_event.cpp).
  template <typename E, typename H, typename Copy>
  static void each_member(E& e, H& h, Copy copy);

  std::unique_ptr<std::byte[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace sw
