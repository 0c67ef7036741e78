#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <thread>

#include "forward_test_util.hpp"
#include "sessionwatch/spool.hpp"

namespace sw::forward {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::TempDir;

// Every record the same size (59 bytes on disk with its header) so tests can compute offsets.
std::string rec(int i) {
  char num[8];
  std::snprintf(num, sizeof num, "%04d", i);
  return "record-" + std::string(num) + std::string(40, 'x');
}

std::unique_ptr<Spool> open_spool(const SpoolOptions& o) {
  std::string error;
  auto s = Spool::open(o, error);
  EXPECT_TRUE(s) << error;
  return s;
}

void append_range(Spool& s, int from, int to) {
  std::vector<std::string> data;
  for (int i = from; i < to; ++i) data.push_back(rec(i));
  std::vector<std::string_view> views(data.begin(), data.end());
  AppendResult r = s.append(views, 1s);
  ASSERT_EQ(r.status, AppendStatus::kOk) << r.error;
  ASSERT_EQ(r.appended, views.size());
}

// Reads everything available; acknowledges it when asked.
std::vector<std::string> drain(Spool& s, bool ack = true) {
  std::vector<std::string> got;
  std::vector<SpoolRecord> batch;
  while (s.read(batch, 7, 1 << 20, 0ms)) {
    for (auto& r : batch) got.push_back(r.data);
    if (ack) {
      EXPECT_EQ(s.acknowledge(batch.back().end), batch.size());
    }
  }
  return got;
}

std::vector<std::string> expected(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back(rec(i));
  return v;
}

std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> v;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") v.push_back(e.path());
  }
  std::sort(v.begin(), v.end());
  return v;
}

SpoolOptions small_options(const fs::path& dir) {
  SpoolOptions o;
  o.dir = dir;
  o.max_bytes = 1 << 20;
  o.segment_bytes = 1024;  // about 18 records per segment
  return o;
}

TEST(Spool, AppendReadAcknowledgeInOrder) {
  TempDir dir;
  auto s = open_spool(small_options(dir.path()));
  append_range(*s, 0, 100);
  EXPECT_EQ(s->stats().records, 100U);
  EXPECT_EQ(drain(*s), expected(0, 100));
  SpoolStats st = s->stats();
  EXPECT_EQ(st.records, 0U);
  EXPECT_EQ(st.bytes, 0U);
  EXPECT_EQ(st.appended, 100U);
  EXPECT_EQ(st.acknowledged, 100U);
  // Finished segments are deleted; only the one being written stays.
  EXPECT_EQ(segments(dir.path()).size(), 1U);
  EXPECT_TRUE(s->wait_drained(0ms));
}

TEST(Spool, RestartResumesAfterTheAcknowledgedRecord) {
  TempDir dir;
  {
    auto s = open_spool(small_options(dir.path()));
    append_range(*s, 0, 50);
    std::vector<SpoolRecord> batch;
    ASSERT_TRUE(s->read(batch, 20, 1 << 20, 0ms));
    s->acknowledge(batch.back().end);
    // Read but never acknowledged: must come again after the restart.
    ASSERT_TRUE(s->read(batch, 10, 1 << 20, 0ms));
  }
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(s->stats().records, 30U);
  append_range(*s, 50, 60);
  EXPECT_EQ(drain(*s), expected(20, 60));
}

TEST(Spool, RewindRedeliversWhatWasNotAcknowledged) {
  TempDir dir;
  auto s = open_spool(small_options(dir.path()));
  append_range(*s, 0, 40);
  std::vector<SpoolRecord> batch;
  ASSERT_TRUE(s->read(batch, 10, 1 << 20, 0ms));
  s->acknowledge(batch[4].end);  // 0..4 confirmed
  ASSERT_TRUE(s->read(batch, 30, 1 << 20, 0ms));
  s->rewind();
  EXPECT_EQ(drain(*s), expected(5, 40));
}

TEST(Spool, ReadWaitsForAnAppend) {
  TempDir dir;
  auto s = open_spool(small_options(dir.path()));
  std::thread producer([&] {
    std::this_thread::sleep_for(50ms);
    append_range(*s, 0, 1);
  });
  std::vector<SpoolRecord> batch;
  EXPECT_TRUE(s->read(batch, 10, 1 << 20, 5s));
  producer.join();
  ASSERT_EQ(batch.size(), 1U);
  EXPECT_EQ(batch[0].data, rec(0));
}

