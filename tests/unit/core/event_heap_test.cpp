#include "core/event_heap.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

namespace sw {
namespace {

Event event_at(Ticks time, std::string_view computer) {
  Event e;
  e.time_created = time;
  e.set_computer(computer);
  e.add_field("TargetUserName", std::string(computer) + "-user");
  return e;
}

std::vector<std::string> drain(EventHeap& heap) {
  std::vector<std::string> out;
  while (!heap.empty()) {
    heap.pop([&](Event& e) {
      out.push_back(std::string(e.computer()) + "@" + std::to_string(e.time_created));
    });
  }
  return out;
}

TEST(EventHeap, ReleasesByTimeThenArrival) {
  EventHeap heap;
  std::uint64_t seq = 0;
  for (const auto& [time, name] : std::vector<std::pair<Ticks, std::string>>{
           {30, "c"}, {10, "a"}, {20, "b"}, {10, "a2"}, {20, "b2"}}) {
    heap.push(event_at(time, name), time, seq++);
  }
  EXPECT_EQ(heap.size(), 5u);
  EXPECT_EQ(heap.top().time, 10);
  EXPECT_EQ(drain(heap), (std::vector<std::string>{"a@10", "a2@10", "b@20", "b2@20", "c@30"}));
}

TEST(EventHeap, AReusedSlotHoldsOnlyTheNewEvent) {
  EventHeap heap;
  Event big = event_at(1, "first");
  big.add_field("Extra", std::string(300, 'x'));
  heap.push(big, 1, 0);
  drain(heap);
  heap.push(event_at(2, "second"), 2, 1);
  heap.pop([](Event& e) {
    EXPECT_EQ(e.computer(), "second");
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.value(e.fields()[0]), "second-user");
  });
}

TEST(EventHeap, AReleasedEventGrownByItsReceiverIsNotHeldUnderTheNext) {
  // The tracker enriches a released event in place; a slot that kept those buffers would hold
  // them under the next, smaller event, beyond what the holder's budget counts.
  EventHeap heap;
  const Event small = event_at(1, "small");
  const std::uint32_t small_bytes = heap.push(small, 1, 0);
  EXPECT_EQ(small_bytes, PackedEvent(small).footprint());
  heap.pop([](Event& e) { e.add_field("Grown", std::string(64 * 1024, 'x')); });
  EXPECT_EQ(heap.push(small, 2, 1), small_bytes) << "the slot held the grown buffer";
  EXPECT_EQ(heap.top().bytes, small_bytes);
}

TEST(EventHeap, ReleasedEventsLeaveTheirAllocationsToTheNextWithinABound) {
  EventHeap heap;
  Event e = event_at(1, "srv-0176.contoso.local");
  e.set_message(std::string(700, 'm'));
  std::uint64_t seq = 0;
  for (int i = 0; i < 100; ++i) heap.push(e, i, seq++);
  for (int i = 0; i < 50; ++i) heap.pop([](Event&) {});
  EXPECT_EQ(heap.spare_bytes(), 50 * (PackedEvent(e).footprint() - sizeof(PackedEvent)));
  for (int i = 0; i < 50; ++i) heap.push(e, 100 + i, seq++);
  EXPECT_EQ(heap.spare_bytes(), 0u) << "each packed into one released before";

  // A burst released at once keeps no more than the bound, and nothing once all is released.
  e.set_message(std::string(3000, 'm'));
  for (int i = 0; i < 5000; ++i) heap.push(e, 200 + i, seq++);
  while (heap.size() > 1) heap.pop([](Event&) {});
  EXPECT_GT(heap.spare_bytes(), 0u);
  EXPECT_LE(heap.spare_bytes(), std::size_t{4} << 20);
  heap.pop([](Event&) {});
  EXPECT_EQ(heap.spare_bytes(), 0u);

  // Given packed events only (decoded on another thread), it keeps none: none would be used.
  EventHeap given;
  for (int i = 0; i < 10; ++i) given.push(PackedEvent(e), i, i);
  given.pop([](Event&) {});
  EXPECT_EQ(given.spare_bytes(), 0u);
}

TEST(EventHeap, StorageOfEventsGivenPackedGoesBackToThePackerInBatches) {
  // The relay packs on its io thread and the merge releases on the detection thread: the
  // storage goes back to be packed into, not freed on the other thread.
  auto returns = std::make_shared<PackedReturns>();
  EventHeap heap;
  heap.return_spares_to(returns);
  Event e = event_at(1, "srv-0176.contoso.local");
  e.set_message(std::string(700, 'm'));
  const std::size_t n = PackedReturns::kBatch + 10;
  for (std::size_t i = 0; i < n; ++i) heap.push(PackedEvent(e), static_cast<Ticks>(i), i);
  for (std::size_t i = 0; i + 1 < PackedReturns::kBatch; ++i) heap.pop([](Event&) {});
  PackedSpares packer(std::size_t{8} << 20);
  returns->take(packer);
  EXPECT_EQ(packer.bytes(), 0u) << "given a batch at a time";
  heap.pop([](Event&) {});
  returns->take(packer);
  const std::size_t storage = PackedEvent(e).footprint() - sizeof(PackedEvent);
  EXPECT_EQ(packer.bytes(), PackedReturns::kBatch * storage);
  EXPECT_EQ(heap.spare_bytes(), 0u) << "none kept by the heap itself";
  // Packing takes them back, one per event of about that size.
  const PackedEvent repacked(e, packer.take(PackedEvent::packed_size(e)));
  EXPECT_EQ(packer.bytes(), (PackedReturns::kBatch - 1) * storage);
  Event out;
  repacked.unpack(out);
  EXPECT_EQ(out.message(), e.message());
  // The rest go back once everything held is released.
  while (!heap.empty()) heap.pop([](Event&) {});
  returns->take(packer);
  EXPECT_EQ(packer.bytes(), (n - 1) * storage);
}

TEST(EventHeap, AnEventPushedWhileOneIsHandedOutLeavesItIntact) {
  EventHeap heap;
  heap.push(event_at(1, "handed-out"), 1, 0);
  std::uint64_t seq = 1;
  heap.pop([&](Event& e) {
    // Enough pushes to grow the slots many times over.
    for (int i = 0; i < 1000; ++i) heap.push(event_at(100 + i, "later"), 100 + i, seq++);
    EXPECT_EQ(e.computer(), "handed-out");
    EXPECT_EQ(e.value(e.fields()[0]), "handed-out-user");
  });
  EXPECT_EQ(heap.size(), 1000u);
  EXPECT_EQ(drain(heap).front(), "later@100");
}

TEST(EventHeap, AReceiverThatPopsAgainGetsAnotherEventAndKeepsItsOwn) {
  EventHeap heap;
  heap.push(event_at(1, "outer"), 1, 0);
  heap.push(event_at(2, "inner"), 2, 1);
  heap.push(event_at(3, "last"), 3, 2);
  std::vector<std::string> seen;
  heap.pop([&](Event& outer) {
    heap.pop([&](Event& inner) { seen.push_back(std::string(inner.computer())); });
    seen.push_back(std::string(outer.computer()));
    EXPECT_EQ(outer.value(outer.fields()[0]), "outer-user");
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"inner", "outer"}));
  EXPECT_EQ(drain(heap), std::vector<std::string>{"last@3"});
}

