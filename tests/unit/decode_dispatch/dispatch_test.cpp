#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/error_catalog.hpp"
#include "unit/decode_jsonl/event_testing.hpp"

namespace sw {
namespace {

using testing::expect_same_event;
using testing::field_or;
using testing::RecordingSink;

const std::string kData = SW_TEST_DATA_DIR;

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("sw_dispatch_test_" + std::to_string(now_ticks()) + "_" + std::to_string(counter++)))
                .string();
    std::ofstream out(path_, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  ~TempFile() {
    std::error_code ignored;  // a destructor must not throw; a leftover temp file is harmless
    std::filesystem::remove(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string utf16le(std::string_view ascii_or_utf8, bool bom = true) {
  // Enough of a converter for the test texts: ASCII plus one 4-byte sequence (U+1F600).
  std::string out = bom ? "\xFF\xFE" : "";
  for (std::size_t i = 0; i < ascii_or_utf8.size(); ++i) {
    if (ascii_or_utf8.substr(i, 4) == "\xF0\x9F\x98\x80") {
      out += std::string("\x3D\xD8\x00\xDE", 4);  // D83D DE00
      i += 3;
      continue;
    }
    out.push_back(ascii_or_utf8[i]);
    out.push_back('\0');
  }
  return out;
}

std::string jsonl_line(int i, const std::string& extra = "") {
  return R"({"@timestamp":"2026-11-02T08:00:00Z","winlog":{"event_id":")" + std::to_string(i) +
         R"(","channel":"Security","event_data":{"N":")" + std::to_string(i) + extra + R"("}}})";
}

TEST(DecodeBuffer, JsonLinesWithBomCrlfAndNoFinalNewline) {
  const std::string data = testing::read_file(kData + "/jsonl/bom_crlf_no_final_newline.jsonl");
  RecordingSink sink;
  const DecodeStats stats = decode_buffer(data, "mem", {}, sink);
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_TRUE(sink.errors.empty());
  EXPECT_EQ(stats.records_read, 3u);
  EXPECT_EQ(stats.bytes_read, data.size());
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.events[i].event_id, i + 1);
    EXPECT_EQ(sink.events[i].source_offset, i + 1);
    EXPECT_EQ(sink.events[i].origin(), "mem");
  }
  EXPECT_EQ(sink.events[2].channel(), "C");
}

TEST(DecodeBuffer, TextLinesSkipBlankLinesAndKeepLineNumbers) {
  DecodeOptions options;
  options.default_computer = "HOST-A";
  RecordingSink sink;
  decode_buffer("first line\r\n\r\n  \nWS-1: third\n", "tool", options, sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_TRUE(sink.errors.empty());
  EXPECT_EQ(sink.events[0].message(), "first line");
  EXPECT_EQ(sink.events[0].source_offset, 1u);
  EXPECT_EQ(sink.events[0].computer(), "HOST-A");
  EXPECT_EQ(sink.events[1].source_offset, 4u);
  EXPECT_EQ(sink.events[1].computer(), "WS-1");
}

TEST(DecodeBuffer, ForcedFormatWins) {
  DecodeOptions options;
  options.format = InputFormat::kText;
  RecordingSink sink;
  decode_buffer(R"({"winlog":{"event_id":"1"}})", "mem", options, sink);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].event_id, 0u);
  EXPECT_EQ(sink.events[0].provider_name(), "sessionwatch-text");
}

TEST(DecodeBuffer, Utf16LittleEndianWithBom) {
  RecordingSink sink;
  decode_buffer(utf16le("WS-0042: Error code 7063 \xF0\x9F\x98\x80\r\nsecond\r\n"), "ps", {}, sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].message(), "WS-0042: Error code 7063 \xF0\x9F\x98\x80");
  EXPECT_EQ(sink.events[0].computer(), "WS-0042");
  EXPECT_EQ(sink.events[1].message(), "second");
}

