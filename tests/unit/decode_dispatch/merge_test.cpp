// decode_files_merged: several files as one stream in event time, whatever their order, with
// bounded memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "decode/merge.hpp"
#include "sessionwatch/decode.hpp"
#include "unit/decode_dispatch/temp_dir.hpp"
#include "unit/decode_jsonl/event_testing.hpp"

namespace sw {
namespace {

namespace fs = std::filesystem;
using testing::RecordingSink;

const std::string kData = SW_TEST_DATA_DIR;

// "2026-11-02T00:00:00Z" plus `seconds` (less than a day).
std::string stamp(int seconds) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2026-11-02T%02d:%02d:%02dZ", seconds / 3600, (seconds / 60) % 60,
                seconds % 60);
  return buf;
}

std::string line(int seconds, const std::string& host, int record) {
  return R"({"@timestamp":")" + stamp(seconds) +
         R"(","winlog":{"event_id":"4624","channel":)"
         R"("Security","computer_name":")" +
         host + R"(","record_id":")" + std::to_string(record) + "\"}}\n";
}

class Merge : public testing::TempDirTest {};

// What a run delivered, in order: where each event came from and when it happened.
std::vector<std::string> sequence(const RecordingSink& sink) {
  std::vector<std::string> out;
  for (const Event& e : sink.events) {
    out.push_back(format_time(e.time_created) + " " + std::string(e.origin()) + ":" +
                  std::to_string(e.source_offset));
  }
  return out;
}

TEST_F(Merge, EveryOrderOfTheFilesGivesTheSameSequence) {
  // Two hosts in one file, the same times in two files (ties), an EVTX file, a text file.
  std::string a, b;
  for (int i = 0; i < 200; ++i) a += line(i * 3, i % 2 ? "WS-1" : "WS-2", i + 1);
  for (int i = 0; i < 150; ++i) b += line(i * 4, "WS-1", 1000 + i);
  std::vector<std::string> files = {write("a.jsonl", a), write("b.jsonl", b),
                                    kData + "/evtx/RDPAuth_LocalSessionManager.evtx",
                                    write("c.txt",
                                          "2026-11-02T08:00:06Z WS-3 logoff: error 7063\n"
                                          "2026-11-02T08:00:06Z WS-3 second line\n")};
  std::sort(files.begin(), files.end());
  std::vector<std::string> first;
  int permutations = 0;
  do {
    RecordingSink sink;
    const DecodeStats stats = decode_files_merged(files, {}, sink);
    EXPECT_EQ(stats.records_read, 200u + 150u + 17u + 2u);
    if (permutations++ == 0) {
      first = sequence(sink);
    } else {
      ASSERT_EQ(sequence(sink), first) << "permutation " << permutations;
    }
  } while (std::next_permutation(files.begin(), files.end()));
  EXPECT_EQ(permutations, 24);
  ASSERT_EQ(first.size(), 369u);
  EXPECT_TRUE(std::is_sorted(first.begin(), first.end(), [](const auto& x, const auto& y) {
    return x.substr(0, 28) < y.substr(0, 28);
  }));
}

TEST_F(Merge, SmallDisorderInsideAFileIsPutRight) {
  // Records written a few seconds out of order, as threads of one writer do.
  const std::string path =
      write("a.jsonl", line(10, "WS", 1) + line(8, "WS", 2) + line(12, "WS", 3) + line(9, "WS", 4));
  RecordingSink sink;
  MergeStats stats;
  decode_files_merged({path}, {}, sink, {}, &stats);
  ASSERT_EQ(sink.events.size(), 4u);
  std::vector<std::uint64_t> records;
  for (const Event& e : sink.events) records.push_back(e.record_id);
  EXPECT_EQ(records, (std::vector<std::uint64_t>{2, 4, 1, 3}));
  EXPECT_EQ(stats.late_events, 0u);
}

