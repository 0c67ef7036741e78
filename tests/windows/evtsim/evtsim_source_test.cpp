// The agent's Event Log source (agent/platform/windows/eventlog_win32.cpp, the real Windows code)
// against the simulated Event Log: what Windows does when a channel is idle, events are large, the
// service is loaded, a log is cleared or wrapped, events are forwarded, or a channel may not be
// read.
#include <windows.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "evtsim/sim_fixture.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/eventlog.hpp"

namespace evtsim {
namespace {

namespace el = sw::eventlog;

struct Delivered {
  std::string channel;  // as rendered
  std::uint64_t record_id = 0;
  std::uint32_t event_id = 0;
  std::string message;
};

class Recorder : public el::Handler {
 public:
  void on_event(sw::Event& e) override {
    events.push_back({std::string(e.channel()), e.record_id, e.event_id, std::string(e.message())});
  }
  void on_batch(std::string_view channel, std::string_view bookmark) override {
    batches.emplace_back(channel, bookmark);
  }
  void on_gap(const el::CollectionGap& gap) override { gaps.push_back(gap); }
  void on_error(std::string_view channel, std::string_view message) override {
    errors.push_back(std::string(channel) + ": " + std::string(message));
  }
  std::vector<std::uint64_t> ids(const std::string& channel = "Security") const {
    std::vector<std::uint64_t> out;
    for (const Delivered& d : events) {
      if (d.channel == channel) out.push_back(d.record_id);
    }
    return out;
  }
  std::string all_errors() const {
    std::string text;
    for (const auto& e : errors) text += e + "\n";
    return text;
  }
  std::vector<Delivered> events;
  std::vector<std::pair<std::string, std::string>> batches;
  std::vector<el::CollectionGap> gaps;
  std::vector<std::string> errors;
};

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t i = first; i <= last; ++i) ids.push_back(i);
  return ids;
}

el::ChannelConfig channel(const std::string& name, std::string bookmark = {},
                          el::StartPosition start = el::StartPosition::kNewest) {
  el::ChannelConfig c;
  c.channel = name;
  c.bookmark_xml = std::move(bookmark);
  c.start = start;
  return c;
}

el::SourceOptions fast_options() {
  el::SourceOptions o;
  o.decode = [decoder = std::make_shared<sw::XmlEventDecoder>()](
                 std::string_view xml, sw::Event& out, std::string& error) {
    return decoder->decode(xml, out, error);
  };
  o.first_retry = std::chrono::milliseconds(50);
  o.max_retry = std::chrono::milliseconds(200);
  return o;
}

std::unique_ptr<el::Source> start(std::vector<el::ChannelConfig> channels, Recorder& rec,
                                  const el::SourceOptions& options = fast_options()) {
  std::string error;
  auto source = el::Source::create(std::move(channels), options, rec, error);
  EXPECT_NE(source, nullptr) << error;
  return source;
}

// Polls until `done` or the deadline.
bool poll_until(el::Source& source, const std::function<bool()>& done, int seconds = 30) {
  return wait_until(
      [&] {
        source.poll(std::chrono::milliseconds(20));
        return done();
      },
      seconds);
}

std::uint64_t next_calls() {
  using Stats = void (*)(std::uint64_t*, std::uint64_t*, std::uint64_t*);
  const auto stats = reinterpret_cast<Stats>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"wevtapi.dll"), "evtsim_stats")));
  if (stats == nullptr) return 0;
  std::uint64_t format = 0, opens = 0, next = 0;
  stats(&format, &opens, &next);
  return next;
}

std::uint64_t format_calls() {
  using Stats = void (*)(std::uint64_t*, std::uint64_t*, std::uint64_t*);
  const auto stats = reinterpret_cast<Stats>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"wevtapi.dll"), "evtsim_stats")));
  std::uint64_t format = 0, opens = 0, next = 0;
  stats(&format, &opens, &next);
  return format;
}

TEST(EvtsimSource, RunsOnTheSimulator) {
  ASSERT_NE(GetProcAddress(GetModuleHandleW(L"wevtapi.dll"), "evtsim_stats"), nullptr)
      << "wine loaded its own wevtapi.dll: run with WINEDLLOVERRIDES=wevtapi=n";
}

