// A per-decoder cache in front of sw::intern_field: the process-wide table takes a lock and a
// hash lookup per call, and a decoder meets the same few dozen names in every event (JSON lines'
// keys, EVTX EventData names).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/event.hpp"
#include "sessionwatch/hash.hpp"
#include "sessionwatch/text.hpp"

namespace sw {

class FieldNameCache {
 public:
  FieldId get(std::string_view name) {
    // A decoder asks for the names of one event after the other in the order its fields come,
    // and a log's events share a few shapes: the name asked after the previous one last time is
    // compared first, without hashing. Only that stays inline (the lookup beside it made every
    // call save and restore a dozen registers).
    if (last_ != kNone) {
      const std::uint32_t guess = slots_[last_].next;
      if (guess != kNone && text::same_text(slots_[guess].name, name)) {
        last_ = guess;
        return slots_[guess].id;
      }
    }
    return look_up(name);
  }

 private:
  static constexpr std::uint32_t kNone = UINT32_MAX;
  struct Slot {
    std::uint64_t hash = 0;
    std::string name;
    FieldId id = 0;
    bool used = false;
    std::uint32_t next = kNone;  // the slot of the name asked after this one last time
  };
  static constexpr std::size_t kInitialSlots = 256;
  static constexpr std::size_t kMaxEntries = 1 << 16;

  // quick_hash, not FNV-1a byte by byte: hashing was most of a lookup, names running to 30 letters
  // and more ("winlog.event_data.TargetUserSid").
  static std::uint64_t hash(std::string_view s) { return quick_hash(s); }

  [[gnu::noinline]] FieldId look_up(std::string_view name) {
    const std::uint32_t slot = find_or_add(name);
    if (last_ != kNone) slots_[last_].next = slot;
    last_ = slot;
    return slots_[slot].id;
  }

  std::uint32_t find_or_add(std::string_view name) {
    if (slots_.empty()) slots_.resize(kInitialSlots);
    const std::uint64_t h = hash(name);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (!s.used) break;
      if (s.hash == h && text::same_text(s.name, name)) return static_cast<std::uint32_t>(i);
    }
    // Unbounded distinct names (hostile input) must not grow the cache without limit. Either
    // way the slots move: the order learnt starts over.
    if (used_ >= kMaxEntries) {
      slots_.assign(kInitialSlots, Slot{});
      used_ = 0;
      last_ = kNone;
    } else if ((used_ + 1) * 2 > slots_.size()) {
      grow();
    }
    return insert(h, name, intern_field(name));
  }

  std::uint32_t insert(std::uint64_t h, std::string_view name, FieldId id) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i].used) i = (i + 1) & mask;
    slots_[i].hash = h;
    slots_[i].name.assign(name);
    slots_[i].id = id;
    slots_[i].used = true;
    ++used_;
    return static_cast<std::uint32_t>(i);
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    used_ = 0;
    last_ = kNone;
    for (Slot& s : old)
      if (s.used) insert(s.hash, s.name, s.id);
  }

  std::vector<Slot> slots_;
  std::size_t used_ = 0;
  std::uint32_t last_ = kNone;  // the slot of the name asked last
};

}  // namespace sw
