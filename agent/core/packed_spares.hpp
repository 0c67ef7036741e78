// Allocations of released packed events, kept to pack the next events into (core/packed_event.hpp):
// a holder in its steady state releases about as many events as it packs, and allocating and
// freeing each took about 380 instructions an event (a quarter of what the merge spent on it)
// with cache misses on the allocator's chunk headers.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "core/packed_event.hpp"

namespace sw {

// Spare storage by size (in PackedEvent::kStep steps), up to a byte bound in all; events larger
// than the sizes kept are not kept.
class PackedSpares {
 public:
  explicit PackedSpares(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Storage for `bytes` packed: a spare of that size or up to kSlack steps larger; else none (the
  // event allocates its own).
  PackedEvent::Storage take(std::size_t bytes) {
    const std::size_t size = (bytes + PackedEvent::kStep - 1) / PackedEvent::kStep;
    for (std::size_t s = size; s < std::min(size + kSlack + 1, kSizes); ++s) {
      if (by_size_[s].empty()) continue;
      PackedEvent::Storage storage = std::move(by_size_[s].back());
      by_size_[s].pop_back();
      bytes_ -= storage.capacity;
      return storage;
    }
    return {};
  }
  // Keeps `storage` unless over the bound (then it is freed).
  void keep(PackedEvent::Storage storage) {
    const std::size_t size = storage.capacity / PackedEvent::kStep;
    if (!storage.bytes || size >= kSizes || bytes_ + storage.capacity > max_bytes_) return;
    bytes_ += storage.capacity;
    by_size_[size].push_back(std::move(storage));
  }
  std::size_t bytes() const { return bytes_; }
  void clear() {
    if (bytes_ == 0) return;
    for (auto& spares : by_size_) spares.clear();
    bytes_ = 0;
  }

 private:
  static constexpr std::size_t kSizes = 64;
  static constexpr std::size_t kSlack = 2;  // each step up wastes kStep bytes
  std::array<std::vector<PackedEvent::Storage>, kSizes> by_size_;
  std::size_t bytes_ = 0;
  std::size_t max_bytes_;
};

// Storage released on one thread handed back to the thread that packs (the relay's merge
// releases on the detection thread what the io thread packed: freed there, each allocation went
// back to the io thread's allocator arena under its lock, an eighth of the detection thread's
// time). The releasing side gives a few hundred at a time; the packing side takes all there is.
class PackedReturns {
 public:
  static constexpr std::size_t kBatch = 256;
  static constexpr std::size_t kMaxBytes = std::size_t{8} << 20;

  // Moves `released` in (what is over the bound is freed) and leaves it empty.
  void give(std::vector<PackedEvent::Storage>& released) {
    std::lock_guard lock(mutex_);
    for (PackedEvent::Storage& storage : released) {
      if (bytes_ + storage.capacity > kMaxBytes) break;
      bytes_ += storage.capacity;
      waiting_.push_back(std::move(storage));
    }
    released.clear();
  }
  // Everything given so far into `into`.
  void take(PackedSpares& into) {
    std::vector<PackedEvent::Storage> taken;
    {
      std::lock_guard lock(mutex_);
      taken.swap(waiting_);
      bytes_ = 0;
    }
    for (PackedEvent::Storage& storage : taken) into.keep(std::move(storage));
  }

 private:
  std::mutex mutex_;
  std::vector<PackedEvent::Storage> waiting_;
  std::size_t bytes_ = 0;
};

}  // namespace sw
