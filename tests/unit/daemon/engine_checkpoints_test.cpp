#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "daemon/engine/checkpoint_writer.hpp"
#include "daemon/engine/checkpoints.hpp"
#include "daemon/engine/work_queue.hpp"

namespace sw::daemon {
namespace {

// A part as large as a computer's session state: far beyond the small-string buffer, so a copy
// would allocate a buffer of its own.
StateParts one_large_part() {
  StateParts parts;
  parts.push_back({"session/host/ws-01", std::string(64 * 1024, 'x')});
  return parts;
}

TEST(EngineCheckpoints, FullStateHoldsThePositionsAndEveryPart) {
  AgentState positions;
  positions.streams["win"]["dev:ino"] = R"({"offset":42})";
  positions.saved_at = 7;
  StateParts parts = one_large_part();
  parts.push_back({"rules/group/1", std::string("{}")});
  const AgentState full = full_state(positions, parts, false);
  EXPECT_EQ(full.streams, positions.streams);
  EXPECT_EQ(full.saved_at, 7);
  ASSERT_EQ(full.parts.size(), 2u);
  EXPECT_EQ(full.parts.at("session/host/ws-01"), std::string(64 * 1024, 'x'));
  EXPECT_EQ(full.parts.at("rules/group/1"), "{}");
}

// No input reads the parts after the write: the detector state is not duplicated to write it.
TEST(EngineCheckpoints, FullStateMovesThePartsNobodyReadsAfterTheWrite) {
  StateParts parts = one_large_part();
  const char* buffer = parts[0].value->data();
  const AgentState full = full_state(AgentState{}, parts, false);
  EXPECT_EQ(full.parts.at("session/host/ws-01").data(), buffer);
}

// An input reads them (Input::state_written): they stay whole in `parts`.
TEST(EngineCheckpoints, FullStateKeepsThePartsAnInputReadsAfterTheWrite) {
  StateParts parts = one_large_part();
  const AgentState full = full_state(AgentState{}, parts, true);
  ASSERT_TRUE(parts[0].value.has_value());
  EXPECT_EQ(*parts[0].value, std::string(64 * 1024, 'x'));
  EXPECT_EQ(full.parts.at("session/host/ws-01"), *parts[0].value);
}

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
