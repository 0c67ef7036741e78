// Prefetcher: files decoded ahead of the merge on worker threads, within bounds, replayed in the
// order and with the errors that stepping them on one thread gives.
#include "decode/prefetch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "unit/decode_jsonl/event_testing.hpp"

namespace sw::decode_detail {
namespace {

// What the merge gets from the prefetcher, recorded: each packed event unpacked as it comes.
class RecordingSink : public ReplaySink {
 public:
  void on_event(Event& event) override { recorded.on_event(event); }
  void on_packed(PackedEvent&& event) override {
    Event e;
    event.unpack(e);
    recorded.on_event(e);
  }
  void on_error(const DecodeError& error) override { recorded.on_error(error); }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    recorded.on_progress(done, total);
  }
  testing::RecordingSink recorded;
  std::vector<Event>& events = recorded.events;
  std::vector<DecodeError>& errors = recorded.errors;
  std::vector<std::pair<std::uint64_t, std::uint64_t>>& progress = recorded.progress;
};

// Polls `done` until it holds or a generous deadline passes.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// What the workers did to the fake files, read by the test thread.
struct Counters {
  explicit Counters(std::size_t files) : steps(files), freed(files) {}
  std::vector<std::atomic<int>> steps;  // steps taken per file
  std::vector<std::atomic<bool>> freed;
  std::atomic<bool> open{true};  // false: steps wait until it is set
  std::atomic<int> running{0};   // steps of independent files being taken now
  std::atomic<int> most_running{0};
};

// A file of `steps` steps, each one event (record id = file * 1000 + step) and its progress; a
// step listed in `fails_at` reports a bad record, or throws when `throws` is set. With
// `independent`, its steps may be taken on several threads at once (as EVTX chunks are), and
// `ends_at` is a step that returns false before the last (a read error).
class FakeStream final : public DecodeStream {
 public:
  FakeStream(std::size_t file, int steps, EventSink& sink, Counters& counters, int fails_at = -1,
             bool throws = false)
      : file_(file),
        steps_(steps),
        sink_(sink),
        counters_(counters),
        fails_at_(fails_at),
        throws_(throws) {}
  ~FakeStream() override { counters_.freed[file_] = true; }
  bool step() override {
    eventually([&] { return counters_.open.load(); });
    return take(counters_.steps[file_]++, sink_, stats_);
  }
  const DecodeStats& stats() const override { return stats_; }
  std::uint64_t size() const override { return steps_; }
  std::uint64_t independent_steps() const override { return independent ? steps_ : 0; }
  bool step_alone(std::uint64_t k, EventSink& sink, DecodeStats& stats) override {
    eventually([&] { return counters_.open.load(); });
    ++counters_.steps[file_];
    const int now = ++counters_.running;
    int most = counters_.most_running;
    while (now > most && !counters_.most_running.compare_exchange_weak(most, now)) {
    }
    // Long enough for another thread to start the next step meanwhile.
    std::this_thread::sleep_for(std::chrono::milliseconds(int(k) == slow_at ? 50 : 2));
    --counters_.running;
    return take(int(k), sink, stats);
  }

  bool independent = false;
  int ends_at = -1;
  int slow_at = -1;  // an independent step that takes longer than the others

 private:
  bool take(int n, EventSink& sink, DecodeStats& stats) {
    if (n == fails_at_ && throws_) throw std::runtime_error("file " + std::to_string(file_));
    if (n == fails_at_) {
      ++stats.records_bad;
      sink.on_error(DecodeError{std::to_string(file_), std::uint64_t(n), "bad"});
    } else {
      Event e;
      e.record_id = file_ * 1000 + n;
      ++stats.records_read;
      sink.on_event(e);
    }
    sink.on_progress(n + 1, steps_);
    return n + 1 < steps_ && n != ends_at;
  }

