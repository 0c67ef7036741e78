// The eventlog input over a scripted stand-in for the Windows source: what reaches the detection
// thread (events that outlive the source's reused Event, the bookmark of each batch, gaps as
// collection_gap material), which saved bookmarks the subscription resumes from, and how a
// source that cannot start is reported. The EvtSubscribe layer itself only compiles here (wine
// stubs the API); this is the part of the shim that runs everywhere.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "daemon/inputs/eventlog/eventlog_input.hpp"
#include "daemon/state.hpp"

namespace sw::daemon {
namespace {

using namespace std::chrono_literals;

// Plays a script on the input's poll thread, one step per poll, reusing one Event as the real
// source does.
class ScriptedSource : public eventlog::Source {
 public:
  using Step = std::function<void(eventlog::Handler&, Event&)>;
  ScriptedSource(eventlog::Handler& handler, std::vector<Step> script,
                 const eventlog::SourceStats& stats)
      : handler_(handler), script_(std::move(script)), stats_(stats) {}
  bool poll(std::chrono::milliseconds wait) override {
    if (stopped_) return false;
    if (next_ < script_.size()) {
      event_.clear();
      script_[next_++](handler_, event_);
    } else {
      std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(5)));
    }
    return !stopped_;
  }
  void stop() override { stopped_ = true; }
  eventlog::SourceStats stats() const override { return stats_; }

 private:
  eventlog::Handler& handler_;
  std::vector<Step> script_;
  const eventlog::SourceStats& stats_;  // the steps change it, on the poll thread
  std::size_t next_ = 0;
  Event event_;
  std::atomic<bool> stopped_{false};
};

class EventlogInputTest : public ::testing::Test {
 protected:
  InputConfig config() const {
    InputConfig c;
    c.type = "eventlog";
    c.name = "win";
    auto& options = edit_options<EventlogInputOptions>(c);
    options.channels = {"Security", "System"};
    options.query = "*[System[Level<=3]]";
    return c;
  }

  std::unique_ptr<Input> make(std::vector<ScriptedSource::Step> script) {
    return make(config(), EventInterest::everything(), std::move(script));
  }
  std::unique_ptr<Input> make(const InputConfig& input_config, const EventInterest& needed,
                              std::vector<ScriptedSource::Step> script) {
    std::string error;
    auto input = make_eventlog_input(
        input_config, 3, needed,
        [this, script](std::vector<eventlog::ChannelConfig> channels,
                       const eventlog::SourceOptions&, eventlog::Handler& handler,
                       std::string&) -> std::unique_ptr<eventlog::Source> {
          subscribed_ = std::move(channels);
          return std::make_unique<ScriptedSource>(handler, script, source_stats_);
        },
        error);
    EXPECT_TRUE(input) << error;
    input->set_wakeup([this] {
      std::lock_guard lock(mutex_);
      ++wakeups_;
      woke_.notify_all();
    });
    return input;
  }

  // init() with the given checkpoints, as the engine calls it.
  static ::testing::AssertionResult started(Input& input, const AgentState& state = {}) {
    std::vector<WorkItem> initial;
    std::string error;
    if (input.init(state, initial, error)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << error;
  }

  // Collects until `want` work items arrived (or two seconds passed).
  std::vector<WorkItem> collect(Input& input, std::size_t want) {
    std::vector<WorkItem> out;
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
      {
        std::unique_lock lock(mutex_);
        woke_.wait_for(lock, 20ms, [this] { return wakeups_ > 0; });
        wakeups_ = 0;
      }
      input.collect(false, out);
    }
    return out;
  }

  static ScriptedSource::Step event(std::string channel, std::uint32_t id, std::uint64_t record,
                                    std::string user) {
    return [=](eventlog::Handler& h, Event& e) {
      e.event_id = id;
      e.record_id = record;
      e.set_channel(channel);
      e.set_computer("WS01");
      e.add_field("TargetUserName", user);
      h.on_event(e);
    };
  }
  static ScriptedSource::Step batch_end(std::string channel, std::uint64_t record) {
    return [=](eventlog::Handler& h, Event&) {
      h.on_batch(channel, eventlog::make_bookmark_xml({channel, record}));
    };
  }