TEST(Spool, WakeReaderEndsALongWaitOnceAndKeepsTheSpoolOpen) {
  TempDir dir;
  auto s = open_spool(small_options(dir.path()));
  std::vector<SpoolRecord> batch;
  // A sender idling in a wait far longer than the test may take.
  auto waiting = std::async(std::launch::async, [&] { return s->read(batch, 10, 1 << 20, 1h); });
  std::this_thread::sleep_for(50ms);
  s->wake_reader();
  ASSERT_EQ(waiting.wait_for(30s), std::future_status::ready) << "wake_reader did not end the wait";
  EXPECT_FALSE(waiting.get());  // nothing came
  EXPECT_TRUE(batch.empty());
  // Once: the next read waits again, and the spool still delivers.
  EXPECT_FALSE(s->read(batch, 10, 1 << 20, 20ms));
  append_range(*s, 0, 1);
  ASSERT_TRUE(s->read(batch, 10, 1 << 20, 1s));
  EXPECT_EQ(batch[0].data, rec(0));
}

TEST(Spool, TornTailIsCutAndTheRestSurvives) {
  TempDir dir;
  {
    auto s = open_spool(small_options(dir.path()));
    append_range(*s, 0, 10);  // fits one segment
  }
  auto segs = segments(dir.path());
  ASSERT_EQ(segs.size(), 1U);
  // A crash in the middle of the last record: half of it on disk.
  auto size = fs::file_size(segs[0]);
  fs::resize_file(segs[0], size - 20);
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(s->stats().corrupt_bytes, 8U + rec(9).size() - 20);
  append_range(*s, 10, 12);
  std::vector<std::string> want = expected(0, 9);
  want.push_back(rec(10));
  want.push_back(rec(11));
  EXPECT_EQ(drain(*s), want);
}

TEST(Spool, GarbageAfterTheLastRecordIsCut) {
  TempDir dir;
  {
    auto s = open_spool(small_options(dir.path()));
    append_range(*s, 0, 5);
  }
  auto segs = segments(dir.path());
  {
    std::ofstream f(segs.back(), std::ios::app | std::ios::binary);
    f << std::string("\x10\x00\x00\x00garbage-not-a-record", 24);
  }
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(s->stats().corrupt_bytes, 24U);
  EXPECT_EQ(drain(*s), expected(0, 5));
}