TEST_F(Merge, MemoryStaysBoundedWhenFilesDoNotOverlapInTime) {
  // An old capture and a newer one: merging them must not hold either whole.
  std::string old_capture, new_capture;
  for (int i = 0; i < 100000; ++i) old_capture += line(i % 30000, "WS", i + 1);
  for (int i = 0; i < 100000; ++i) new_capture += line(40000 + i % 30000, "WS", 200000 + i);
  MergeOptions options;
  options.reorder_window = 5 * kTicksPerSecond;
  options.max_held_events = 2000;
  RecordingSink sink;
  MergeStats stats;
  decode_files_merged({write("new.jsonl", new_capture), write("old.jsonl", old_capture)}, {}, sink,
                      options, &stats);
  ASSERT_EQ(sink.events.size(), 200000u);
  EXPECT_EQ(sink.events.front().record_id, 1u) << "the old capture comes first";
  // What one read of each file (1 MiB here, about 7,500 lines) decodes, not the 200,000.
  EXPECT_LT(stats.held_peak, 20000u);
}

TEST_F(Merge, UnreadableFilesAreReportedAndTheOthersRead) {
  const std::string good = write("good.jsonl", line(1, "WS", 1));
  RecordingSink sink;
  MergeStats stats;
  decode_files_merged({"/nonexistent/x.jsonl", good}, {}, sink, {}, &stats);
  EXPECT_EQ(sink.events.size(), 1u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].kind, DecodeError::Kind::kFile);
  EXPECT_EQ(stats.files_refused, 1u);
}

TEST(TimeMerger, WaitsForEveryOpenStreamAndIsReleasedByItsEnd) {
  MergeOptions options;
  options.reorder_window = 0;
  decode_detail::TimeMerger merger(options);
  const std::size_t a = merger.add_stream("a");
  const std::size_t b = merger.add_stream("b");
  Event e;
  std::vector<Ticks> out;
  const decode_detail::TimeMerger::Release collect = [&](Event& ev) {
    out.push_back(ev.time_created);
  };
  e.time_created = 5;
  merger.push(a, e);
  e.time_created = 7;
  merger.push(a, e);
  merger.release(collect);
  EXPECT_TRUE(out.empty()) << "b may still bring something older";
  EXPECT_EQ(merger.hungry(), b);
  e.time_created = 6;
  merger.push(b, e);
  merger.end(b);
  merger.release(collect);
  EXPECT_EQ(out, (std::vector<Ticks>{5})) << "7 waits: a may bring another event at 7";
  merger.end(a);
  merger.release(collect);
  EXPECT_EQ(out, (std::vector<Ticks>{5, 6, 7}));
  EXPECT_FALSE(merger.hungry());
}

TEST(TimeMerger, AStreamOverItsShareOnceAnotherIsAddedIsReleased) {
  // 150 events held within the window: under a lone stream's share (200), over its half (100)
  // once a second stream (the daemon following a new file) is added.
  MergeOptions options;
  options.reorder_window = 3600 * kTicksPerSecond;
  options.max_held_events = 200;
  decode_detail::TimeMerger merger(options);
  const std::size_t a = merger.add_stream("a");
  std::vector<Ticks> out;
  const decode_detail::TimeMerger::Release collect = [&](Event& ev) {
    out.push_back(ev.time_created);
  };
  Event e;
  for (int i = 0; i < 150; ++i) {
    e.time_created = i;
    merger.push(a, e);
  }
  merger.release(collect);
  EXPECT_TRUE(out.empty()) << "within the window and its share";
  merger.end(merger.add_stream("b"));
  merger.release(collect);
  EXPECT_EQ(out.size(), 51u) << "released down to its new share, then held again";
  EXPECT_EQ(merger.hungry(), a);
}

// An hour's window in time, 256 KiB in bytes: the byte budget is what binds.
MergeOptions byte_bound_options() {
  MergeOptions options;
  options.reorder_window = 3600 * kTicksPerSecond;
  options.max_held_bytes = 256 * 1024;
  return options;
}

Event event_of_400_bytes() {
  Event e;
  e.add_field("Payload", std::string(400, 'p'));
  return e;
}

TEST(TimeMerger, ADenseStreamIsHeldWithinItsByteBudget) {
  // Thousands of events a second (a fleet's forwarded events): a window of an hour in time would
  // hold them all; the byte budget releases the oldest early, still in time order.
  const MergeOptions options = byte_bound_options();
  decode_detail::TimeMerger merger(options);
  const std::size_t stream = merger.add_stream("dense");
  std::vector<Ticks> out;
  const decode_detail::TimeMerger::Release collect = [&](Event& ev) {
    out.push_back(ev.time_created);
  };
  Event e = event_of_400_bytes();
  std::size_t largest = 0;
  for (int i = 0; i < 20000; ++i) {
    e.time_created = i;
    merger.push(stream, e);
    merger.release(collect);
    largest = std::max(largest, merger.held_bytes());
  }
  EXPECT_LE(largest, options.max_held_bytes);
  EXPECT_LE(merger.stats().held_bytes_peak, options.max_held_bytes + e.footprint());
  EXPECT_GT(out.size(), 19000u) << "released as the budget filled, not at the end";
  merger.end(stream);
  merger.release(collect);
  ASSERT_EQ(out.size(), 20000u);
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));
  EXPECT_EQ(merger.held_bytes(), 0u);
}

