// Chunks decoded alone, on several threads at once (how `scan` reads one large EVTX file on every
// core): each gives exactly what reading the file chunk by chunk gives at that step.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "sessionwatch/evtx_native.hpp"
#include "unit/decode_evtx_native/evtx_builder.hpp"
#include "unit/decode_evtx_native/evtx_native_test_util.hpp"

namespace sw {
namespace {

using evtx_native_test::CollectingSink;
using evtx_native_test::describe_differences;
using evtx_native_test::evtx_file;
using evtx_native_test::fixture;
using evtx_native_test::read_file;

constexpr std::size_t kHeader = 4096, kChunk = 65536;

// What one step handed on, and what it returned.
struct Step : CollectingSink {
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    progress.push_back(std::to_string(done) + "/" + std::to_string(total));
  }
  std::vector<std::string> progress;
  DecodeStats stats;
  bool more = false;
};

std::vector<Step> chunk_by_chunk(const std::string& image) {
  std::string error;
  auto reader = NativeEvtxReader::open_memory(image, "f.evtx", error);
  EXPECT_TRUE(reader) << error;
  std::vector<Step> steps;
  do {
    steps.emplace_back();
    steps.back().more = reader->read_next_chunk(steps.back(), steps.back().stats);
  } while (steps.back().more);
  return steps;
}

// Every step of the file, taken last first by two threads at once from one reader.
std::vector<Step> alone_on_two_threads(const std::string& image) {
  std::string error;
  auto reader = NativeEvtxReader::open_memory(image, "f.evtx", error);
  EXPECT_TRUE(reader) << error;
  std::vector<Step> steps(reader->chunk_steps());
  auto take = [&](std::size_t parity) {
    for (std::size_t k = steps.size(); k-- > 0;) {
      if (k % 2 == parity) steps[k].more = reader->read_chunk_alone(k, steps[k], steps[k].stats);
    }
  };
  std::thread other(take, 1);
  take(0);
  other.join();
  return steps;
}

void expect_same_steps(const std::vector<Step>& expected, const std::vector<Step>& got) {
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    SCOPED_TRACE("step " + std::to_string(k));
    EXPECT_EQ(got[k].more, expected[k].more);
    EXPECT_EQ(got[k].progress, expected[k].progress);
    EXPECT_EQ(got[k].stats.records_read, expected[k].stats.records_read);
    EXPECT_EQ(got[k].stats.records_bad, expected[k].stats.records_bad);
    EXPECT_EQ(got[k].stats.bytes_read, expected[k].stats.bytes_read);
    ASSERT_EQ(got[k].errors.size(), expected[k].errors.size());
    for (std::size_t i = 0; i < expected[k].errors.size(); ++i) {
      EXPECT_EQ(got[k].errors[i].reason, expected[k].errors[i].reason);
      EXPECT_EQ(got[k].errors[i].position, expected[k].errors[i].position);
    }
    ASSERT_EQ(got[k].events.size(), expected[k].events.size());
    for (std::size_t i = 0; i < expected[k].events.size(); ++i) {
      EXPECT_EQ(describe_differences(expected[k].events[i], got[k].events[i]), "");
    }
  }
}

std::string chunk_of(const std::string& fixture_name) {
  return read_file(fixture(fixture_name)).substr(kHeader, kChunk);
}

// Real chunks of three captures in one file, so that neighbouring chunks hold other strings and
// templates.
std::string three_chunk_file() {
  return evtx_file({chunk_of("ID4625_failed_login_account_restriction.evtx"),
                    chunk_of("RDPAuth_RemoteConnectionManager.evtx"),
                    chunk_of("ID1149_RDP_success_logins_to_multiple_hosts.evtx")});
}

TEST(EvtxNativeChunks, EachChunkAloneGivesWhatReadingInOrderGivesAtThatStep) {
  const std::string image = three_chunk_file();
  const std::vector<Step> expected = chunk_by_chunk(image);
  ASSERT_EQ(expected.size(), 3u);
  std::size_t events = 0;
  for (const Step& s : expected) events += s.events.size();
  EXPECT_GT(events, 3u);
  expect_same_steps(expected, alone_on_two_threads(image));
}

TEST(EvtxNativeChunks, DamagedChunksAndAShortFileGiveTheSameReportsAtTheSameSteps) {
  std::string image = three_chunk_file();
  image[kHeader + 8] ^= 0x01;                       // chunk 0: header checksum no longer matches
  image[kHeader + kChunk + 512 + 4] ^= 0x10;        // chunk 1: its first record's size
  image.resize(kHeader + 2 * kChunk + kChunk / 2);  // chunk 2: cut in half
  image[120] ^= 0x01;                               // the file header's flags: its checksum fails
  const std::vector<Step> expected = chunk_by_chunk(image);
  std::size_t reports = 0;
  for (const Step& s : expected) reports += s.errors.size();
  EXPECT_GE(reports, 4u);
  expect_same_steps(expected, alone_on_two_threads(image));
}

TEST(EvtxNativeChunks, AFileWithoutChunksTakesOneStep) {
  const std::string image = evtx_file({});
  const std::vector<Step> expected = chunk_by_chunk(image);
  ASSERT_EQ(expected.size(), 1u);
  EXPECT_FALSE(expected[0].more);
  expect_same_steps(expected, alone_on_two_threads(image));
}

}  // namespace
}  // namespace sw