// Defect 1: EvtNext on an idle pull subscription fails with ERROR_INVALID_OPERATION; that is "no
// more items", not a broken subscription (no gap, no resubscription), and an unsignalled channel
// is not read at all.
TEST(EvtsimSource, IdleChannelIsNoGapAndIsNotPolled) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 2));
  Recorder rec;
  auto source = start({channel("Security")}, rec);
  source->poll(std::chrono::milliseconds(50));
  const std::uint64_t calls_before = next_calls();
  for (int i = 0; i < 20; ++i) source->poll(std::chrono::milliseconds(20));
  EXPECT_LE(next_calls() - calls_before, 1u) << "EvtNext only when the signal is set";
  EXPECT_TRUE(rec.gaps.empty()) << rec.gaps[0].detail;
  EXPECT_EQ(source->stats().resubscriptions, 0u);
  dir.append("Security", SimDir::events("Security", 3, 1));
  EXPECT_TRUE(poll_until(*source, [&] { return rec.ids() == range(3, 3); }));
  EXPECT_TRUE(rec.gaps.empty());
}

// Defect 4: the first subscription bookmarks the newest existing record and hands the bookmark
// on at once, so events written while the agent is down are read after a restart.
TEST(EvtsimSource, FirstStartBookmarksTheNewestRecordAtOnce) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 5));
  std::string saved;
  {
    Recorder rec;
    auto source = start({channel("Security")}, rec);
    ASSERT_TRUE(poll_until(
        *source, [&] { return !rec.batches.empty(); }, 5))
        << "no checkpoint before the first event";
    saved = rec.batches.back().second;
    EXPECT_EQ(el::bookmark_record_id(saved, "Security"), 5u) << saved;
    EXPECT_TRUE(rec.events.empty()) << "history is not replayed";
  }
  dir.append("Security", SimDir::events("Security", 6, 2));  // while the agent is down
  Recorder rec;
  auto source = start({channel("Security", saved)}, rec);
  EXPECT_TRUE(poll_until(*source, [&] { return rec.ids().size() >= 2; }));
  EXPECT_EQ(rec.ids(), range(6, 7));
  EXPECT_TRUE(rec.gaps.empty());
}

TEST(EvtsimSource, EmptyChannelOnFirstStartLosesNothingAfterARestart) {
  SimDir dir;
  dir.write("Security", {});
  std::string saved;
  {
    Recorder rec;
    auto source = start({channel("Security")}, rec);
    ASSERT_TRUE(poll_until(
        *source, [&] { return !rec.batches.empty(); }, 5));
    saved = rec.batches.back().second;
  }
  dir.append("Security", SimDir::events("Security", 1, 2));
  Recorder rec;
  auto source = start({channel("Security", saved)}, rec);
  EXPECT_TRUE(poll_until(*source, [&] { return rec.ids().size() >= 2; }));
  EXPECT_EQ(rec.ids(), range(1, 2));
  EXPECT_TRUE(rec.gaps.empty()) << rec.gaps[0].detail;
}

// Defect 2: a reply over the RPC limit (RPC_S_INVALID_BOUND) halves the batch and resumes from
// the in-memory bookmark; the records the failed reply consumed are read again, no gap.
TEST(EvtsimSource, LargeEventsHalveTheBatchAndLoseNothing) {
  SimDir dir;
  EventSpec big;
  big.padding = std::string(1500, 'x');
  dir.write("Security", SimDir::events("Security", 1, 300, big));
  dir.behave("Security", "rpc_batch_bytes=16384");
  Recorder rec;
  auto source = start({channel("Security", {}, el::StartPosition::kOldest)}, rec);
  EXPECT_TRUE(poll_until(
      *source, [&] { return rec.ids().size() >= 300; }, 60))
      << rec.ids().size() << " events\n"
      << rec.all_errors();
  EXPECT_EQ(rec.ids(), range(1, 300));
  EXPECT_TRUE(rec.gaps.empty()) << rec.gaps[0].detail;
}

