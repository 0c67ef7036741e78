#include <gtest/gtest.h>

#ifndef _WIN32
#include <sys/stat.h>
#endif

#include <atomic>
#include <cerrno>
#include <cstring>
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

// Every record the same size (73 bytes on disk with its frame header) so tests can compute
// offsets.
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
  o.segment_bytes = 1024;  // 13 records per segment
  return o;
}

constexpr std::size_t kFrameHeader = 24;
constexpr std::size_t kSegmentHeader = 8;
std::size_t frame_size() {
  return kFrameHeader + rec(0).size();
}

// A disk that fills up on demand: while `full`, a write puts half its bytes down and fails with
// ENOSPC, the way write(2) does when the space runs out mid-way.
struct FillingDisk {
  std::atomic<bool> full{false};
  std::atomic<int> failures{0};
  void attach(SpoolOptions& o) {
    o.write_file = [this](std::FILE* f, const char* data, std::size_t n) -> std::size_t {
      if (!full) return std::fwrite(data, 1, n, f);
      ++failures;
      const std::size_t put = std::fwrite(data, 1, n / 2, f);
      errno = ENOSPC;
      return put;
    };
  }
};

void flip_byte(const fs::path& file, std::size_t at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  const char c = static_cast<char>(f.get());
  f.seekp(static_cast<std::streamoff>(at));
  f.put(static_cast<char>(c ^ 0x20));
}

