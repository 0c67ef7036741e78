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

namespace sw {

class FieldNameCache {
 public:
  FieldId get(std::string_view name) {
    if (slots_.empty()) slots_.resize(kInitialSlots);
    const std::uint64_t h = hash(name);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (!s.used) break;
      if (s.hash == h && s.name == name) return s.id;
    }
    // Unbounded distinct names (hostile input) must not grow the cache without limit.
    if (used_ >= kMaxEntries) {
      slots_.assign(kInitialSlots, Slot{});
      used_ = 0;
    } else if ((used_ + 1) * 2 > slots_.size()) {
      grow();
    }
    const FieldId id = intern_field(name);
    insert(h, name, id);
    return id;
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::string name;
    FieldId id = 0;
    bool used = false;
  };
  static constexpr std::size_t kInitialSlots = 256;
  static constexpr std::size_t kMaxEntries = 1 << 16;

  static std::uint64_t hash(std::string_view s) { return fnv1a(s); }

  void insert(std::uint64_t h, std::string_view name, FieldId id) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i].used) i = (i + 1) & mask;
    slots_[i].hash = h;
    slots_[i].name.assign(name);
    slots_[i].id = id;
    slots_[i].used = true;
    ++used_;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    used_ = 0;
    for (Slot& s : old)
      if (s.used) insert(s.hash, s.name, s.id);
  }

  std::vector<Slot> slots_;
  std::size_t used_ = 0;
};

}  // namespace sw
