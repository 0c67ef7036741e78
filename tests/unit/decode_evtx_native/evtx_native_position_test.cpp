// Resuming by position: the daemon's evtx input carries on after the last record it handed on,
// whatever the files' record ids say (exports renumber, merged files need not increase), and
// leaves the part of a chunk still being written for the next read.
#include <gtest/gtest.h>

#include "sessionwatch/evtx_native.hpp"
#include "unit/decode_evtx_native/evtx_builder.hpp"
#include "unit/decode_evtx_native/evtx_native_test_util.hpp"

namespace sw {
namespace {

using evtx_native_test::ChunkWriter;
using evtx_native_test::CollectingSink;
using evtx_native_test::evtx_file;

struct Record {
  std::uint64_t header_id;        // the record header's number
  std::uint64_t event_record_id;  // <EventRecordID> in the event itself
};

std::string chunk_of(const std::vector<Record>& records) {
  ChunkWriter w(records.front().header_id);
  for (const Record& r : records) {
    evtx_native_test::write_system_record(
        w, r.header_id,
        {{"EventID", "4624"}, {"EventRecordID", std::to_string(r.event_record_id)}});
  }
  return w.finish();
}

// Reads `image` from `position`; the EventRecordIDs handed on.
std::vector<std::uint64_t> read_from(const std::string& image, EvtxPosition& position,
                                     bool* resumed = nullptr, CollectingSink* errors = nullptr) {
  std::string error;
  auto reader = NativeEvtxReader::open_memory(image, "test.evtx", error);
  EXPECT_TRUE(reader) << error;
  CollectingSink sink;
  DecodeStats stats;
  const bool ok = reader->read_from(sink, position, stats);
  if (resumed) *resumed = ok;
  if (errors) *errors = sink;
  std::vector<std::uint64_t> ids;
  for (const Event& e : sink.events) ids.push_back(e.record_id);
  return ids;
}

using Ids = std::vector<std::uint64_t>;

TEST(EvtxNativePosition, ResumesAfterTheLastRecordWhateverTheEventRecordIds) {
  // An export: header numbers 1.. while the events carry the source log's ids.
  std::vector<Record> records = {{1, 5001}, {2, 5002}};
  EvtxPosition position;
  EXPECT_EQ(read_from(evtx_file({chunk_of(records)}), position), (Ids{5001, 5002}));
  EXPECT_EQ(position.last_record_id, 2u);
  records.push_back({3, 5003});
  EXPECT_EQ(read_from(evtx_file({chunk_of(records)}), position), Ids{5003});
  EXPECT_EQ(read_from(evtx_file({chunk_of(records)}), position), Ids{});
}

TEST(EvtxNativePosition, MergedFilesWithIdsThatDoNotIncreaseLoseNothing) {
  std::vector<Record> first = {{900, 900}, {12, 12}, {450, 450}};
  EvtxPosition position;
  EXPECT_EQ(read_from(evtx_file({chunk_of(first)}), position), (Ids{900, 12, 450}));
  // A second chunk appended, with ids lower than any before.
  const std::vector<Record> second = {{3, 3}, {2, 2}};
  EXPECT_EQ(read_from(evtx_file({chunk_of(first), chunk_of(second)}), position), (Ids{3, 2}));
  EXPECT_EQ(position.chunk, 1u);
}

TEST(EvtxNativePosition, AChunkStillBeingWrittenIsLeftForLater) {
  const std::string whole = evtx_file({chunk_of({{1, 1}, {2, 2}, {3, 3}})});
  // Where the second record ends: the copy has reached 10 bytes into the third.
  EvtxPosition after_two;
  read_from(evtx_file({chunk_of({{1, 1}, {2, 2}})}), after_two);
  ASSERT_GT(after_two.offset, 512u);
  const std::string partial = whole.substr(0, 4096 + after_two.offset + 10);
  EvtxPosition position;
  CollectingSink errors;
  EXPECT_EQ(read_from(partial, position, nullptr, &errors), (Ids{1, 2}));
  for (const DecodeError& e : errors.errors) {
    EXPECT_EQ(e.reason.find("no valid record"), std::string::npos) << e.reason;
  }
  EXPECT_EQ(errors.events.size(), 2u);
  EXPECT_EQ(read_from(whole, position), Ids{3});
}

TEST(EvtxNativePosition, AChunkThatHoldsOtherRecordsNowIsRefused) {
  EvtxPosition position;
  read_from(evtx_file({chunk_of({{1, 1}, {2, 2}})}), position);
  bool resumed = true;
  EXPECT_EQ(read_from(evtx_file({chunk_of({{70, 70}, {71, 71}, {72, 72}})}), position, &resumed),
            Ids{});
  EXPECT_FALSE(resumed);
}

}  // namespace
}  // namespace sw