  std::size_t file_;
  int steps_;
  EventSink& sink_;
  Counters& counters_;
  int fails_at_;
  bool throws_;
  DecodeStats stats_;
};

int total_steps(const Counters& c) {
  int sum = 0;
  for (const auto& n : c.steps) sum += n;
  return sum;
}

// A file of a new lane whose steps are independent (as EVTX chunks are), for the caller to add
// once it has set what else it needs.
std::unique_ptr<FakeStream> independent_file(Prefetcher& ahead, std::size_t file, int steps,
                                             Counters& counters, int fails_at = -1) {
  auto stream = std::make_unique<FakeStream>(file, steps, ahead.new_lane(), counters, fails_at);
  stream->independent = true;
  return stream;
}

// Everything one lane delivered, as text: events, errors, progress, its stats and end.
std::vector<std::string> drain(Prefetcher& ahead, std::size_t lane) {
  std::vector<std::string> out;
  RecordingSink sink;
  bool more = true;
  while (more) {
    try {
      more = ahead.step(lane, sink);
    } catch (const std::exception& e) {
      out.push_back(std::string("threw ") + e.what());
      more = false;
    }
  }
  for (const Event& e : sink.events) out.push_back("event " + std::to_string(e.record_id));
  for (const DecodeError& e : sink.errors) out.push_back("error " + e.origin + " " + e.reason);
  out.push_back(std::to_string(sink.progress.size()) + " progress, " +
                std::to_string(ahead.stats(lane).records_read) + " read " +
                std::to_string(ahead.stats(lane).records_bad) + " bad");
  return out;
}

TEST(Prefetcher, ReadsEveryFileOnceAheadBeforeAnyTwiceAndStaysWithinItsBudget) {
  constexpr std::size_t kFiles = 12, kBudget = 8;
  Counters counters(kFiles);
  counters.open = false;  // every file is given before a step ends
  Prefetcher ahead(2, kBudget);
  for (std::size_t i = 0; i < kFiles; ++i) {
    EventSink& sink = ahead.new_lane();
    ahead.add(std::make_unique<FakeStream>(i, 5, sink, counters));
  }
  counters.open = true;
  // Nothing asked yet: the workers fill the budget and stop there.
  ASSERT_TRUE(eventually([&] { return total_steps(counters) == int(kBudget); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // would they go beyond it?
  EXPECT_EQ(total_steps(counters), int(kBudget));
  // The merge asks the files in their order until each has given a step: the first files have
  // one each, rather than two for half as many.
  for (std::size_t i = 0; i < kFiles; ++i) {
    EXPECT_EQ(counters.steps[i], i < kBudget ? 1 : 0) << "file " << i;
  }
}

// The merging thread waiting for its sink (a scan's rules still loading) decodes ahead as a
// worker would, within the same budget, and what it decoded is replayed as if a worker had.
TEST(Prefetcher, HelpDecodesAheadOnTheCallingThreadWithinTheBudget) {
  constexpr std::size_t kFiles = 3, kBudget = 4;
  Counters counters(kFiles);
  Prefetcher ahead(0, kBudget);  // no worker: only the caller decodes
  for (std::size_t i = 0; i < kFiles; ++i) {
    EventSink& sink = ahead.new_lane();
    ahead.add(std::make_unique<FakeStream>(i, 3, sink, counters));
  }
  int helped = 0;
  while (ahead.help()) ++helped;
  EXPECT_EQ(helped, int(kBudget));
  EXPECT_EQ(total_steps(counters), int(kBudget));
  EXPECT_EQ(counters.steps[0], 2);  // every file once before any twice, as the workers read
  EXPECT_EQ(counters.steps[1], 1);
  EXPECT_EQ(counters.steps[2], 1);
  for (std::size_t i = 0; i < kFiles; ++i) {
    std::vector<std::string> expected;
    for (int n = 0; n < 3; ++n) expected.push_back("event " + std::to_string(i * 1000 + n));
    expected.push_back("3 progress, 3 read 0 bad");
    EXPECT_EQ(drain(ahead, i), expected) << "file " << i;
  }
  EXPECT_EQ(total_steps(counters), 9);
  EXPECT_FALSE(ahead.help());  // every file read to its end
}

TEST(Prefetcher, HoldsAtMostTwoStepsOfAFileAhead) {
  Counters counters(1);
  Prefetcher ahead(1, 100);
  EventSink& sink = ahead.new_lane();
  ahead.add(std::make_unique<FakeStream>(0, 50, sink, counters));
  ASSERT_TRUE(eventually([&] { return counters.steps[0] == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(counters.steps[0], 2);
  RecordingSink out;
  ASSERT_TRUE(ahead.step(0, out));
  ASSERT_TRUE(eventually([&] { return counters.steps[0] == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(counters.steps[0], 3);
}

TEST(Prefetcher, ReadsAheadTheFileTheMergeWaitsOnEvenWithTheBudgetSpent) {
  // The budget holds the first files' first steps; the merge then needs the last file (its
  // events come first in time). Its next steps are read ahead at once rather than one at a time
  // on the merging thread while the workers wait for room.
  constexpr std::size_t kFiles = 12, kBudget = 8;
  Counters counters(kFiles);
  Prefetcher ahead(2, kBudget);
  for (std::size_t i = 0; i < kFiles; ++i) {
    EventSink& sink = ahead.new_lane();
    ahead.add(std::make_unique<FakeStream>(i, 5, sink, counters));
  }
  ASSERT_TRUE(eventually([&] { return total_steps(counters) == int(kBudget); }));
  RecordingSink out;
  ASSERT_TRUE(ahead.step(kFiles - 1, out));  // no thread had got to it: taken right here
  ASSERT_TRUE(eventually([&] { return counters.steps[kFiles - 1] == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(counters.steps[kFiles - 1], 3);  // two ahead, as for any file
  for (std::size_t i = kBudget; i + 1 < kFiles; ++i) EXPECT_EQ(counters.steps[i], 0) << i;
}

TEST(Prefetcher, HoldsTwoStepsPerDecodingThreadOfAnIndependentFileAhead) {
  // One worker and the merging thread decode; as many steps wait decoded, so that neither
  // thread waits for the merge to take one.
  Counters counters(1);
  Prefetcher ahead(1, 100);
  ahead.add(independent_file(ahead, 0, 40, counters));
  ASSERT_TRUE(eventually([&] { return counters.steps[0] == 4; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(counters.steps[0], 4);
}

TEST(Prefetcher, GivesBackAFileReadToItsEndBeforeTheMergeTakesItsLastStep) {
  Counters counters(2);
  Prefetcher ahead(1, 4);
  for (std::size_t i = 0; i < 2; ++i) {
    EventSink& sink = ahead.new_lane();
    ahead.add(std::make_unique<FakeStream>(i, 1, sink, counters));
  }
  ASSERT_TRUE(eventually([&] { return counters.freed[0] && counters.freed[1]; }));
  RecordingSink out;
  EXPECT_FALSE(ahead.step(0, out));
  EXPECT_FALSE(ahead.step(1, out));
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[1].record_id, 1000u);
}

TEST(Prefetcher, EachFileGivesWhatSteppingItAloneGivesWhateverTheThreads) {
  // 30 files of 1..7 steps; some report a bad record midway, one throws midway, one was refused.
  constexpr std::size_t kFiles = 30;
  auto run = [&](std::size_t workers, std::size_t budget) {
    Counters counters(kFiles);
    Prefetcher ahead(workers, budget);
    for (std::size_t i = 0; i < kFiles; ++i) {
      EventSink& sink = ahead.new_lane();
      if (i == 4) {
        ahead.add(nullptr);
        continue;
      }
      const int steps = 1 + int(i % 7);
      auto file = std::make_unique<FakeStream>(i, steps, sink, counters, i % 5 == 0 ? 0 : steps / 2,
                                               i == 17);
      // Every third file's steps are independent; two of those end early.
      file->independent = i % 3 == 0;
      if (i == 6 || i == 27) file->ends_at = 1;
      ahead.add(std::move(file));
    }
    // Taken in another order than they are read ahead in: the last file first.
    std::vector<std::vector<std::string>> per_file(kFiles);
    for (std::size_t i = kFiles; i-- > 0;) per_file[i] = drain(ahead, i);
    std::vector<std::string> all;
    for (const auto& lines : per_file) all.insert(all.end(), lines.begin(), lines.end());
    return all;
  };
  const std::vector<std::string> expected = run(0, 1);  // the merging thread steps every file
  EXPECT_NE(std::find(expected.begin(), expected.end(), "threw file 17"), expected.end());
  // A file ending early gives nothing of the steps after its end (file 6: steps 0 and 1 of 7).
  EXPECT_NE(std::find(expected.begin(), expected.end(), "event 6001"), expected.end());
  EXPECT_EQ(std::find(expected.begin(), expected.end(), "event 6002"), expected.end());
  EXPECT_EQ(run(1, 4), expected);
  EXPECT_EQ(run(3, 16), expected);
  EXPECT_EQ(run(2, 60), expected);
}

TEST(Prefetcher, DecodesStepsOfOneIndependentFileOnSeveralThreadsAtOnceAndKeepsTheirOrder) {
  Counters counters(1);
  Prefetcher ahead(2, 8);
  ahead.add(independent_file(ahead, 0, 40, counters, 7));
  const std::vector<std::string> got = drain(ahead, 0);
  EXPECT_GE(counters.most_running, 2);
  ASSERT_EQ(got.size(), 41u);  // 39 events, the bad record, the totals
  for (int n = 0, line = 0; n < 40; ++n) {
    if (n != 7) {
      EXPECT_EQ(got[line++], "event " + std::to_string(n)) << "step " << n;
    }
  }
  EXPECT_EQ(got[39], "error 0 bad");
  EXPECT_EQ(got[40], "40 progress, 39 read 1 bad");
}

TEST(Prefetcher, AFileEndingEarlyGivesBackTheBudgetOfStepsReadPastItsEnd) {
  // File 0 ends at its second step, which is slow: a thread has decoded the third meanwhile. That
  // is dropped, and the budget it took must come back, or the workers could never read as far
  // ahead again.
  Counters counters(2);
  Prefetcher ahead(2, 2);
  auto first = independent_file(ahead, 0, 20, counters);
  first->ends_at = 1;
  first->slow_at = 1;
  ahead.add(std::move(first));
  EXPECT_EQ(drain(ahead, 0).back(), "2 progress, 2 read 0 bad");
  ASSERT_TRUE(eventually([&] { return bool(counters.freed[0]); }));
  EventSink& second_sink = ahead.new_lane();
  ahead.add(std::make_unique<FakeStream>(1, 6, second_sink, counters));
  EXPECT_TRUE(eventually([&] { return counters.steps[1] == 2; }));  // 2 ahead: the whole budget
}

}  // namespace
}  // namespace sw::decode_detail