std::vector<std::string> without(std::vector<std::string> v, int from, int to) {
  v.erase(v.begin() + from, v.begin() + to);
  return v;
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
  EXPECT_EQ(s->stats().corrupt_bytes, 24U + rec(9).size() - 20);
  EXPECT_EQ(s->stats().lost, 0U) << "an append a crash interrupted was never confirmed";
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

// ---------------------------------------------------------------- a disk that refuses writes

TEST(SpoolFullDisk, AFailedAppendLeavesNoTraceAndCountsNothing) {
  TempDir dir;
  SpoolOptions o = small_options(dir.path());
  o.segment_bytes = 64 << 10;
  FillingDisk disk;
  disk.attach(o);
  auto s = open_spool(o);
  append_range(*s, 0, 10);
  const auto size_before = fs::file_size(segments(dir.path()).back());

  disk.full = true;
  std::vector<std::string> data;
  for (int i = 10; i < 20; ++i) data.push_back(rec(i));
  std::vector<std::string_view> views(data.begin(), data.end());
  AppendResult r = s->append(views, 1s);
  EXPECT_EQ(r.status, AppendStatus::kIoError);
  EXPECT_EQ(r.appended, 0U);
  EXPECT_NE(r.error.find(std::strerror(ENOSPC)), std::string::npos) << r.error;
  EXPECT_GT(disk.failures.load(), 0);
  SpoolStats st = s->stats();
  EXPECT_EQ(st.appended, 10U);
  EXPECT_EQ(st.records, 10U);
  EXPECT_EQ(st.write_errors, 1U);
  EXPECT_EQ(fs::file_size(segments(dir.path()).back()), size_before) << "half-written bytes stay";
  EXPECT_EQ(drain(*s), expected(0, 10)) << "a record of the failed write became readable";

  disk.full = false;  // space returns: the same records go in, once
  r = s->append(views, 1s);
  EXPECT_EQ(r.status, AppendStatus::kOk) << r.error;
  EXPECT_EQ(r.appended, 10U);
  EXPECT_EQ(drain(*s), expected(10, 20));
  s.reset();
  auto again = open_spool(o);
  EXPECT_EQ(again->stats().corrupt_bytes, 0U);
  EXPECT_EQ(again->stats().lost, 0U);
  EXPECT_TRUE(again->take_losses().empty());
}

TEST(SpoolFullDisk, ABatchCutOffMidwayKeepsExactlyWhatWasCommitted) {
  for (FsyncPolicy policy : {FsyncPolicy::kBatch, FsyncPolicy::kAlways}) {
    TempDir dir;
    SpoolOptions o = small_options(dir.path());  // 13 records per segment: the batch rolls over
    o.fsync = policy;
    int writes = 0;
    o.write_file = [&](std::FILE* f, const char* data, std::size_t n) -> std::size_t {
      if (++writes < 6) return std::fwrite(data, 1, n, f);
      errno = ENOSPC;
      return std::fwrite(data, 1, n / 3, f);
    };
    std::size_t accepted = 0;
    {
      auto s = open_spool(o);
      std::vector<std::string> data;
      for (int i = 0; i < 60; ++i) data.push_back(rec(i));
      std::vector<std::string_view> views(data.begin(), data.end());
      AppendResult r = s->append(views, 1s);
      ASSERT_EQ(r.status, AppendStatus::kIoError) << to_string(policy);
      accepted = r.appended;
      EXPECT_GT(accepted, 0U) << to_string(policy);
      EXPECT_LT(accepted, 60U) << to_string(policy);
      EXPECT_EQ(s->stats().appended, accepted);
      EXPECT_EQ(drain(*s, /*ack=*/false), expected(0, static_cast<int>(accepted)));
    }
    o.write_file = nullptr;
    auto s = open_spool(o);  // a restart finds the same, and nothing torn
    EXPECT_EQ(s->stats().corrupt_bytes, 0U) << to_string(policy);
    EXPECT_EQ(drain(*s), expected(0, static_cast<int>(accepted))) << to_string(policy);
  }
}

TEST(SpoolFullDisk, NoRoomForANewSegmentFailsTheAppendUntilThereIs) {
  TempDir dir;
  SpoolOptions o = small_options(dir.path());
  FillingDisk disk;
  disk.attach(o);
  auto s = open_spool(o);
  append_range(*s, 0, 13);  // the first segment is full now
  disk.full = true;
  std::vector<std::string> data = {rec(13)};
  std::vector<std::string_view> views(data.begin(), data.end());
  EXPECT_EQ(s->append(views, 0ms).status, AppendStatus::kIoError);
  EXPECT_EQ(segments(dir.path()).size(), 1U) << "a half-made segment stays behind";
  disk.full = false;
  EXPECT_EQ(s->append(views, 0ms).status, AppendStatus::kOk);
  EXPECT_EQ(drain(*s), expected(0, 14));
}

// ---------------------------------------------------------------- damaged and missing files

TEST(SpoolDamage, AFlippedByteCostsOneRecordAndIsReported) {
  TempDir dir;
  {
    auto s = open_spool(small_options(dir.path()));
    append_range(*s, 0, 60);
  }
  auto segs = segments(dir.path());
  ASSERT_GE(segs.size(), 4U);
  // A payload byte of the third record of the second segment (record 15, number 16).
  flip_byte(segs[1], kSegmentHeader + 2 * frame_size() + kFrameHeader + 5);
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(drain(*s), without(expected(0, 60), 15, 16));
  EXPECT_EQ(s->stats().lost, 1U);
  EXPECT_EQ(s->stats().corrupt_bytes, frame_size());
  auto losses = s->take_losses();
  ASSERT_EQ(losses.size(), 1U);
  EXPECT_EQ(losses[0].cause, "damaged");
  EXPECT_EQ(losses[0].file, segs[1]);
  EXPECT_EQ(losses[0].count, 1U);
  EXPECT_EQ(losses[0].from, 16U);
  EXPECT_EQ(losses[0].to, 16U);
  EXPECT_TRUE(s->take_losses().empty()) << "taken once";
}

TEST(SpoolDamage, ADamagedHeaderIsSkippedToTheNextFrame) {
  TempDir dir;
  {
    auto s = open_spool(small_options(dir.path()));
    append_range(*s, 0, 10);  // one segment, the last: damage there is not a torn tail
    append_range(*s, 10, 12);
  }
  auto segs = segments(dir.path());
  // The length field of record 4: without an intact header its end is unknown.
  flip_byte(segs[0], kSegmentHeader + 4 * frame_size() + 5);
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(drain(*s), without(expected(0, 12), 4, 5));
  EXPECT_EQ(s->stats().lost, 1U);
  auto losses = s->take_losses();
  ASSERT_EQ(losses.size(), 1U);
  EXPECT_EQ(losses[0].count, 1U);
  EXPECT_EQ(losses[0].from, 5U);
}

TEST(SpoolDamage, ADeletedSegmentIsReportedWithItsCount) {
  TempDir dir;
  {
    auto s = open_spool(small_options(dir.path()));
    append_range(*s, 0, 60);
  }
  auto segs = segments(dir.path());
  ASSERT_GE(segs.size(), 4U);
  fs::remove(segs[1]);  // records 13..25
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(drain(*s), without(expected(0, 60), 13, 26));
  EXPECT_EQ(s->stats().lost, 13U);
  auto losses = s->take_losses();
  ASSERT_EQ(losses.size(), 1U);
  EXPECT_EQ(losses[0].cause, "segment_missing");
  EXPECT_EQ(losses[0].file, segs[1]);
  EXPECT_EQ(losses[0].count, 13U);
}

TEST(SpoolDamage, ADeletedOldestSegmentIsMeasuredFromTheAcknowledgedPosition) {
  TempDir dir;
  {
    auto s = open_spool(small_options(dir.path()));
    append_range(*s, 0, 40);
    std::vector<SpoolRecord> batch;
    ASSERT_TRUE(s->read(batch, 5, 1 << 20, 0ms));
    s->acknowledge(batch.back().end);  // 0..4 delivered
  }
  fs::remove(segments(dir.path()).front());  // 5..12 never delivered
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(drain(*s), expected(13, 40));
  EXPECT_EQ(s->stats().lost, 8U);
  auto losses = s->take_losses();
  ASSERT_EQ(losses.size(), 1U);
  EXPECT_EQ(losses[0].cause, "segment_missing");
  EXPECT_EQ(losses[0].from, 6U);
  EXPECT_EQ(losses[0].to, 13U);
}

TEST(SpoolDamage, TheOnlySegmentDeletedIsReported) {
  TempDir dir;
  {
    auto s = open_spool(small_options(dir.path()));
    append_range(*s, 0, 10);
  }
  fs::remove(segments(dir.path()).front());
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(s->stats().lost, 10U) << "the clean close saved how many were written";
  ASSERT_EQ(s->take_losses().size(), 1U);
}

TEST(SpoolDamage, DamageFoundWhileReadingCostsOnlyTheDamagedRecord) {
  TempDir dir;
  auto s = open_spool(small_options(dir.path()));
  append_range(*s, 0, 30);
  auto segs = segments(dir.path());
  flip_byte(segs[0], kSegmentHeader + 7 * frame_size() + kFrameHeader + 1);  // record 7
  EXPECT_EQ(drain(*s), without(expected(0, 30), 7, 8));
  EXPECT_EQ(s->stats().lost, 1U);
  EXPECT_EQ(s->take_losses().size(), 1U);
  EXPECT_EQ(s->stats().records, 0U);
  EXPECT_TRUE(s->wait_drained(0ms));
}

TEST(SpoolDamage, RestartsAndReleasedSegmentsAreNoLoss) {
  TempDir dir;
  for (int round = 0; round < 4; ++round) {
    auto s = open_spool(small_options(dir.path()));
    EXPECT_EQ(s->stats().lost + s->stats().lost_unknown, 0U) << "round " << round;
    EXPECT_TRUE(s->take_losses().empty()) << "round " << round;
    append_range(*s, round * 30, round * 30 + 30);
    std::vector<SpoolRecord> batch;
    // Half delivered each round; the rest comes first in the next.
    while (s->stats().records > 15 && s->read(batch, 5, 1 << 20, 0ms)) {
      s->acknowledge(batch.back().end);
    }
  }
  auto s = open_spool(small_options(dir.path()));
  EXPECT_EQ(drain(*s).size(), 15U);
  EXPECT_TRUE(s->take_losses().empty());
}

// An agent upgraded with alerts still spooled in the format without record numbers.
TEST(SpoolUpgrade, ASpoolOfTheFormerFormatIsDelivered) {
  TempDir dir;
  auto v1_frame = [](const std::string& payload) {
    std::string out(8, '\0');
    const auto length = static_cast<std::uint32_t>(payload.size());
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(length >> (8 * i));
    const std::uint32_t crc = crc32c(payload, crc32c(std::string_view(out.data(), 4)));
    for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>(crc >> (8 * i));
    return out + payload;
  };
  {
    std::ofstream f(dir.path() / "00000000000000000007.seg", std::ios::binary);
    f << "SWSPOOL1";
    for (int i = 0; i < 5; ++i) f << v1_frame(rec(i));
  }
  auto s = open_spool(small_options(dir.path()));
  append_range(*s, 5, 8);
  EXPECT_EQ(drain(*s), expected(0, 8));
  EXPECT_TRUE(s->take_losses().empty());
  s.reset();
  EXPECT_EQ(segments(dir.path()).size(), 1U) << "the old segment went once delivered";
}

#ifndef _WIN32
TEST(SpoolFiles, AreOwnerOnlyWhateverTheUmask) {
  TempDir dir;
  const mode_t old = ::umask(0);
  SpoolOptions o = small_options(dir.path() / "spool" / "siem");
  {
    auto s = open_spool(o);
    append_range(*s, 0, 3);
  }
  ::umask(old);
  auto mode = [](const fs::path& p) { return fs::status(p).permissions() & fs::perms::all; };
  EXPECT_EQ(mode(dir.path() / "spool"), fs::perms::owner_all);
  EXPECT_EQ(mode(o.dir), fs::perms::owner_all);
  EXPECT_EQ(mode(segments(o.dir).front()), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(mode(o.dir / "ack"), fs::perms::owner_read | fs::perms::owner_write);
}
#endif

}  // namespace
}  // namespace sw::forward