  std::vector<eventlog::ChannelConfig> subscribed_;
  eventlog::SourceStats source_stats_;  // what the stand-in source counts
  std::mutex mutex_;
  std::condition_variable woke_;
  int wakeups_ = 0;
};

TEST_F(EventlogInputTest, HandsOnEachBatchWithItsBookmark) {
  auto input =
      make({event("Security", 4624, 10, "alice"), event("Security", 4800, 11, "alice"),
            batch_end("Security", 11), event("System", 7001, 5, "bob"), batch_end("System", 5)});
  ASSERT_TRUE(started(*input));
  const std::vector<WorkItem> items = collect(*input, 2);
  input->exit();
  ASSERT_EQ(items.size(), 2u);
  ASSERT_TRUE(items[0].events);
  const EventBatch& first = *items[0].events;
  EXPECT_EQ(first.input_index, 3u);
  EXPECT_EQ(first.stream, "Security");
  ASSERT_EQ(first.events.size(), 2u);
  // Copies: the source reused its Event for the next one.
  EXPECT_EQ(first.events[0].event_id, 4624u);
  EXPECT_EQ(first.events[0].payload("TargetUserName").value_or(""), "alice");
  EXPECT_EQ(first.events[1].record_id, 11u);
  EXPECT_EQ(first.events[1].origin(), "win:Security");
  EXPECT_EQ(eventlog::bookmark_record_id(first.checkpoint, "Security"), 11u);
  ASSERT_TRUE(items[1].events);
  EXPECT_EQ(items[1].events->stream, "System");
  ASSERT_EQ(items[1].events->events.size(), 1u);
  EXPECT_EQ(items[1].events->events[0].payload("TargetUserName").value_or(""), "bob");
}

TEST_F(EventlogInputTest, ResumesEachChannelFromItsSavedBookmark) {
  auto input = make({});
  AgentState state;
  state.streams["win"]["Security"] = eventlog::make_bookmark_xml({"Security", 4711});
  state.streams["other-input"]["System"] = eventlog::make_bookmark_xml({"System", 99});
  ASSERT_TRUE(started(*input, state));
  input->exit();
  ASSERT_EQ(subscribed_.size(), 2u);
  EXPECT_EQ(subscribed_[0].channel, "Security");
  EXPECT_EQ(eventlog::bookmark_record_id(subscribed_[0].bookmark_xml, "Security"), 4711u);
  EXPECT_EQ(subscribed_[1].channel, "System");
  EXPECT_TRUE(subscribed_[1].bookmark_xml.empty());  // another input's bookmark is not ours
  EXPECT_EQ(subscribed_[1].start, eventlog::StartPosition::kNewest);
  // The user's filter goes to every channel's subscription.
  EXPECT_EQ(subscribed_[0].query, "*[System[Level<=3]]");
  EXPECT_EQ(subscribed_[1].query, "*[System[Level<=3]]");
  // The first checkpoint keeps what was saved; nothing read since is in it.
  AgentState now;
  input->positions(now);
  EXPECT_EQ(now.streams["win"]["Security"], state.streams["win"]["Security"]);
  EXPECT_EQ(now.streams["win"].count("System"), 0u);
}

