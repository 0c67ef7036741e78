// The thread that writes checkpoints: the detection thread takes the snapshot (which must see
// the detector between two events), this thread encodes it, writes it and syncs it, so that cost
// (half a large state's checkpoint, and the fsync) no longer holds up the next events.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "platform/fsync.hpp"

namespace sw::daemon {

// One write at a time, in the order submitted.
class CheckpointWriter {
 public:
  // `on_done` runs on the writer thread after each write, once busy() is false.
  explicit CheckpointWriter(std::function<void()> on_done = {})
      : on_done_(std::move(on_done)), thread_([this] { run(); }) {}
  // Finishes the write under way or submitted first.
  ~CheckpointWriter() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Runs `write` on the writer thread, once the write before it is done.
  void submit(std::function<void()> write) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !job_; });
    job_ = std::move(write);
    changed_.notify_all();
  }
  // True while a write is under way; once false, what the writes did is visible to the caller.
  bool busy() {
    std::lock_guard lock(mutex_);
    return static_cast<bool>(job_);
  }
  // Returns once no write is under way; what the writes did is then visible to the caller.
  void wait_idle() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !job_; });
  }

 private:
  void run() {
    // Where it shares a core with the detection thread, a write (encoding megabytes of state)
    // waits for events rather than delaying them: checkpoints come later, alerts do not.
    platform::lower_thread_priority();
    platform::name_this_thread("checkpoints");
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [&] { return job_ || closed_; });
      if (!job_) return;
      lock.unlock();
      job_();  // job_ stays set meanwhile: submit() and wait_idle() wait for it
      lock.lock();
      job_ = nullptr;
      changed_.notify_all();
      if (on_done_) {
        lock.unlock();
        on_done_();
        lock.lock();
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> job_;
  bool closed_ = false;
  std::function<void()> on_done_;
  std::thread thread_;  // last: starts once the members it uses are
};

}  // namespace sw::daemon