TEST(DecodeBuffer, Utf16JsonLinesWithoutBomAreRecognized) {
  RecordingSink sink;
  decode_buffer(utf16le(jsonl_line(4624) + "\r\n", false), "ps", {}, sink);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].event_id, 4624u);
}

TEST(DecodeBuffer, EvtxNeedsAFile) {
  RecordingSink sink;
  const DecodeStats stats = decode_buffer(std::string("ElfFile\0rest", 12), "mem", {}, sink);
  EXPECT_EQ(stats.records_read, 0u);
  ASSERT_EQ(sink.errors.size(), 1u);
}

TEST(DecodeFile, MalformedLinesAreReportedWithLineNumbers) {
  RecordingSink sink;
  const DecodeStats stats = decode_file(kData + "/jsonl/malformed.jsonl", {}, sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].source_offset, 1u);
  EXPECT_EQ(sink.events[1].source_offset, 12u);
  EXPECT_EQ(sink.events[1].event_id, 4634u);
  std::vector<std::uint64_t> positions;
  for (const auto& e : sink.errors) {
    positions.push_back(e.position);
    EXPECT_EQ(e.origin, kData + "/jsonl/malformed.jsonl");
    EXPECT_FALSE(e.reason.empty());
  }
  // Line 4 is blank: skipped, not an error.
  EXPECT_EQ(positions, (std::vector<std::uint64_t>{2, 3, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(stats.records_read, 2u);
  EXPECT_EQ(stats.records_bad, 9u);
  ASSERT_FALSE(sink.progress.empty());
  const auto size = std::filesystem::file_size(kData + "/jsonl/malformed.jsonl");
  EXPECT_EQ(sink.progress.back(), std::make_pair(std::uint64_t{size}, std::uint64_t{size}));
}

TEST(DecodeFile, MissingFileIsOneError) {
  RecordingSink sink;
  const DecodeStats stats = decode_file("/nonexistent/sw/file.jsonl", {}, sink);
  EXPECT_EQ(stats.records_read, 0u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, 0u);
  EXPECT_NE(sink.errors[0].reason.find("cannot open"), std::string::npos);
}

TEST(DecodeFile, LinesAcrossChunkBoundaries) {
  // ~3 MB: lines straddle the reader's 1 MiB chunks.
  std::string content;
  int n = 0;
  while (content.size() < 3 * 1024 * 1024) {
    content += jsonl_line(n, std::string(static_cast<std::size_t>(n % 97), 'x'));
    content += (n % 2) ? "\r\n" : "\n";
    ++n;
  }
  TempFile file(content);
  RecordingSink sink;
  const DecodeStats stats = decode_file(file.path(), {}, sink);
  ASSERT_EQ(sink.events.size(), static_cast<std::size_t>(n));
  EXPECT_TRUE(sink.errors.empty());
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(sink.events[i].event_id, static_cast<std::uint32_t>(i));
    ASSERT_EQ(field_or(sink.events[i], "N"),
              std::to_string(i) + std::string(static_cast<std::size_t>(i % 97), 'x'));
  }
  EXPECT_EQ(stats.bytes_read, content.size());
}

TEST(DecodeFile, Utf16FileAcrossChunkBoundaries) {
  std::string text;
  int n = 0;
  while (text.size() < 700 * 1024) {  // 1.4 MB as UTF-16
    text += "line " + std::to_string(n) + " \xF0\x9F\x98\x80" + (n % 3 == 0 ? "" : "z") + "\r\n";
    ++n;
  }
  TempFile file(utf16le(text));
  RecordingSink sink;
  decode_file(file.path(), {}, sink);
  ASSERT_EQ(sink.events.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(sink.events[i].message(),
              "line " + std::to_string(i) + " \xF0\x9F\x98\x80" + (i % 3 == 0 ? "" : "z"));
}

TEST(DecodeFile, TenMegabyteLine) {
  const std::string big(10 * 1024 * 1024, 'B');
  TempFile file(jsonl_line(1, big) + "\n" + jsonl_line(2) + "\n");
  RecordingSink sink;
  decode_file(file.path(), {}, sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(field_or(sink.events[0], "N").size(), big.size() + 1);
  EXPECT_EQ(sink.events[1].event_id, 2u);
}

TEST(DecodeFile, OverlongLineIsSkippedAndReported) {
  std::string content = jsonl_line(1) + "\n";
  content += std::string(65 * 1024 * 1024, 'x');
  content += "\n" + jsonl_line(3) + "\n";
  TempFile file(content);
  content.clear();
  content.shrink_to_fit();
  RecordingSink sink;
  decode_file(file.path(), {}, sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].source_offset, 3u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, 2u);
  EXPECT_NE(sink.errors[0].reason.find("longer than"), std::string::npos);
}

TEST(DecodeFile, BinaryGarbageIsRefusedWholeWhateverTheFormat) {
  std::string garbage;
  for (int i = 0; i < 200000; ++i) garbage.push_back(static_cast<char>((i * 2654435761u) >> 13));
  TempFile file(garbage);
  for (InputFormat f :
       {InputFormat::kAuto, InputFormat::kJsonl, InputFormat::kText, InputFormat::kXml}) {
    DecodeOptions options;
    options.format = f;
    RecordingSink sink;
    const DecodeStats stats = decode_file(file.path(), options, sink);
    EXPECT_TRUE(sink.events.empty());
    EXPECT_EQ(stats.records_read, 0u);
    ASSERT_EQ(sink.errors.size(), 1u);
    EXPECT_EQ(sink.errors[0].kind, DecodeError::Kind::kFile);
  }
}

TEST(DecodeFile, StandardInput) {
  TempFile file(jsonl_line(7) + "\n" + jsonl_line(8));
  ASSERT_NE(std::freopen(file.path().c_str(), "rb", stdin), nullptr);
  RecordingSink sink;
  decode_file("-", {}, sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].origin(), "stdin");
  EXPECT_EQ(sink.events[1].event_id, 8u);
  // Let go of the file: Windows cannot delete a file that is still open.
#ifdef _WIN32
  ASSERT_NE(std::freopen("NUL", "rb", stdin), nullptr);
#else
  ASSERT_NE(std::freopen("/dev/null", "rb", stdin), nullptr);
#endif
}

TEST(DecodeFile, XmlInPiecesKeepsEventNumbers) {
  // > 1 MiB of Event XML, so the reader hands it over in more than one piece.
  std::string xml = "<Events>\n";
  int n = 0;
  while (xml.size() < 2 * 1024 * 1024 + 4096) {
    xml +=
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        "<Provider Name='P'/><EventID>" +
        std::to_string(n % 60000) +
        "</EventID><TimeCreated SystemTime='2021-02-12T12:34:28.1944370Z'/>"
        "<EventRecordID>" +
        std::to_string(n + 1) +
        "</EventRecordID><Channel>Security</Channel><Computer>pc</Computer></System>"
        "<EventData><Data Name='Pad'>" +
        std::string(200, 'p') + "</Data></EventData></Event>\n";
    ++n;
  }
  xml += "</Events>\n";
  TempFile file(xml);
  RecordingSink sink;
  const DecodeStats stats = decode_file(file.path(), {}, sink);
  EXPECT_TRUE(sink.errors.empty()) << sink.errors[0].reason;
  ASSERT_EQ(sink.events.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(stats.records_read, static_cast<std::uint64_t>(n));
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(sink.events[i].record_id, static_cast<std::uint64_t>(i + 1));
    ASSERT_EQ(sink.events[i].source_offset, sink.events[0].source_offset + i);
  }
}

TEST(DecodeFile, RecognizesThe7063EventInWinlogbeatLines) {
  RecordingSink sink;
  decode_file(kData + "/jsonl/winlogbeat.jsonl", {}, sink);
  ASSERT_EQ(sink.events.size(), 4u);
  const ErrorCatalog& catalog = ErrorCatalog::builtin();
  EXPECT_TRUE(catalog.recognize(sink.events[0]).empty());
  EXPECT_TRUE(catalog.recognize(sink.events[1]).empty());  // 4625 0xC000015B, IpPort 7063
  EXPECT_TRUE(catalog.recognize(sink.events[2]).empty());
  const auto found = catalog.recognize(sink.events[3]);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].form, ErrorForm::kMessage);
  EXPECT_EQ(found[0].holder_domain, "CONTOSO");
  EXPECT_EQ(found[0].holder_user, "anna.adams");
  EXPECT_EQ(found[1].form, ErrorForm::kDecimal);
  EXPECT_EQ(field_name(found[1].field), "Win32Status");
  EXPECT_EQ(catalog.describe(field_or(sink.events[1], "Status")),
            "the user has not been granted the requested logon type at this machine");
}