TEST_F(EventlogInputTest, GapsBecomeCollectionGapsOfTheInput) {
  auto input = make({[](eventlog::Handler& h, Event&) {
    eventlog::CollectionGap gap;
    gap.channel = "Security";
    gap.cause = eventlog::GapCause::kRecordIdGap;
    gap.first_missing = 12;
    gap.last_missing = 20;
    gap.detail = "record ids 12-20 never arrived";
    h.on_gap(gap);
  }});
  ASSERT_TRUE(started(*input));
  const std::vector<WorkItem> items = collect(*input, 1);
  input->exit();
  ASSERT_EQ(items.size(), 1u);
  ASSERT_EQ(items[0].gaps.size(), 1u);
  const CollectionGap& gap = items[0].gaps[0];
  EXPECT_EQ(gap.input, "win");
  EXPECT_EQ(gap.path, "Security");
  EXPECT_EQ(gap.cause, eventlog::to_string(eventlog::GapCause::kRecordIdGap));
  EXPECT_EQ(gap.unit, "records");
  EXPECT_EQ(gap.from, 12u);
  EXPECT_EQ(gap.to, 20u);
  EXPECT_EQ(gap.count, 9u);
}

// A channel the service account may not read, and a bookmark the log no longer holds, are health
// problems an operator must see on the metrics page, not only in one log line.
TEST_F(EventlogInputTest, UnreadableChannelsAndStaleBookmarksAreExported) {
  auto input = make({[this](eventlog::Handler& h, Event&) {
    source_stats_.unreadable_channels = 1;
    source_stats_.stale_bookmarks = 2;
    eventlog::CollectionGap gap;
    gap.channel = "Security";
    gap.cause = eventlog::GapCause::kChannelUnreadable;
    gap.detail = "Security: access denied";
    h.on_gap(gap);
  }});
  ASSERT_TRUE(started(*input));
  ASSERT_EQ(collect(*input, 1).size(), 1u);
  Exposition exposition;
  input->write_metrics(exposition);
  input->exit();
  const std::string text = exposition.text();
  EXPECT_NE(text.find("sessionwatch_eventlog_unreadable_channels{input=\"win\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sessionwatch_eventlog_stale_bookmarks_total{input=\"win\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE sessionwatch_eventlog_unreadable_channels gauge\n"),
            std::string::npos);
}

TEST_F(EventlogInputTest, ALogClearedOnAnotherComputerIsLabelledWithIt) {
  auto input = make({[](eventlog::Handler& h, Event&) {
    eventlog::CollectionGap gap;
    gap.channel = "Security";
    gap.computer = "WS7.corp";
    gap.cause = eventlog::GapCause::kLogCleared;
    h.on_gap(gap);
  }});
  ASSERT_TRUE(started(*input));
  const std::vector<WorkItem> items = collect(*input, 1);
  input->exit();
  ASSERT_EQ(items.size(), 1u);
  ASSERT_EQ(items[0].gaps.size(), 1u);
  EXPECT_EQ(items[0].gaps[0].path, "Security on WS7.corp");
}

// Messages in the configured language, and only for the events the detector reads.
TEST_F(EventlogInputTest, TheSourceFormatsMessagesForWhatTheDetectorReads) {
  InputConfig input_config = config();
  edit_options<EventlogInputOptions>(input_config).language = 0x407;
  EventInterest needed;
  needed.add("Security", 4625);
  eventlog::SourceOptions options;
  std::string error;
  auto input = make_eventlog_input(
      input_config, 0, needed,
      [&](std::vector<eventlog::ChannelConfig>, const eventlog::SourceOptions& given,
          eventlog::Handler& handler, std::string&) -> std::unique_ptr<eventlog::Source> {
        options = given;
        return std::make_unique<ScriptedSource>(handler, std::vector<ScriptedSource::Step>{},
                                                source_stats_);
      },
      error);
  ASSERT_TRUE(started(*input));
  input->exit();
  EXPECT_EQ(options.locale, 0x407u);
  ASSERT_TRUE(options.wants_message);
  EXPECT_TRUE(options.wants_message("Security", 4625));
  EXPECT_FALSE(options.wants_message("Security", 5156));
}

TEST_F(EventlogInputTest, ASourceThatCannotStartNamesTheInput) {
  std::string error;
  auto input = make_eventlog_input(
      config(), 0, EventInterest::everything(),
      [](std::vector<eventlog::ChannelConfig>, const eventlog::SourceOptions&, eventlog::Handler&,
         std::string& error) -> std::unique_ptr<eventlog::Source> {
        error = "Security: access denied";
        return nullptr;
      },
      error);
  AgentState state;
  std::vector<WorkItem> initial;
  EXPECT_FALSE(input->init(state, initial, error));
  EXPECT_EQ(error, "input win: Security: access denied");
}