TEST(TimeMerger, OverItsByteBudgetTheOldestOfAllStreamsGoOn) {
  // A stream the daemon cannot ask for more (it comes at its own pace) and one that says nothing.
  const MergeOptions options = byte_bound_options();
  decode_detail::TimeMerger merger(options);
  const std::size_t busy = merger.add_stream("busy");
  merger.add_stream("quiet");
  std::vector<Ticks> out;
  const decode_detail::TimeMerger::Release collect = [&](Event& ev) {
    out.push_back(ev.time_created);
  };
  Event e = event_of_400_bytes();
  for (int i = 0; i < 5000; ++i) {
    e.time_created = i;
    merger.push(busy, e);
    merger.release_over_budget(collect);
    ASSERT_LE(merger.held_bytes(), options.max_held_bytes);
  }
  EXPECT_GT(out.size(), 4000u);
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));
}

// Everything a run handed the sink, in order: events with their payload, errors, progress.
std::vector<std::string> trace(const RecordingSink& sink, const DecodeStats& stats) {
  std::vector<std::string> out = sequence(sink);
  for (const Event& e : sink.events) {
    std::string fields = std::to_string(e.record_id) + " " + std::string(e.computer());
    for (const auto& [name, value, origin] : testing::payload(e))
      fields += " " + name + "=" + value;
    out.push_back(fields);
  }
  for (const DecodeError& e : sink.errors) out.push_back(e.origin + " " + e.reason);
  for (const auto& [done, total] : sink.progress) {
    out.push_back(std::to_string(done) + "/" + std::to_string(total));
  }
  out.push_back(std::to_string(stats.records_read) + " " + std::to_string(stats.records_bad) + " " +
                std::to_string(stats.bytes_read));
  return out;
}

TEST_F(Merge, FilesDecodedOnThreadsGiveWhatOneThreadGives) {
  std::string a, b;
  for (int i = 0; i < 3000; ++i) a += line(i * 3, i % 2 ? "WS-1" : "WS-2", i + 1);
  for (int i = 0; i < 2000; ++i) b += line(i * 4, "WS-1", 5000 + i);
  b += "{not json\n";
  std::vector<std::string> files = {write("a.jsonl", a), write("b.jsonl", b), "/nonexistent/x.evtx",
                                    write("c.bin", std::string(64, '\0'))};
  for (const auto& entry : fs::directory_iterator(kData + "/evtx")) {
    if (entry.path().extension() == ".evtx") files.push_back(entry.path().string());
  }
  std::vector<std::string> one_thread;
  for (int threads : {0, 1, 3}) {
    MergeOptions options;
    options.decode_threads = threads;
    options.max_held_events = 500;  // many small steps: the threads run well ahead of the merge
    RecordingSink sink;
    const DecodeStats stats = decode_files_merged(files, {}, sink, options);
    ASSERT_GT(sink.events.size(), 5000u);
    if (threads == 0) {
      one_thread = trace(sink, stats);
    } else {
      EXPECT_EQ(trace(sink, stats), one_thread) << threads << " threads";
    }
  }
}

// A sink that is not ready for its first events (a scan whose rules are still loading): the
// merging thread decodes ahead meanwhile, and the sink still gets what a ready one gets.
class SlowToStartSink : public RecordingSink {
 public:
  explicit SlowToStartSink(int not_ready_for) : not_ready_for_(not_ready_for) {}
  bool ready() override {
    ++asked;
    return asked > not_ready_for_;
  }
  int asked = 0;

 private:
  int not_ready_for_;
};

