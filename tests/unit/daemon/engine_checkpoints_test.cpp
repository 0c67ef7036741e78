#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "daemon/engine/checkpoint_writer.hpp"
#include "daemon/engine/work_queue.hpp"

namespace sw::daemon {
namespace {

// The detection thread goes on while a checkpoint is written; the writes keep their order and a
// caller that waited for the writer sees what they did.
TEST(CheckpointWriter, WritesOnItsOwnThreadInOrder) {
  CheckpointWriter writer;
  std::vector<int> written;  // read after wait_idle() only
  std::atomic<bool> go{false};
  std::thread::id writer_thread;
  writer.submit([&] {
    writer_thread = std::this_thread::get_id();
    while (!go) std::this_thread::yield();  // held until the caller has gone on
    written.push_back(1);
  });
  go = true;  // reached while the first write is still under way
  writer.submit([&] { written.push_back(2); });
  writer.wait_idle();
  EXPECT_NE(writer_thread, std::this_thread::get_id());
  EXPECT_EQ(written, (std::vector<int>{1, 2}));
}

TEST(CheckpointWriter, FinishesTheWriteSubmittedBeforeItIsDestroyed) {
  bool written = false;
  {
    CheckpointWriter writer;
    writer.submit([&] { written = true; });
  }
  EXPECT_TRUE(written);
}

// The detection thread does not wait for a write under way: it asks busy(), keeps its state dirty
// and is woken by on_done, run once busy() is false, to take the checkpoint then.
TEST(CheckpointWriter, SaysItIsBusyAndCallsBackOnceDone) {
  std::atomic<bool> go{false}, busy_when_done{true};
  std::atomic<int> done{0};
  CheckpointWriter* self = nullptr;
  CheckpointWriter writer([&] {
    busy_when_done = self->busy();
    ++done;
  });
  self = &writer;
  EXPECT_FALSE(writer.busy());
  writer.submit([&] {
    while (!go) std::this_thread::yield();
  });
  EXPECT_TRUE(writer.busy()) << "the write is held until the caller lets it go";
  EXPECT_EQ(done, 0);
  go = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (done == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(done, 1);
  EXPECT_FALSE(busy_when_done) << "woken only once a new write can be taken";
  EXPECT_FALSE(writer.busy());
}

// A failed write wakes the detection thread, idle without a deadline, so the write is retried.
TEST(WorkQueue, WakeEndsAWaitWithoutDeadlineAndKeepsTheItems) {
  WorkQueue queue;
  std::thread waker([&] { queue.wake(); });
  WorkItem item;
  EXPECT_EQ(queue.pop(item, std::nullopt), WorkQueue::Popped::kTimeout);
  waker.join();
  queue.push(WorkItem{});
  EXPECT_EQ(queue.pop(item, std::nullopt), WorkQueue::Popped::kItem);
  queue.close();
  EXPECT_EQ(queue.pop(item, std::nullopt), WorkQueue::Popped::kClosed);
}

}  // namespace
}  // namespace sw::daemon