TEST(Spool, FlippedBitCutsItsSegmentOnlyAndLaterSegmentsAreDelivered) {
  TempDir dir;
  {
    auto s = open_spool(small_options(dir.path()));
    for (int i = 0; i < 60; i += 5) append_range(*s, i, i + 5);
  }
  auto segs = segments(dir.path());
  ASSERT_GE(segs.size(), 3U);
  // Flip one byte of the third record of the first segment (8-byte segment header, then
  // records of 8 + 49 bytes).
  const std::size_t record_size = 8 + rec(0).size();
  {
    std::fstream f(segs[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(8 + 2 * record_size + 12));
    f.put('#');
  }
  std::size_t first_segment_records = (fs::file_size(segs[0]) - 8) / record_size;
  auto s = open_spool(small_options(dir.path()));
  EXPECT_GT(s->stats().corrupt_bytes, 0U);
  std::vector<std::string> got = drain(*s);
  std::vector<std::string> want = expected(0, 2);
  auto rest = expected(static_cast<int>(first_segment_records), 60);
  want.insert(want.end(), rest.begin(), rest.end());
  EXPECT_EQ(got, want);
}

TEST(Spool, LostAcknowledgementFileMeansRedeliveryNotLoss) {
  TempDir dir;
  {
    auto s = open_spool(small_options(dir.path()));
    append_range(*s, 0, 10);
    std::vector<SpoolRecord> batch;
    ASSERT_TRUE(s->read(batch, 5, 1 << 20, 0ms));
    s->acknowledge(batch.back().end);
  }
  {
    std::ofstream f(dir.path() / "ack", std::ios::trunc | std::ios::binary);
    f << "garbage";
  }
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(drain(*s), expected(0, 10));
}

TEST(Spool, FullWithBlockWaitsThenReportsFull) {
  TempDir dir;
  SpoolOptions o = small_options(dir.path());
  o.max_bytes = 4096;  // about 72 records
  auto s = open_spool(o);
  std::vector<std::string> data;
  for (int i = 0; i < 200; ++i) data.push_back(rec(i));
  std::vector<std::string_view> views(data.begin(), data.end());
  AppendResult r = s->append(views, 50ms);
  EXPECT_EQ(r.status, AppendStatus::kFull);
  EXPECT_GT(r.appended, 50U);
  EXPECT_LT(r.appended, 80U);
  EXPECT_EQ(s->stats().blocked, 1U);
  EXPECT_LE(s->stats().bytes, o.max_bytes);
  EXPECT_EQ(s->stats().dropped, 0U);

  // A blocked producer continues as soon as the consumer releases space.
  std::size_t first = r.appended;
  std::thread consumer([&] {
    std::this_thread::sleep_for(50ms);
    drain(*s);
  });
  r = s->append(std::span(views).subspan(first, 10), 5s);
  consumer.join();
  EXPECT_EQ(r.status, AppendStatus::kOk);
  EXPECT_EQ(r.appended, 10U);
}

TEST(Spool, FullWithDropOldestKeepsTheNewestAndCounts) {
  TempDir dir;
  SpoolOptions o = small_options(dir.path());
  o.max_bytes = 4096;
  o.when_full = FullPolicy::kDropOldest;
  auto s = open_spool(o);
  for (int i = 0; i < 300; i += 10) append_range(*s, i, i + 10);
  SpoolStats st = s->stats();
  EXPECT_GT(st.dropped, 0U);
  std::vector<std::string> got = drain(*s);
  EXPECT_EQ(got.size() + st.dropped, 300U);
  // What is left is the newest, contiguous, in order.
  EXPECT_EQ(got, expected(300 - static_cast<int>(got.size()), 300));
}

TEST(Spool, DropOldestWhileABatchIsInFlight) {
  TempDir dir;
  SpoolOptions o = small_options(dir.path());
  o.max_bytes = 4096;
  o.when_full = FullPolicy::kDropOldest;
  auto s = open_spool(o);
  append_range(*s, 0, 10);
  std::vector<SpoolRecord> batch;
  ASSERT_TRUE(s->read(batch, 10, 1 << 20, 0ms));
  for (int i = 10; i < 300; i += 10) append_range(*s, i, i + 10);
  // The in-flight records were dropped meanwhile; acknowledging them changes nothing.
  EXPECT_EQ(s->acknowledge(batch.back().end), 0U);
  std::vector<std::string> got = drain(*s);
  EXPECT_EQ(got.size() + s->stats().dropped, 300U);
}

TEST(Spool, RecordTooLargeIsRefused) {
  TempDir dir;
  auto s = open_spool(small_options(dir.path()));
  std::string big(4096, 'x');
  std::vector<std::string_view> views{big};
  EXPECT_EQ(s->append(views, 0ms).status, AppendStatus::kTooLarge);
  std::vector<std::string_view> empty{std::string_view()};
  EXPECT_EQ(s->append(empty, 0ms).status, AppendStatus::kTooLarge);
}

TEST(Spool, ForeignFileIsIgnoredAndCounted) {
  TempDir dir;
  {
    std::ofstream f(dir.path() / "00000000000000000001.seg", std::ios::binary);
    f << "not a spool segment";
  }
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(s->stats().corrupt_bytes, 19U);
  append_range(*s, 0, 3);
  EXPECT_EQ(drain(*s), expected(0, 3));
}

TEST(Spool, FsyncPoliciesAllDeliver) {
  for (FsyncPolicy p :
       {FsyncPolicy::kAlways, FsyncPolicy::kBatch, FsyncPolicy::kNever, FsyncPolicy::kInterval}) {
    TempDir dir;
    SpoolOptions o = small_options(dir.path());
    o.fsync = p;
    {
      auto s = open_spool(o);
      append_range(*s, 0, 30);
    }
    auto s = open_spool(o);
    EXPECT_EQ(drain(*s), expected(0, 30)) << to_string(p);
    FsyncPolicy back;
    EXPECT_TRUE(parse_fsync_policy(to_string(p), back));
    EXPECT_EQ(back, p);
  }
}

}  // namespace
}  // namespace sw::forward
