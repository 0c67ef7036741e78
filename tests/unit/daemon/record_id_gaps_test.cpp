// Record-id gaps in files of forwarded events: a hole in a proven-complete stream is a gap;
// filtered streams, other computers and channels, resets and repeats are not.
#include <gtest/gtest.h>

#include <algorithm>

#include "daemon/record_id_gaps.hpp"

namespace sw::daemon {
namespace {

const std::string kFile = "1:10";
const std::string kOtherFile = "1:11";

// Feeds ids first..last (inclusive) of one stream; true when none of them was a gap.
bool feed(RecordIdGaps& gaps, std::uint64_t first, std::uint64_t last,
          std::string_view file = kFile, std::string_view computer = "dc01",
          std::string_view channel = "Security") {
  bool quiet = true;
  for (std::uint64_t id = first; id <= last; ++id) {
    if (gaps.observe(file, computer, channel, id)) quiet = false;
  }
  return quiet;
}

TEST(RecordIdGaps, AJumpInACompleteStreamIsAGap) {
  RecordIdGaps gaps;
  ASSERT_TRUE(feed(gaps, 1, 100));
  const auto skipped = gaps.observe(kFile, "dc01", "Security", 105);
  ASSERT_TRUE(skipped);
  EXPECT_EQ(skipped->from, 101u);
  EXPECT_EQ(skipped->to, 104u);
  // Carries on from there.
  EXPECT_TRUE(feed(gaps, 106, 120));
}

TEST(RecordIdGaps, AFilteredStreamWithHolesEverywhereIsNeverAGap) {
  RecordIdGaps gaps;
  for (std::uint64_t id = 1000; id < 100000; id += 7) {
    EXPECT_FALSE(gaps.observe(kFile, "dc01", "Security", id)) << id;
  }
}

TEST(RecordIdGaps, AShortRunIsNoProof) {
  RecordIdGaps gaps;
  ASSERT_TRUE(feed(gaps, 1, RecordIdGaps::kProof - 1));
  EXPECT_FALSE(gaps.observe(kFile, "dc01", "Security", 500));
}

TEST(RecordIdGaps, ComputersChannelsAndFilesAreIndependent) {
  RecordIdGaps gaps;
  ASSERT_TRUE(feed(gaps, 1, 100));
  // Interleaved ids of other streams never count against this one.
  EXPECT_FALSE(gaps.observe(kFile, "ws01", "Security", 5000));
  EXPECT_FALSE(gaps.observe(kFile, "dc01", "System", 7));
  EXPECT_FALSE(gaps.observe(kOtherFile, "dc01", "Security", 900));
  EXPECT_TRUE(feed(gaps, 101, 110));
}

TEST(RecordIdGaps, StreamsTakingTurnsEachKeepTheirOwnRun) {
  // The streams observed lately are remembered (a log's events come from a few in turns):
  // taking turns, in runs and one by one, each stream still sees only its own ids.
  RecordIdGaps gaps;
  for (std::uint64_t id = 1; id <= 100; ++id) {
    ASSERT_FALSE(gaps.observe(kFile, "dc01", "Security", id));
    ASSERT_FALSE(gaps.observe(kFile, "dc01", "System", 1000 + id));
    if (id % 3 == 0) {
      ASSERT_FALSE(gaps.observe(kFile, "dc01", "System", 1000 + id));  // repeated
    }
    ASSERT_FALSE(gaps.observe(kFile, "ws01", "Security", 7 * id));  // filtered: never proven
  }
  EXPECT_FALSE(gaps.observe(kFile, "ws01", "Security", 7000));
  const auto skipped = gaps.observe(kFile, "dc01", "System", 1105);
  ASSERT_TRUE(skipped);
  EXPECT_EQ(skipped->from, 1101u);
  EXPECT_TRUE(gaps.observe(kFile, "dc01", "Security", 103)) << "Security's run carried on apart";
}

// More streams than the lookup remembers by hash (a fleet's forwarded events: thousands of
// computers in turns): each keeps its own run, and each one's hole is its own gap.
TEST(RecordIdGaps, ThousandsOfComputersTakingTurnsEachKeepTheirOwnRun) {
  RecordIdGaps gaps;
  constexpr int kComputers = 3000;
  const auto computer = [](int c) { return "ws-" + std::to_string(c) + ".contoso.local"; };
  for (std::uint64_t id = 1; id <= RecordIdGaps::kProof + 6; ++id) {
    for (int c = 0; c < kComputers; ++c)
      ASSERT_FALSE(gaps.observe(kFile, computer(c), "Security", id + c)) << c << " " << id;
  }
  for (int c = 0; c < kComputers; ++c) {
    const auto skipped = gaps.observe(kFile, computer(c), "Security", RecordIdGaps::kProof + 9 + c);
    ASSERT_TRUE(skipped) << c;
    EXPECT_EQ(skipped->from, RecordIdGaps::kProof + 7 + c);
  }
}

// A file let go takes its streams along, and those of other files stay as they were.
TEST(RecordIdGaps, ForgettingAFileKeepsTheOthersRuns) {
  RecordIdGaps gaps;
  for (std::uint64_t id = 1; id <= 100; ++id) {
    ASSERT_FALSE(gaps.observe(kFile, "dc01", "Security", id));
    ASSERT_FALSE(gaps.observe(kOtherFile, "dc01", "Security", id));
  }
  gaps.forget(kFile);
  EXPECT_TRUE(gaps.observe(kOtherFile, "dc01", "Security", 105));
  EXPECT_FALSE(gaps.observe(kFile, "dc01", "Security", 105));
}

TEST(RecordIdGaps, PastTheMostStreamsEveryStreamStartsAfresh) {
  RecordIdGaps gaps;
  ASSERT_TRUE(feed(gaps, 1, 100));
  for (std::size_t i = 0; i < RecordIdGaps::kMaxStreams; ++i)
    gaps.observe(kFile, "ws-" + std::to_string(i), "Security", 1);
  EXPECT_FALSE(gaps.observe(kFile, "dc01", "Security", 105)) << "its run was let go";
}

TEST(RecordIdGaps, IdsGoingBackOrRepeatingAreNoGap) {
  RecordIdGaps gaps;
  ASSERT_TRUE(feed(gaps, 500, 600));
  EXPECT_FALSE(gaps.observe(kFile, "dc01", "Security", 600));  // sent twice
  EXPECT_FALSE(gaps.observe(kFile, "dc01", "Security", 1));    // log cleared
  // The fresh stream must prove itself again before a hole counts.
  EXPECT_FALSE(gaps.observe(kFile, "dc01", "Security", 50));
}

TEST(RecordIdGaps, AForgottenFileStartsAfresh) {
  RecordIdGaps gaps;
  ASSERT_TRUE(feed(gaps, 1, 100));
  gaps.forget(kFile);
  EXPECT_FALSE(gaps.observe(kFile, "dc01", "Security", 300));
}

StateParts parts_of(RecordIdGaps& gaps, bool changes_only) {
  StateParts out;
  gaps.snapshot_parts("record_ids/in/", changes_only, out);
  return out;
}

// Checkpointed streams: a restored tracker sees the hole the one before the restart would have.
TEST(RecordIdGaps, RestoredStreamsSeeTheSameGaps) {
  RecordIdGaps before;
  ASSERT_TRUE(feed(before, 1, 100));
  ASSERT_TRUE(feed(before, 1, 3, kOtherFile));
  StateParts saved = parts_of(before, false);
  ASSERT_EQ(saved.size(), 2u);
  StatePartMap parts = {{"session/header", "{}"}};  // another owner's part: not read
  for (StatePart& p : saved) parts[p.key] = *p.value;

  RecordIdGaps after;
  after.restore_parts("record_ids/in/", parts, {kFile});  // kOtherFile was let go meanwhile
  EXPECT_EQ(parts_of(after, false).size(), 1u);
  const auto skipped = after.observe(kFile, "dc01", "Security", 105);
  ASSERT_TRUE(skipped);
  EXPECT_EQ(skipped->from, 101u);
  EXPECT_EQ(skipped->to, 104u);
}

// Earlier versions kept a stream's file as device and inode numbers: an upgrade keeps the streams
// of the files still followed.
TEST(RecordIdGaps, PartsOfEarlierVersionsAreRestored) {
  const StatePartMap parts = {
      {"record_ids/in/1:10\x1e"
       "dc01\x1e"
       "Security",
       R"([1,10,"dc01","Security",100,100])"}};
  RecordIdGaps after;
  after.restore_parts("record_ids/in/", parts, {kFile});
  const auto skipped = after.observe(kFile, "dc01", "Security", 105);
  ASSERT_TRUE(skipped);
  EXPECT_EQ(skipped->from, 101u);
}

TEST(RecordIdGaps, ChangesOnlyHoldWhatChangedAndWhatWasLetGo) {
  RecordIdGaps gaps;
  ASSERT_TRUE(feed(gaps, 1, 10));
  ASSERT_TRUE(feed(gaps, 1, 10, kOtherFile));
  EXPECT_EQ(parts_of(gaps, true).size(), 2u);
  EXPECT_TRUE(parts_of(gaps, true).empty());
  ASSERT_TRUE(feed(gaps, 11, 11));
  gaps.forget(kOtherFile);
  const StateParts changed = parts_of(gaps, true);
  ASSERT_EQ(changed.size(), 2u);
  const auto gone =
      std::count_if(changed.begin(), changed.end(), [](const StatePart& p) { return !p.value; });
  EXPECT_EQ(gone, 1);
}

TEST(RecordIdGaps, AStreamLetGoAndSeenAgainIsWrittenNotRemoved) {
  RecordIdGaps gaps;
  ASSERT_TRUE(feed(gaps, 1, 10));
  ASSERT_EQ(parts_of(gaps, true).size(), 1u);
  gaps.forget(kFile);
  ASSERT_TRUE(feed(gaps, 20, 21));
  const StateParts changed = parts_of(gaps, true);
  ASSERT_EQ(changed.size(), 1u);
  ASSERT_TRUE(changed[0].value);
  EXPECT_EQ(changed[0].key, "record_ids/in/" + std::string(kFile) + "\x1e" + "dc01\x1eSecurity");
  EXPECT_NE(changed[0].value->find("21"), std::string::npos);
}

// Names are the event's: whatever bytes they carry, two streams never share one.
TEST(RecordIdGaps, StreamsWhoseNamesRunTogetherStayApart) {
  RecordIdGaps gaps;
  for (std::uint64_t id = 1; id <= 100; ++id)
    ASSERT_FALSE(gaps.observe(kFile,
                              "a\x1e"
                              "b",
                              "c", id));
  ASSERT_FALSE(gaps.observe(kFile, "a",
                            "b\x1e"
                            "c",
                            500));
  const auto skipped = gaps.observe(kFile,
                                    "a\x1e"
                                    "b",
                                    "c", 105);
  ASSERT_TRUE(skipped);
  EXPECT_EQ(skipped->from, 101u);
  EXPECT_EQ(parts_of(gaps, false).size(), 2u);
}

}  // namespace
}  // namespace sw::daemon