TEST(EventHeap, HoldsEachEventPackedSmallerThanACopy) {
  EventHeap heap;
  Event e = event_at(1, "srv-0176.contoso.local");
  e.set_message(std::string(400, 'm'));
  EXPECT_EQ(heap.push(e, 1, 0), PackedEvent(e).footprint());
  EXPECT_LT(heap.top().bytes, e.footprint());
}

TEST(EventHeap, ReleasesAnyMixOfInOrderAndLateEventsByTimeThenArrival) {
  // Mostly in order with late ones among them, as real inputs come, pops in between: each pop
  // must release the least (time, arrival) held, as one ordered set of everything would.
  std::mt19937 random(7063);
  for (int round = 0; round < 50; ++round) {
    EventHeap heap;
    std::set<std::pair<Ticks, std::uint64_t>> model;
    std::vector<std::string> released, expected;
    const auto pop_both = [&] {
      heap.pop([&](Event& e) { released.push_back(std::string(e.computer())); });
      expected.push_back("e" + std::to_string(model.begin()->second));
      model.erase(model.begin());
    };
    Ticks clock = 1000;
    for (std::uint64_t seq = 0; seq < 400; ++seq) {
      clock += static_cast<Ticks>(random() % 3);  // equal times too
      const Ticks late = static_cast<Ticks>(random() % 50);
      const Ticks time = random() % 5 == 0 ? clock - late : clock;
      heap.push(event_at(time, "e" + std::to_string(seq)), time, seq);
      model.emplace(time, seq);
      ASSERT_EQ(heap.top().time, model.begin()->first);
      if (random() % 4 == 0) pop_both();
    }
    while (!heap.empty()) pop_both();
    EXPECT_EQ(released, expected) << "round " << round;
    EXPECT_TRUE(model.empty());
  }
}

TEST(EventHeap, ABurstIsReleasedAndTheHeapStaysUsable) {
  EventHeap heap;
  std::uint64_t seq = 0;
  for (int i = 5000; i > 0; --i) heap.push(event_at(i, "burst"), i, seq++);
  const std::vector<std::string> out = drain(heap);
  ASSERT_EQ(out.size(), 5000u);
  EXPECT_EQ(out.front(), "burst@1");
  EXPECT_EQ(out.back(), "burst@5000");
  heap.push(event_at(7, "after"), 7, seq++);
  EXPECT_EQ(drain(heap), std::vector<std::string>{"after@7"});
}

}  // namespace
}  // namespace sw