TEST(DecodeFile, RecognizesNxlogToolOutput) {
  RecordingSink sink;
  decode_file(kData + "/jsonl/nxlog.jsonl", {}, sink);
  ASSERT_EQ(sink.events.size(), 3u);
  const auto found = ErrorCatalog::builtin().recognize(sink.events[2]);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].form, ErrorForm::kMessage);
  EXPECT_EQ(found[0].holder_user, "admin");
  EXPECT_EQ(found[1].form, ErrorForm::kDecimal);
  EXPECT_EQ(field_name(found[1].field), "ReturnCode");  // not "Port", which also says 7063
}

TEST(DecodeFile, TextToolOutputFixture) {
  DecodeOptions options;
  options.default_computer = "JUMP01";
  RecordingSink sink;
  decode_file(kData + "/text/tool_output.txt", options, sink);
  ASSERT_EQ(sink.events.size(), 6u);
  EXPECT_TRUE(sink.errors.empty());
  int alerts = 0;
  for (const Event& e : sink.events) alerts += !ErrorCatalog::builtin().recognize(e).empty();
  EXPECT_EQ(alerts, 3);
  EXPECT_EQ(sink.events[0].computer(), "WS-0042");
  EXPECT_EQ(sink.events[5].computer(), "JUMP01");
}