// Defect 2: ERROR_INVALID_PARAMETER on a valid handle under load is recovered the same way.
TEST(EvtsimSource, InvalidParameterUnderLoadResumesFromTheBookmark) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 300));
  dir.behave("Security", "invalid_parameter_at=150");
  Recorder rec;
  auto source = start({channel("Security", {}, el::StartPosition::kOldest)}, rec);
  EXPECT_TRUE(poll_until(*source, [&] { return rec.ids().size() >= 300; }))
      << rec.ids().size() << " events\n"
      << rec.all_errors();
  EXPECT_EQ(rec.ids(), range(1, 300));
  EXPECT_TRUE(rec.gaps.empty()) << rec.gaps[0].detail;
}

// Defect 3: forwarded events keep their source's record ids (no sequence there) and a forwarded
// log-clear is the source computer's, labelled with it.
TEST(EvtsimSource, ForwardedEventsRaiseNoFalseGapsAndRemoteClearsNameTheirComputer) {
  SimDir dir;
  EventSpec ws1, ws2, cleared;
  ws1.computer = "WS1.corp";
  ws2.computer = "WS2.corp";
  cleared.computer = "WS2.corp";
  cleared.event_id = 1102;
  cleared.provider = "Microsoft-Windows-Eventlog";
  std::vector<std::string> lines;
  for (int i = 0; i < 3; ++i) {
    ws1.record_id = 100 + i;
    ws2.record_id = 5000 + i * 7;
    lines.push_back(event_xml(ws1));
    lines.push_back(event_xml(ws2));
  }
  cleared.record_id = 1;
  lines.push_back(event_xml(cleared));
  dir.write("ForwardedEvents", lines);
  Recorder rec;
  auto source = start({channel("ForwardedEvents", {}, el::StartPosition::kOldest)}, rec);
  EXPECT_TRUE(poll_until(*source, [&] { return rec.events.size() >= 7; }));
  ASSERT_EQ(rec.gaps.size(), 1u) << rec.gaps[0].detail;
  EXPECT_EQ(rec.gaps[0].cause, el::GapCause::kLogCleared);
  EXPECT_EQ(rec.gaps[0].computer, "WS2.corp");
  EXPECT_NE(rec.gaps[0].detail.find("WS2.corp"), std::string::npos);
}

// Defect 5: a configured channel that cannot be read is reported as a gap (a health alert) and
// retried, not dropped with a log line; the others run meanwhile.
TEST(EvtsimSource, UnreadableChannelIsReportedAndRetried) {
  SimDir dir;
  const std::string lsm = "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational";
  dir.write("Security", SimDir::events("Security", 1, 2));
  dir.write(lsm, SimDir::events(lsm, 1, 1));
  dir.deny("Security");
  Recorder rec;
  auto source = start({channel("Security", {}, el::StartPosition::kOldest),
                       channel(lsm, {}, el::StartPosition::kOldest)},
                      rec);
  ASSERT_NE(source, nullptr);
  EXPECT_TRUE(poll_until(*source, [&] { return rec.ids(lsm).size() == 1; }));
  ASSERT_EQ(rec.gaps.size(), 1u);
  EXPECT_EQ(rec.gaps[0].cause, el::GapCause::kChannelUnreadable);
  EXPECT_EQ(rec.gaps[0].channel, "Security");
  EXPECT_NE(rec.gaps[0].detail.find("Event Log Readers"), std::string::npos) << rec.gaps[0].detail;
  EXPECT_EQ(source->stats().unreadable_channels, 1u);
  unix_chmod(dir.channel_path("Security"), 0644);
  EXPECT_TRUE(poll_until(*source, [&] { return rec.ids() == range(1, 2); }));
  EXPECT_EQ(source->stats().unreadable_channels, 0u);
}

TEST(EvtsimSource, MissingChannelIsReportedAndTheOthersRun) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 1));
  Recorder rec;
  auto source = start({channel("Security", {}, el::StartPosition::kOldest), channel("Nope")}, rec);
  ASSERT_NE(source, nullptr);
  EXPECT_TRUE(poll_until(*source, [&] { return rec.ids().size() == 1; }));
  ASSERT_EQ(rec.gaps.size(), 1u);
  EXPECT_EQ(rec.gaps[0].cause, el::GapCause::kChannelUnreadable);
  EXPECT_NE(rec.gaps[0].detail.find("wevtutil el"), std::string::npos);
}