TEST_F(Merge, ASinkNotReadyYetGetsWhatAReadyOneGets) {
  std::string a, b;
  for (int i = 0; i < 3000; ++i) a += line(i * 3, i % 2 ? "WS-1" : "WS-2", i + 1);
  for (int i = 0; i < 2000; ++i) b += line(i * 4, "WS-1", 5000 + i);
  std::vector<std::string> files = {write("a.jsonl", a), write("b.jsonl", b)};
  for (const auto& entry : fs::directory_iterator(kData + "/evtx")) {
    if (entry.path().extension() == ".evtx") files.push_back(entry.path().string());
  }
  MergeOptions options;
  options.decode_threads = 1;
  options.max_held_events = 500;
  RecordingSink ready;
  const std::vector<std::string> expected =
      trace(ready, decode_files_merged(files, {}, ready, options));
  SlowToStartSink slow(40);
  const std::vector<std::string> got = trace(slow, decode_files_merged(files, {}, slow, options));
  EXPECT_GT(slow.asked, 40);  // asked until ready, then once per round
  EXPECT_EQ(got, expected);
}

TEST_F(Merge, ManyInterleavedFilesAndDamagedOnesGiveOneOrderWhateverTheThreads) {
  // 40 files whose times interleave (file k holds k, k + 40, ...), an EVTX file cut inside its
  // fifth chunk, one with a chunk overwritten, one that is not a log.
  std::vector<std::string> files;
  for (int k = 0; k < 40; ++k) {
    std::string text;
    for (int i = 0; i < 25; ++i) text += line(k + 40 * i, "WS-" + std::to_string(k % 3), i + 1);
    files.push_back(write("f" + std::to_string(k) + ".jsonl", text));
  }
  std::ifstream in(kData + "/evtx/RDPAuth_Security.evtx", std::ios::binary);
  const std::string evtx((std::istreambuf_iterator<char>(in)), {});
  files.push_back(write("cut.evtx", evtx.substr(0, 4096 + 4 * 65536 + 30000)));
  std::string damaged = evtx;
  damaged.replace(4096 + 2 * 65536 + 3000, 400, std::string(400, '\xff'));
  files.push_back(write("damaged.evtx", damaged));
  files.push_back(write("zeros.bin", std::string(64, '\0')));
  std::vector<std::string> one_thread;
  for (int threads : {0, 1, 3}) {
    MergeOptions options;
    options.decode_threads = threads;
    RecordingSink sink;
    const DecodeStats stats = decode_files_merged(files, {}, sink, options);
    ASSERT_GT(stats.records_bad, 0u);
    ASSERT_GT(sink.events.size(), 1000u);
    const std::vector<std::string> got = trace(sink, stats);
    if (threads == 0) {
      one_thread = got;
      // The 40 files' events come out in time order, one second after another.
      std::vector<Ticks> jsonl_times;
      for (const Event& e : sink.events) {
        if (e.origin().find(".jsonl") != std::string_view::npos)
          jsonl_times.push_back(e.time_created);
      }
      ASSERT_EQ(jsonl_times.size(), 1000u);
      for (std::size_t i = 1; i < jsonl_times.size(); ++i) {
        ASSERT_EQ(jsonl_times[i] - jsonl_times[i - 1], kTicksPerSecond) << i;
      }
    } else {
      EXPECT_EQ(got, one_thread) << threads << " threads";
    }
  }
}

TEST_F(Merge, OneEvtxFileDecodedChunkByChunkOnThreadsGivesWhatOneThreadGives) {
  // Its chunks decode on every thread at once; one is overwritten in part, the last is cut.
  std::ifstream in(kData + "/evtx/RDPAuth_Security.evtx", std::ios::binary);
  std::string evtx((std::istreambuf_iterator<char>(in)), {});
  evtx.replace(4096 + 5 * 65536 + 3000, 400, std::string(400, '\xff'));
  const std::string file = write("one.evtx", evtx.substr(0, evtx.size() - 20000));
  std::vector<std::string> one_thread;
  for (int threads : {0, 1, 3, -1}) {
    MergeOptions options;
    options.decode_threads = threads;
    RecordingSink sink;
    const DecodeStats stats = decode_files_merged({file}, {}, sink, options);
    ASSERT_GT(stats.records_bad, 0u);
    ASSERT_GT(sink.events.size(), 500u);
    if (threads == 0) {
      one_thread = trace(sink, stats);
    } else {
      EXPECT_EQ(trace(sink, stats), one_thread) << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace sw
