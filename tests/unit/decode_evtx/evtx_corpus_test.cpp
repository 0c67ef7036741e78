// The shared EVTX corpus, read whole: our counts must equal those of libevtx's own evtxexport
// tool, and every file must come back as events or reported errors, never a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <regex>

#include "oracle/evtx/evtx_oracle.hpp"
#include "unit/decode_xml/collecting_sink.hpp"

namespace sw {
namespace {

namespace fs = std::filesystem;
using test::CollectingSink;
using ::testing::HasSubstr;

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> files;
  const fs::path root = fs::path(SW_SHARED_DIR) / "corpus" / "evtx";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".evtx")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool on_path(const std::string& tool) {
  const std::string command = "command -v " + tool + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

// Per-event-id counts of what `evtxexport -f xml` prints for the file.
std::map<std::uint32_t, int> evtxexport_counts(const fs::path& file) {
  std::map<std::uint32_t, int> counts;
  const std::string command = "evtxexport -f xml " + quoted(file.string()) + " 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return counts;
  static const std::regex event_id(R"(<EventID[^>]*>(\d+)</EventID>)");
  char line[65536];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::cmatch m;
    if (std::regex_search(line, m, event_id))
      ++counts[static_cast<std::uint32_t>(std::stoul(m[1]))];
  }
  pclose(pipe);
  return counts;
}

// What our reader made of one corpus file; each file is read once for all tests.
struct CorpusRead {
  std::string open_error;
  DecodeStats stats;
  std::uint64_t hint = 0;
  std::map<std::uint32_t, int> counts;
  std::vector<DecodeError> errors;
  std::uint64_t events_without_time_or_channel = 0;
};

const CorpusRead& corpus_read(const fs::path& file) {
  static std::map<std::string, CorpusRead> cache;
  auto [it, inserted] = cache.try_emplace(file.string());
  CorpusRead& r = it->second;
  if (!inserted) return r;
  auto reader = open_oracle_evtx(file.string(), r.open_error);
  if (!reader) return r;
  CollectingSink sink;
  r.stats = reader->read(sink);
  r.hint = reader->record_count_hint();
  r.counts = sink.counts_by_event_id();
  r.errors = sink.errors;
  for (const Event& e : sink.events) {
    if (e.time_created == 0 || e.channel().empty()) ++r.events_without_time_or_channel;
  }
  EXPECT_EQ(r.stats.records_read, sink.events.size());
  return r;
}

TEST(EvtxCorpus, CountsMatchEvtxexport) {
  const auto files = corpus_files();
  if (files.empty()) GTEST_SKIP() << "no shared EVTX corpus under " << SW_SHARED_DIR;
  if (!on_path("evtxexport"))
    GTEST_SKIP() << "evtxexport is not on PATH (apt-get install libevtx-utils)";
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    const CorpusRead& ours = corpus_read(file);
    ASSERT_TRUE(ours.open_error.empty()) << ours.open_error;
    const auto expected = evtxexport_counts(file);
    int expected_total = 0;
    for (const auto& [id, n] : expected) expected_total += n;
    EXPECT_EQ(ours.stats.records_read, static_cast<std::uint64_t>(expected_total));
    EXPECT_EQ(ours.counts, expected);
  }
}

TEST(EvtxCorpus, EveryFileIsReadOrReported) {
  const auto files = corpus_files();
  if (files.empty()) GTEST_SKIP() << "no shared EVTX corpus under " << SW_SHARED_DIR;
  int unreadable = 0;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    const CorpusRead& r = corpus_read(file);
    if (!r.open_error.empty()) {
      ++unreadable;
      EXPECT_THAT(r.open_error, HasSubstr(file.string()));
      std::cout << "[unreadable] " << file.filename().string() << ": " << r.open_error << "\n";
      continue;
    }
    EXPECT_EQ(r.stats.records_read + r.stats.records_bad, r.hint);
    EXPECT_EQ(r.events_without_time_or_channel, 0u);
    std::cout << "[" << (r.stats.records_bad == 0 ? "ok" : "partial") << "] "
              << file.filename().string() << ": " << r.stats.records_read << " read, "
              << r.stats.records_bad << " undecodable of " << r.hint << "\n";
    if (r.stats.records_bad > 0) {
      ++unreadable;
      ASSERT_FALSE(r.errors.empty());
      EXPECT_THAT(r.errors.back().reason, HasSubstr(file.string()));
      EXPECT_THAT(r.errors.back().reason, HasSubstr("libevtx could not decode"));
      std::cout << "    " << r.errors.back().reason << "\n";
    }
  }
  std::cout << files.size() << " files, " << unreadable << " not (fully) readable by libevtx\n";
}

}  // namespace
}  // namespace sw