// Defect 14: the stale-bookmark gap says which records were lost when the log wrapped.
TEST(EvtsimSource, StaleBookmarkAfterAWrapReportsTheLostRange) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 10));
  dir.behave("Security", "max_records=5");
  Recorder rec;
  auto source = start({channel("Security", el::make_bookmark_xml({"Security", 3}))}, rec);
  EXPECT_TRUE(poll_until(*source, [&] { return rec.ids().size() >= 5; }));
  EXPECT_EQ(rec.ids(), range(6, 10));
  ASSERT_EQ(rec.gaps.size(), 1u);
  EXPECT_EQ(rec.gaps[0].cause, el::GapCause::kStaleBookmark);
  EXPECT_EQ(rec.gaps[0].first_missing, 4u);
  EXPECT_EQ(rec.gaps[0].last_missing, 5u);
  EXPECT_EQ(source->stats().stale_bookmarks, 1u);
}

// Defect 14: with "archive the log when full" the overwritten records are in Archive-*.evtx:
// said so, with its own cause, not reported as lost.
TEST(EvtsimSource, StaleBookmarkOfAnArchivedLogSaysWhereTheRecordsAre) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 10));
  dir.behave("Security", "max_records=5\nauto_backup=1");
  Recorder rec;
  auto source = start({channel("Security", el::make_bookmark_xml({"Security", 3}))}, rec);
  EXPECT_TRUE(poll_until(*source, [&] { return rec.ids().size() >= 5; }));
  ASSERT_EQ(rec.gaps.size(), 1u);
  EXPECT_EQ(rec.gaps[0].cause, el::GapCause::kStaleBookmarkArchived);
  EXPECT_NE(rec.gaps[0].detail.find("Archive-"), std::string::npos) << rec.gaps[0].detail;
  EXPECT_NE(rec.gaps[0].detail.find("Security.evtx"), std::string::npos) << rec.gaps[0].detail;
}

// A log cleared under a running subscription: EvtNext fails stale, the agent reports it once and
// reads the new log from its oldest record.
TEST(EvtsimSource, LogClearedWhileReadingIsOneStaleGap) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 3));
  Recorder rec;
  auto source = start({channel("Security", {}, el::StartPosition::kOldest)}, rec);
  ASSERT_TRUE(poll_until(*source, [&] { return rec.ids().size() == 3; }));
  dir.write("Security", SimDir::events("Security", 1, 2));
  EXPECT_TRUE(poll_until(*source, [&] { return rec.ids().size() == 5; }));
  EXPECT_EQ(rec.ids(), (std::vector<std::uint64_t>{1, 2, 3, 1, 2}));
  ASSERT_EQ(rec.gaps.size(), 1u);
  EXPECT_EQ(rec.gaps[0].cause, el::GapCause::kStaleBookmark);
}

// Defect 14: channels take turns; a flood on Security does not hold back the session channels.
TEST(EvtsimSource, AFloodOnOneChannelDoesNotDelayTheOthers) {
  SimDir dir;
  const std::string lsm = "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational";
  dir.write("Security", SimDir::events("Security", 1, 5000));
  dir.write(lsm, SimDir::events(lsm, 1, 1));
  Recorder rec;
  auto source = start({channel("Security", {}, el::StartPosition::kOldest),
                       channel(lsm, {}, el::StartPosition::kOldest)},
                      rec);
  EXPECT_TRUE(poll_until(
      *source, [&] { return rec.events.size() >= 5001; }, 60));
  const auto at = std::find_if(rec.events.begin(), rec.events.end(),
                               [&](const Delivered& d) { return d.channel == lsm; });
  ASSERT_NE(at, rec.events.end());
  EXPECT_LT(at - rec.events.begin(), 1000) << "the session channel waited for the flood";
}