// Every event of the shared EVTX corpus, as the EVTX reader decodes it, written as JSON and read
// back, must come back identical. Checked inside the sink: no copies of the events.
class RoundTripSink : public EventSink {
 public:
  void on_event(Event& e) override {
    text_.clear();
    write_event_json(e, text_);
    std::string error;
    Event back;
    if (!json_.decode(text_, back, error)) {
      ADD_FAILURE() << error << "\n" << text_;
      return;
    }
    if (failures_ > 3) return;  // a systematic difference: a few reports are enough
    const int before =
        ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
    expect_same_event(e, back);
    if (::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count() !=
        before) {
      ++failures_;
      ADD_FAILURE() << "record " << e.record_id << " of " << e.origin() << "\n" << text_;
    }
    ++events;
  }
  void on_error(const DecodeError&) override {}
  std::size_t events = 0;

 private:
  JsonLineDecoder json_;
  std::string text_;
  int failures_ = 0;
};

TEST(DecodeFile, EvtxCorpusRoundTripsThroughJson) {
  const std::filesystem::path corpus = SW_SHARED_DIR "/corpus/evtx";
  if (!std::filesystem::exists(corpus)) GTEST_SKIP() << "shared EVTX corpus not present";
  RoundTripSink sink;
  // The two biggest files take seconds in the EVTX reader and add no new kind of event; every
  // file was checked once by hand (6950 events, no difference).
  for (const auto& entry : std::filesystem::recursive_directory_iterator(corpus)) {
    if (entry.path().extension() == ".evtx" && entry.file_size() < 1200 * 1024)
      decode_file(entry.path().string(), {}, sink);
  }
  EXPECT_GT(sink.events, 1000u);
}

}  // namespace
}  // namespace sw
