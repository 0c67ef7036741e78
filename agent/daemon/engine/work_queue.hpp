// Sources -> detection: the bounded queue of WorkItems between the io thread (the one producer)
// and the detection thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

#include "daemon/work.hpp"

namespace sw::daemon {

// Sources -> detection: batches, bounded by bytes. push() never blocks (the single producer
// checks has_room() first); pop() sleeps on a condition variable, so an idle agent uses no CPU.
class WorkQueue {
 public:
  enum class Popped { kItem, kClosed, kTimeout };

  void push(WorkItem&& item) {
    {
      std::lock_guard lock(mutex_);
      bytes_ += item.bytes();
      items_.push_back(std::move(item));
    }
    ready_.notify_one();
  }
  bool has_room() const {
    std::lock_guard lock(mutex_);
    return bytes_ < kCapacityBytes;
  }
  // Waits for an item, until `deadline` when there is one or until wake().
  Popped pop(WorkItem& item, std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::unique_lock lock(mutex_);
    const auto ready = [&] { return !items_.empty() || closed_ || woken_; };
    if (deadline) {
      if (!ready_.wait_until(lock, *deadline, ready)) return Popped::kTimeout;
    } else {
      ready_.wait(lock, ready);
    }
    if (items_.empty() && !closed_) {
      woken_ = false;
      return Popped::kTimeout;
    }
    if (items_.empty()) return Popped::kClosed;
    item = std::move(items_.front());
    items_.pop_front();
    bytes_ -= item.bytes();
    return Popped::kItem;
  }
  // The consumer's pop() returns kTimeout now (or at once when it is not waiting): something
  // other than an item needs it (a checkpoint write failed).
  void wake() {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    ready_.notify_all();
  }
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }
  bool empty() const {
    std::lock_guard lock(mutex_);
    return items_.empty();
  }
  std::size_t bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }

 private:
  // Two of the file input's 1 MiB reads (about 1.5 MB each, counted as decoded): the io thread
  // decodes the next while detection works on one, which is all the overlap there is to have.
  // 8 MiB held 4-5 MB more in the relay benchmark for no throughput (12 runs taking turns:
  // 4.35 s against 3.88 s wall, 6.16 against 5.53 CPU s).
  static constexpr std::size_t kCapacityBytes = 2u << 20;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<WorkItem> items_;
  std::size_t bytes_ = 0;
  bool closed_ = false;
  bool woken_ = false;
};

}  // namespace sw::daemon