// Defect 13: messages are formatted only for events the detector reads, in the configured
// language (en-US by default), falling back to the server's when the publisher lacks it.
TEST(EvtsimSource, MessagesOnlyForKeptEventsInTheConfiguredLanguage) {
  SimDir dir;
  std::vector<std::string> lines;
  for (int i = 0; i < 50; ++i) {
    EventSpec e;
    e.event_id = i % 10 == 0 ? 4625 : 5156;
    e.data = {{"TargetUserName", "alice"}};
    lines.push_back(event_xml(e));
  }
  dir.write("Security", lines);
  dir.file(L"Microsoft-Windows-Security-Auditing.messages",
           "0x407 4625 Anmeldung fehlgeschlagen: %1\n0x409 4625 An account failed to log on: %1\n"
           "0x409 5156 Connection permitted");
  el::SourceOptions options = fast_options();
  options.wants_message = [](std::string_view, std::uint32_t id) { return id == 4625; };
  Recorder rec;
  const std::uint64_t before = format_calls();
  auto source = start({channel("Security", {}, el::StartPosition::kOldest)}, rec, options);
  ASSERT_TRUE(poll_until(*source, [&] { return rec.events.size() >= 50; }));
  EXPECT_EQ(format_calls() - before, 5u) << "EvtFormatMessage for the 5 kept events only";
  EXPECT_EQ(rec.events[0].message, "An account failed to log on: alice");
  EXPECT_EQ(rec.events[1].message, "");
}

TEST(EvtsimSource, MessagesFallBackToTheServersLanguage) {
  SimDir dir;
  EventSpec e;
  e.event_id = 4625;
  e.data = {{"TargetUserName", "bob"}};
  dir.write("Security", {event_xml(e)});
  dir.file(L"Microsoft-Windows-Security-Auditing.messages",
           "0x407 4625 Anmeldung fehlgeschlagen: %1");
  Recorder rec;
  auto source = start({channel("Security", {}, el::StartPosition::kOldest)}, rec);
  ASSERT_TRUE(poll_until(*source, [&] { return rec.events.size() >= 1; }));
  EXPECT_EQ(rec.events[0].message, "Anmeldung fehlgeschlagen: bob");
}

double process_cpu_seconds() {
  FILETIME created, exited, kernel, user;
  GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user);
  auto seconds = [](const FILETIME& t) {
    return static_cast<double>((static_cast<std::uint64_t>(t.dwHighDateTime) << 32) |
                               t.dwLowDateTime) /
           1e7;
  };
  return seconds(kernel) + seconds(user);
}

// Not a test: the source's CPU per event (render, decode, the simulator itself) with every event
// and with a filtered query (what `event_ids: auto` sends). Run with
// --gtest_also_run_disabled_tests --gtest_filter=*Throughput; EVTSIM_BENCH_EVENTS sets the count.
TEST(EvtsimSource, DISABLED_Throughput) {
  SimDir dir;
  const char* env = std::getenv("EVTSIM_BENCH_EVENTS");
  const std::size_t count = env != nullptr ? std::strtoul(env, nullptr, 10) : 100'000;
  std::vector<std::string> lines;
  const std::uint32_t mix[] = {5156, 5156, 5156, 5156, 5156, 5156, 4688, 4688, 4624, 4634};
  for (std::size_t i = 0; i < count; ++i) {
    EventSpec e;
    e.event_id = mix[i % 10];
    e.record_id = i + 1;
    for (int k = 0; k < 18; ++k) {
      e.data.emplace_back("Field" + std::to_string(k), "value-" + std::to_string(i) + "-" +
                                                           std::to_string(k) + "-padding-padding");
    }
    lines.push_back(event_xml(e));
  }
  dir.write("Security", lines);
  for (const bool filtered : {false, true}) {
    el::ChannelConfig c = channel("Security", {}, el::StartPosition::kOldest);
    if (filtered) c.event_ids = {1102, 4624, 4634, 4688};
    Recorder rec;
    const double before = process_cpu_seconds();
    auto source = start({c}, rec);
    const std::size_t expected = filtered ? count * 4 / 10 : count;
    ASSERT_TRUE(poll_until(
        *source, [&] { return rec.events.size() >= expected; }, 3600));
    const double cpu = process_cpu_seconds() - before;
    std::printf("%s: %zu events read, %zu delivered: %.2f s CPU, %.1f s per 1M records\n",
                filtered ? "filtered (auto)" : "every event (all)", count, rec.events.size(), cpu,
                cpu * 1e6 / static_cast<double>(count));
  }
}

}  // namespace
}  // namespace evtsim
