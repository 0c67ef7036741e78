// What the dispatcher refuses (binary, archives), reads through (gzip) and how it reports files it
// cannot read; the NXLog time zone; the kinds of DecodeError.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "sessionwatch/decode.hpp"
#include "unit/decode_dispatch/temp_dir.hpp"
#include "unit/decode_jsonl/event_testing.hpp"

namespace sw {
namespace {

namespace fs = std::filesystem;
using testing::RecordingSink;

const std::string kData = SW_TEST_DATA_DIR;

class InputCheck : public testing::TempDirTest {
 protected:
  // `content` as one gzip member (what gzip and logrotate write).
  static std::string gzip(const std::string& content) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, content.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(content.data()));
    z.avail_in = static_cast<uInt>(content.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
  }
  static std::string lines(int from, int count) {
    std::string out;
    for (int i = from; i < from + count; ++i) {
      out += R"({"@timestamp":"2026-11-02T08:00:00Z","winlog":{"event_id":")" +
             std::to_string(4624) + R"(","channel":"Security","record_id":")" + std::to_string(i) +
             "\"}}\n";
    }
    return out;
  }
};

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::uint32_t x = 88172645u;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

TEST(NotALog, NamesWhatItIs) {
  EXPECT_EQ(not_a_log(std::string("\x7F"
                                  "ELF\x02\x01\x01\0\0\0",
                                  10)),
            "an ELF executable");
  EXPECT_EQ(not_a_log(std::string("PK\x03\x04\x14\0", 6)), "a ZIP archive (unpack it first)");
  EXPECT_EQ(not_a_log("\xFD"
                      "7zXZ"),
            "xz-compressed data (decompress it first)");
  const auto noise = not_a_log(random_bytes(4096));
  ASSERT_TRUE(noise);
  EXPECT_EQ(noise->rfind("binary data, not text", 0), 0u) << *noise;
}

TEST(NotALog, NulRunsAreNoVerdictButALoneNulIs) {
  EXPECT_FALSE(not_a_log("WS-1: before\n" + std::string(300, '\0') + "WS-1: after\n"));
  EXPECT_TRUE(not_a_log(std::string("WS-1: x\0y\n", 10)));
  EXPECT_EQ(not_a_log(std::string(64, '\0')), "binary data, not text (only NUL bytes)");
}

TEST(NotALog, TextOfEveryKindPasses) {
  EXPECT_FALSE(not_a_log("2024-03-01 10:22:31 WS-1 logoff: Error 7063\n"));
  EXPECT_FALSE(not_a_log("\x1B[31mcoloured\x1B[0m\ttabbed\r\n\f"));
  EXPECT_FALSE(not_a_log("MZ-4711 ticket closed\n")) << "text that starts like an executable";
  EXPECT_FALSE(
      not_a_log("caf\xC3\xA9 Stra\xDF"
                "e (latin-1)\n"));
  EXPECT_FALSE(not_a_log(""));
}

TEST_F(InputCheck, BinaryFileIsOneFileErrorAndNoEvent) {
  const std::string path = write("noise.log", random_bytes(100000));
  RecordingSink sink;
  const DecodeStats stats = decode_file(path, {}, sink);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(stats.records_read, 0u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].kind, DecodeError::Kind::kFile);
  EXPECT_EQ(sink.errors[0].reason.rfind(path + " is not a log sessionwatch reads: binary data", 0),
            0u)
      << sink.errors[0].reason;
}

TEST_F(InputCheck, ForcingTheTextFormatDoesNotMakeBinaryText) {
  const std::string path = write("noise.log", random_bytes(100000));
  DecodeOptions options;
  options.format = InputFormat::kText;
  RecordingSink sink;
  decode_file(path, options, sink);
  EXPECT_TRUE(sink.events.empty());
}

TEST_F(InputCheck, BinaryAppendedToALogIsBadRecordsNotEvents) {
  std::string noise = random_bytes(20000);
  std::replace(noise.begin(), noise.end(), '\0', '\x01');  // no NUL: only control characters
  std::string text;  // more than the 8 KiB the verdict on the whole file rests on
  for (int i = 0; i < 400; ++i) text += "WS-1: line " + std::to_string(i) + " of the log\n";
  const std::string path =
      write("grown.log", "WS-1: first line\n" + text + noise + "\nWS-1: last\n");
  RecordingSink sink;
  const DecodeStats stats = decode_file(path, {}, sink);
  ASSERT_GE(sink.events.size(), 2u);
  EXPECT_EQ(sink.events.front().message(), "WS-1: first line");
  EXPECT_EQ(sink.events.back().message(), "WS-1: last");
  for (const Event& e : sink.events) {
    EXPECT_FALSE(not_a_log(e.message())) << "binary became an event";
  }
  EXPECT_GT(stats.records_bad, 0u);
  EXPECT_GE(sink.events.size(), 400u);
}

TEST_F(InputCheck, NulRunsInTextAreDropped) {
  // What a crash leaves: a block of NUL bytes where the writer's last pages were.
  const std::string path =
      write("crashed.log", "WS-1: before\n" + std::string(20000, '\0') + "WS-1: after\n");
  RecordingSink sink;
  const DecodeStats stats = decode_file(path, {}, sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].message(), "WS-1: after");
  EXPECT_EQ(stats.records_bad, 0u);
}

