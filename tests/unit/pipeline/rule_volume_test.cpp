// How many alerts the shipped rules raise on realistic input. An agent that raises ten alerts for
// every real incident is switched off, so alerts at level medium or above must stay within twice
// the console refusals (7063/7062 events, observed or inferred), plus the runs of the session
// tools the technique rules watch (tscon /dest:, logoff ID), which are incidents of their own.
// docs/rules.md gives each rule's expected rate and the measured counts.
//
// Input: the shared corpus's EVTX captures, and session traffic written by the shared bench's
// generator (SW_VOLUME_LINES lines, 100,000 by default; the documented measurement uses
// 1,000,000). Both skip, saying so, without SW_SHARED_DIR.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/error_catalog.hpp"
#include "sessionwatch/evtx_native.hpp"
#include "sessionwatch/pipeline.hpp"

namespace sw {
namespace {

namespace fs = std::filesystem;

// What the shipped rules raised on one input, and what the input held that deserves an alert.
struct Volume {
  std::map<std::string, std::size_t> by_rule;  // "level: title" -> alerts
  std::size_t medium_or_above = 0;
  std::size_t events = 0;
  std::size_t refusals = 0;   // events carrying 7063/7062, and the tracker's inferred refusals
  std::size_t tool_runs = 0;  // process creations of tscon, logoff, rwinsta, reset

  std::size_t allowed() const { return 2 * refusals + tool_runs; }
  void print(const std::string& what) const {
    std::cout << "[ volume ] " << what << ": " << events << " events, " << refusals << " refusals, "
              << tool_runs << " session tool runs, " << medium_or_above
              << " alerts at medium or above (allowed " << allowed() << ")\n";
    for (const auto& [rule, count] : by_rule)
      std::cout << "[ volume ]   " << count << "  " << rule << "\n";
  }
};

bool reports_refusal(const Event& e) {
  for (const Recognition& r : ErrorCatalog::builtin().recognize(e)) {
    if (r.error && (r.error->code == 7063 || r.error->code == 7062)) return true;
  }
  return false;
}

bool runs_session_tool(const Event& e) {
  for (std::string_view field : {"Image", "NewProcessName"}) {
    std::string image(e.payload(field).value_or(""));
    for (char& c : image) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::string_view tool : {"\\tscon.exe", "\\logoff.exe", "\\rwinsta.exe", "\\reset.exe"}) {
      if (image.ends_with(tool)) return true;
    }
  }
  return false;
}

// The shipped rules over a stream of events, counting as it goes.
class ShippedRules : public EventSink {
 public:
  ShippedRules() {
    DetectorOptions options;
    options.rule_paths = {std::string(SW_SOURCE_DIR) + "/rules"};
    std::vector<std::string> problems;
    detector_ = Detector::create(options, problems);
    for (const std::string& p : problems) ADD_FAILURE() << p;
  }
  void on_event(Event& e) override {
    ++volume_.events;
    if (reports_refusal(e)) ++volume_.refusals;
    if (runs_session_tool(e)) ++volume_.tool_runs;
    detector_->process(e, count_);
  }
  void on_error(const DecodeError& e) override { ADD_FAILURE() << e.origin << ": " << e.reason; }
  Volume finish() {
    detector_->flush(count_);
    volume_.refusals += detector_->tracker().stats().refusals;
    return volume_;
  }

 private:
  Volume volume_;
  std::unique_ptr<Detector> detector_;
  Detector::AlertCallback count_ = [this](Alert&& a) {
    ++volume_.by_rule[std::string(to_string(a.level)) + ": " + a.rule_name];
    if (a.level >= Level::kMedium) ++volume_.medium_or_above;
  };
};

struct Collect : EventSink {
  std::vector<Event> events;
  void on_event(Event& e) override { events.push_back(e); }
  void on_error(const DecodeError&) override {}  // damaged records are the decoders' tests
};

TEST(ShippedRuleVolume, CorpusCaptures) {
  const fs::path corpus = fs::path(SW_SHARED_DIR) / "corpus" / "evtx";
  if (!fs::is_directory(corpus)) GTEST_SKIP() << "EVTX corpus not found in " << corpus;
  std::size_t captures = 0;
  for (const auto& folder : fs::directory_iterator(corpus)) {
    if (!folder.is_directory()) continue;
    // One capture per folder: its files are the channels of the same machines, read together
    // in time order.
    Collect all;
    for (const auto& file : fs::directory_iterator(folder.path())) {
      if (file.path().extension() != ".evtx") continue;
      std::string error;
      auto reader = open_native_evtx(file.path().string(), error);
      ASSERT_TRUE(reader) << file.path() << ": " << error;
      reader->read(all);
    }
    if (all.events.empty()) continue;
    ++captures;
    std::stable_sort(all.events.begin(), all.events.end(), [](const Event& a, const Event& b) {
      return a.time_created < b.time_created;
    });
    ShippedRules rules;
    for (Event& e : all.events) rules.on_event(e);
    const Volume v = rules.finish();
    v.print(folder.path().filename().string());
    EXPECT_LE(v.medium_or_above, v.allowed()) << folder.path();
  }
  EXPECT_GE(captures, 3u);
}

TEST(ShippedRuleVolume, GeneratedSessionTraffic) {
#ifdef _WIN32
  GTEST_SKIP() << "the generator runs under python3 on the build machine";
#else
  const fs::path generator = fs::path(SW_SHARED_DIR) / "bench" / "gen_jsonl.py";
  if (!fs::exists(generator)) GTEST_SKIP() << "generator not found: " << generator;
  const char* lines_env = std::getenv("SW_VOLUME_LINES");
  const std::string lines = lines_env ? lines_env : "100000";
  const std::string command = "python3 '" + generator.string() + "' " + lines + " - 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) GTEST_SKIP() << "cannot run " << command;
  ShippedRules rules;
  JsonLineDecoder decoder;
  Event event;
  std::string line, error;
  std::size_t good = 0, bad = 0;
  for (char buf[8192]; std::fgets(buf, sizeof buf, pipe);) {
    line += buf;
    if (line.back() != '\n') continue;
    line.pop_back();
    if (decoder.decode(line, event, error)) {
      rules.on_event(event);
      ++good;
    } else {
      ++bad;
    }
    line.clear();
  }
  if (pclose(pipe) != 0 && good == 0) GTEST_SKIP() << "python3 could not run " << generator;
  const Volume v = rules.finish();
  v.print(lines + " generated lines");
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(good, std::stoul(lines));
  EXPECT_GT(v.refusals, 0u) << "the generator writes about one 7063 event in 1,000";
  EXPECT_LE(v.medium_or_above, v.allowed());
#endif
}

}  // namespace
}  // namespace sw
