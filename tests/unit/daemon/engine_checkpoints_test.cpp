#include <gtest/gtest.h>

#include <atomic>
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
