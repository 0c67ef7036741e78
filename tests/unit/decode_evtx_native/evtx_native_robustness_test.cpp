// Damaged input: flipped bytes, truncation, garbage, hostile sizes and self-referencing
// templates. The reader must report and carry on, never crash or hang (run under ASan too).
#include <gtest/gtest.h>

#include <random>

#include "sessionwatch/evtx_native.hpp"
#include "sessionwatch/utf8.hpp"
#include "unit/decode_evtx_native/evtx_builder.hpp"
#include "unit/decode_evtx_native/evtx_native_test_util.hpp"

namespace sw {
namespace {

using evtx_native_test::ChunkWriter;
using evtx_native_test::CollectingSink;
using evtx_native_test::evtx_file;
using evtx_native_test::fixture;
using evtx_native_test::read_file;
using evtx_native_test::u32le;

constexpr std::size_t kChunkOffset = 4096;

struct Outcome {
  bool opened = false;
  std::string open_error;
  CollectingSink sink;
  DecodeStats stats;
};

Outcome decode(std::string image) {
  Outcome o;
  auto reader = NativeEvtxReader::open_memory(std::move(image), "damaged.evtx", o.open_error);
  o.opened = reader != nullptr;
  if (reader) o.stats = reader->read(o.sink);
  return o;
}

bool mentions(const CollectingSink& sink, std::string_view text) {
  for (const DecodeError& e : sink.errors) {
    if (e.reason.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string security_fixture() {
  return read_file(fixture("ID4625_failed_login_account_restriction.evtx"));
}

TEST(EvtxNativeRobustness, EmptyAndForeignFilesDoNotOpen) {
  for (const std::string& image :
       {std::string(), std::string("ElfFil"), std::string(100, 'x'), std::string("<Event/>")}) {
    const Outcome o = decode(image);
    EXPECT_FALSE(o.opened);
    EXPECT_NE(o.open_error.find("not an EVTX file"), std::string::npos) << o.open_error;
  }
}

TEST(EvtxNativeRobustness, HeaderOnlyFileHasNoRecords) {
  const std::string file = security_fixture();
  const Outcome o = decode(file.substr(0, kChunkOffset));
  ASSERT_TRUE(o.opened);
  EXPECT_TRUE(o.sink.events.empty());
  EXPECT_TRUE(mentions(o.sink, "truncated?")) << "the header claims a chunk the file lacks";
}

TEST(EvtxNativeRobustness, TruncationAtEvery4KiBBoundary) {
  const std::string file = security_fixture();
  const Outcome whole = decode(file);
  ASSERT_EQ(whole.sink.events.size(), 2u);
  std::size_t previous = 0;
  for (std::size_t size = 0; size <= file.size(); size += 4096) {
    const Outcome o = decode(file.substr(0, size));
    if (size == 0) {
      EXPECT_FALSE(o.opened);
      continue;
    }
    ASSERT_TRUE(o.opened) << size;
    // Records wholly inside the kept bytes still decode, and identically.
    EXPECT_GE(o.sink.events.size(), previous) << size;
    for (std::size_t i = 0; i < o.sink.events.size(); ++i) {
      EXPECT_EQ(evtx_native_test::describe_differences(whole.sink.events[i], o.sink.events[i]), "")
          << size;
    }
    if (size > kChunkOffset && size < file.size()) {
      EXPECT_TRUE(mentions(o.sink, "file ends inside the chunk")) << size;
    }
    previous = o.sink.events.size();
  }
  EXPECT_EQ(previous, 2u);
}

TEST(EvtxNativeRobustness, BadChunkHeaderChecksumSkipsTheChunk) {
  std::string file = security_fixture();
  file[kChunkOffset + 8] ^= 0x01;  // first record number: covered by the header checksum
  const Outcome o = decode(file);
  EXPECT_TRUE(o.sink.events.empty());
  EXPECT_TRUE(mentions(o.sink, "chunk header checksum mismatch"));
  EXPECT_EQ(o.sink.errors.front().origin, "damaged.evtx");
}

TEST(EvtxNativeRobustness, DamagedRecordIsReportedAndTheNextOneStillDecodes) {
  std::string file = security_fixture();
  // The first record's size field: the record no longer matches its trailing copy.
  file[kChunkOffset + 512 + 4] ^= 0x10;
  const Outcome o = decode(file);
  EXPECT_TRUE(mentions(o.sink, "event records checksum mismatch"));
  EXPECT_TRUE(mentions(o.sink, "no valid record at chunk offset 0x200"));
  ASSERT_EQ(o.sink.events.size(), 1u);
  EXPECT_EQ(o.sink.events[0].record_id, 90939u);
  EXPECT_EQ(o.stats.records_bad, 1u);
}

TEST(EvtxNativeRobustness, DirtyHeaderWithTooFewChunksStillReadsEveryChunk) {
  ChunkWriter a(1), b(2);
  for (ChunkWriter* w : {&a, &b}) {
    const std::uint64_t id = w == &a ? 1 : 2;
    w->begin_record(id);
    w->fragment_header();
    w->open_element("Event", false);
    w->close_start();
    w->open_element("System", false);
    w->close_start();
    w->open_element("EventID", false);
    w->close_start();
    w->text(id == 1 ? "4624" : "4634");
    w->end_element();
    w->end_element();
    w->end_element();
    w->end_of_stream();
    w->end_record();
  }
  // The header says one chunk and is marked dirty: Windows had not flushed it.
  const Outcome o = decode(evtx_file({a.finish(), b.finish()}, 1, /*flags=*/1));
  ASSERT_EQ(o.sink.events.size(), 2u);
  EXPECT_EQ(o.sink.events[1].event_id, 4634u);
  EXPECT_TRUE(o.sink.errors.empty());
}

TEST(EvtxNativeRobustness, HugeSizesAndOffsetsAreRejected) {
  const std::string original = security_fixture();
  const std::size_t record = kChunkOffset + 512;
  struct Patch {
    std::size_t at;
    std::string bytes;
  };
  const Patch patches[] = {
      {record + 4, u32le(0xFFFFFFF0)},                 // record size
      {kChunkOffset + 48, u32le(0xFFFFFFFF)},          // free space offset
      {record + 24 + 4 + 6, u32le(0x7FFFFFFF)},        // template definition offset
      {record + 24 + 4 + 10 + 20, u32le(0xFFFFFFFF)},  // inline template's body size
  };
  for (const Patch& p : patches) {
    std::string file = original;
    file.replace(p.at, p.bytes.size(), p.bytes);
    const Outcome o = decode(file);
    ASSERT_TRUE(o.opened);
    EXPECT_FALSE(o.sink.errors.empty()) << "patch at " << p.at;
  }
}

// A template whose body instantiates itself: bounded by the nesting limit, not the stack.
TEST(EvtxNativeRobustness, SelfReferencingTemplateIsCutOff) {
  ChunkWriter w(1);
  w.begin_record(1);
  w.fragment_header();
  const std::uint32_t definition = w.begin_template_inline();
  w.fragment_header();
  w.template_reference(definition);
  w.template_values({});
  w.end_template_body();
  w.template_values({});
  w.end_of_stream();
  w.end_record();
  const Outcome o = decode(evtx_file({w.finish()}));
  EXPECT_TRUE(o.sink.events.empty());
  EXPECT_TRUE(mentions(o.sink, "nested too deeply"));
}

// Every single-byte flip of the chunk header, the first record and its template definition,
// plus random multi-byte damage: any outcome but a crash, a hang or invalid UTF-8 is fine.
TEST(EvtxNativeRobustness, ByteFlipsNeverCrash) {
  const std::string original = security_fixture();
  std::size_t events = 0;
  for (std::size_t at = kChunkOffset; at < kChunkOffset + 512 + 1200; ++at) {
    std::string file = original;
    file[at] = static_cast<char>(file[at] ^ 0xFF);
    const Outcome o = decode(std::move(file));
    events += o.sink.events.size();
  }
  EXPECT_GT(events, 0u);
  std::mt19937 random(20261125);
  for (int round = 0; round < 300; ++round) {
    std::string file = original;
    for (int k = 0; k < 16; ++k) {
      // Within the chunk header and the two records.
      const std::size_t at = kChunkOffset + random() % 4096;
      file[at] = static_cast<char>(random());
    }
    const Outcome o = decode(std::move(file));
    for (const Event& e : o.sink.events) {
      for (const Field& f : e.fields()) ASSERT_TRUE(is_valid_utf8(e.value(f)));
    }
  }
}

}  // namespace
}  // namespace sw