TEST_F(InputCheck, GzipIsReadLikeThePlainFile) {
  const std::string text = lines(1, 5000);
  RecordingSink plain, packed;
  decode_file(write("a.jsonl", text), {}, plain);
  const DecodeStats stats = decode_file(write("a.jsonl.gz", gzip(text)), {}, packed);
  ASSERT_EQ(packed.events.size(), 5000u);
  EXPECT_TRUE(packed.errors.empty());
  EXPECT_EQ(stats.records_read, 5000u);
  for (std::size_t i = 0; i < plain.events.size(); ++i) {
    EXPECT_EQ(packed.events[i].record_id, plain.events[i].record_id);
  }
}

TEST_F(InputCheck, ConcatenatedGzipMembersAreAllRead) {
  const std::string path = write("two.gz", gzip(lines(1, 3)) + gzip(lines(4, 2)));
  RecordingSink sink;
  decode_file(path, {}, sink);
  ASSERT_EQ(sink.events.size(), 5u);
  EXPECT_EQ(sink.events[4].record_id, 5u);
}

TEST_F(InputCheck, TruncatedGzipKeepsWhatCameBeforeAndSaysSo) {
  const std::string packed = gzip(lines(1, 2000));
  const std::string path = write("cut.gz", packed.substr(0, packed.size() / 2));
  RecordingSink sink;
  const DecodeStats stats = decode_file(path, {}, sink);
  EXPECT_GT(sink.events.size(), 0u);
  EXPECT_LT(sink.events.size(), 2000u);
  // The gzip damage, and the last line it cut in half.
  EXPECT_EQ(stats.records_bad, 2u);
  ASSERT_FALSE(sink.errors.empty());
  EXPECT_EQ(sink.errors.back().reason, "the gzip data ends early (truncated file?)");
}

TEST_F(InputCheck, GzipOfAnEvtxSaysToDecompressIt) {
  std::ifstream in(kData + "/evtx/RDPAuth_RemoteConnectionManager.evtx", std::ios::binary);
  const std::string evtx((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string path = write("rcm.evtx.gz", gzip(evtx));
  RecordingSink sink;
  decode_file(path, {}, sink);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].kind, DecodeError::Kind::kFile);
  EXPECT_NE(sink.errors[0].reason.find("gzip-compressed EVTX"), std::string::npos);
}

TEST_F(InputCheck, MissingFileAndFolderAreNamedWithTheReason) {
  RecordingSink sink;
  decode_file("/nonexistent/sw/file.jsonl", {}, sink);
  decode_file(dir_.string(), {}, sink);
  ASSERT_EQ(sink.errors.size(), 2u);
  EXPECT_EQ(sink.errors[0].kind, DecodeError::Kind::kFile);
  EXPECT_EQ(sink.errors[0].reason,
            "cannot open /nonexistent/sw/file.jsonl: No such file or directory");
  EXPECT_EQ(sink.errors[1].reason.rfind(dir_.string() + " is a directory", 0), 0u);
}

TEST_F(InputCheck, EvtxDamageIsANoticeAndALostRecordARecordError) {
  std::ifstream in(kData + "/evtx/RDPAuth_RemoteConnectionManager.evtx", std::ios::binary);
  std::string evtx((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  evtx[0x1000 + 0x200] = 'X';  // the first record's signature
  const std::string path = write("rcm.evtx", evtx);
  RecordingSink sink;
  const DecodeStats stats = decode_file(path, {}, sink);
  std::size_t records = 0, notices = 0;
  for (const DecodeError& e : sink.errors) {
    records += e.kind == DecodeError::Kind::kRecord;
    notices += e.kind == DecodeError::Kind::kNotice;
    EXPECT_EQ(e.reason.find(path), std::string::npos) << "the origin is not repeated: " << e.reason;
  }
  EXPECT_EQ(records, stats.records_bad);
  EXPECT_EQ(stats.records_bad, 1u);
  EXPECT_GE(notices, 1u) << "the records checksum no longer matches";
}

TEST(UtcOffset, ParsesZonesAndRefusesNames) {
  int m = 99;
  EXPECT_TRUE(parse_utc_offset("UTC", m));
  EXPECT_EQ(m, 0);
  EXPECT_TRUE(parse_utc_offset("+01:00", m));
  EXPECT_EQ(m, 60);
  EXPECT_TRUE(parse_utc_offset("-0530", m));
  EXPECT_EQ(m, -330);
  EXPECT_TRUE(parse_utc_offset("+2", m));
  EXPECT_EQ(m, 120);
  EXPECT_FALSE(parse_utc_offset("Europe/Berlin", m));
  EXPECT_FALSE(parse_utc_offset("+25:00", m));
  EXPECT_FALSE(parse_utc_offset("+01:", m));
  EXPECT_FALSE(parse_utc_offset("", m));
}

TEST(NxlogTime, ZoneLessEventTimeTakesTheConfiguredOffset) {
  const std::string nx =
      R"({"EventTime":"2021-02-12 12:34:28","Hostname":"WS","EventID":4624,"Channel":"Security"})"
      "\n"
      R"({"EventTime":"2021-02-12 12:34:28+02:00","Hostname":"WS","EventID":4624,"Channel":"Security"})"
      "\n";
  DecodeOptions options;
  options.nxlog_time_offset_minutes = -300;  // New York in winter
  RecordingSink sink;
  decode_buffer(nx, "nx", options, sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(format_time(sink.events[0].time_created), "2021-02-12T17:34:28.0000000Z");
  EXPECT_EQ(format_time(sink.events[1].time_created), "2021-02-12T10:34:28.0000000Z");
}

}  // namespace
}  // namespace sw