// What each channel's subscription asks Windows for, per `event_ids`.
TEST_F(EventlogInputTest, EventIdsChooseWhatEachChannelIsAskedFor) {
  EventInterest needed = EventInterest::everything();
  needed.narrow("Security", {4624, 4625, 4634});
  struct Case {
    EventlogInputOptions::EventIds filter;
    std::vector<std::uint32_t> list;
    std::vector<std::uint32_t> security;
    std::vector<std::uint32_t> system;
  };
  using EventIds = EventlogInputOptions::EventIds;
  for (const Case& c :
       {Case{EventIds::kAll, {}, {}, {}}, Case{EventIds::kAuto, {}, {4624, 4625, 4634}, {}},
        Case{EventIds::kList, {21, 4624}, {21, 4624}, {21, 4624}}}) {
    InputConfig input_config = config();
    auto& options = edit_options<EventlogInputOptions>(input_config);
    options.event_id_filter = c.filter;
    options.event_ids = c.list;
    subscribed_.clear();
    auto input = make(input_config, needed, {});
    ASSERT_TRUE(started(*input));
    input->exit();
    ASSERT_EQ(subscribed_.size(), 2u);
    EXPECT_EQ(subscribed_[0].channel, "Security");
    EXPECT_EQ(subscribed_[0].event_ids, c.security);
    EXPECT_EQ(subscribed_[1].event_ids, c.system);
    // The user's XPath goes along either way (the ids are then filtered in the agent).
    EXPECT_EQ(subscribed_[0].query, "*[System[Level<=3]]");
  }
}

TEST(EventlogChannelIds, TheLogSaysWhatWasChosenAndWhy) {
  EventlogInputOptions config;
  config.event_id_filter = EventlogInputOptions::EventIds::kAuto;
  EventInterest needed = EventInterest::everything();
  needed.narrow("Security", {4624, 4625, 4634, 4778, 4779});
  needed.narrow("Setup", {});
  std::string note;
  EXPECT_EQ(channel_event_ids(config, "Security", needed, note),
            (std::vector<std::uint32_t>{4624, 4625, 4634, 4778, 4779}));
  EXPECT_EQ(note,
            "Security: the 5 event ids the rules and the session tracker read: 4624-4625 4634 "
            "4778-4779");
  EXPECT_TRUE(channel_event_ids(config, "System", needed, note).empty());
  EXPECT_NE(note.find("System: every event"), std::string::npos) << note;
  // A channel nothing reads is still read whole: filtering it to nothing would look like a
  // broken subscription.
  EXPECT_TRUE(channel_event_ids(config, "Setup", needed, note).empty());
  EXPECT_NE(note.find("remove it from channels"), std::string::npos) << note;
  config.event_id_filter = EventlogInputOptions::EventIds::kAll;
  EXPECT_TRUE(channel_event_ids(config, "Security", needed, note).empty());
  EXPECT_TRUE(note.empty());
}

TEST(EventlogState, BookmarksSurviveTheStateFile) {
  AgentState state;
  state.streams["win"]["Security"] = eventlog::make_bookmark_xml({"Security", 4711});
  state.streams["win"]["Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"] =
      eventlog::make_bookmark_xml(
          {"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", 7});
  AgentState back;
  std::string error;
  ASSERT_TRUE(parse_state(serialize_state(state), back, error)) << error;
  EXPECT_EQ(back.streams, state.streams);
}

TEST(EventlogState, StateWithoutBookmarksStillLoads) {
  AgentState back;
  std::string error;
  ASSERT_TRUE(parse_state(R"({"version":1,"files":{},"evtx":{},"detector":""})", back, error))
      << error;
  EXPECT_TRUE(back.streams.empty());
}

}  // namespace
}  // namespace sw::daemon
