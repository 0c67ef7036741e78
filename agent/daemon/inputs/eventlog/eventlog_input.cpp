#include "daemon/inputs/eventlog/eventlog_input.hpp"

#include <spdlog/spdlog.h>

#include "platform/fsync.hpp"
#include "sessionwatch/decode.hpp"

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace sw::daemon {

namespace {

constexpr auto kPollWait = std::chrono::milliseconds(500);

class EventlogInput final : public Input, private eventlog::Handler {
 public:
  EventlogInput(const InputConfig& config, const EventlogInputOptions& options, std::size_t index,
                const EventInterest& needed, EventlogSourceFactory factory)
      : config_(config),
        options_(options),
        index_(index),
        needed_(needed),
        factory_(std::move(factory)) {
    if (!factory_) factory_ = &eventlog::Source::create;
  }
  ~EventlogInput() override { exit(); }

  bool init(const AgentState& state, std::vector<WorkItem>&, std::string& error) override {
    std::vector<eventlog::ChannelConfig> channels;
    const auto saved = state.streams.find(config_.name);
    for (const std::string& name : options_.channels) {
      eventlog::ChannelConfig channel;
      channel.channel = name;
      channel.query = options_.query;
      std::string note;
      channel.event_ids = channel_event_ids(options_, name, needed_, note);
      if (!note.empty()) spdlog::info("input {}: {}", config_.name, note);
      if (saved != state.streams.end()) {
        if (auto it = saved->second.find(name); it != saved->second.end()) {
          channel.bookmark_xml = it->second;
          bookmarks_[name] = it->second;
        }
      }
      // A new channel starts at its newest record, as a freshly installed agent should: the
      // history was not watched before and raising its alerts now would be noise.
      channel.start = eventlog::StartPosition::kNewest;
      channels.push_back(std::move(channel));
    }
    source_ = factory_(std::move(channels), source_options(), *this, error);
    if (!source_) {
      error = "input " + config_.name + ": " + error;
      return false;
    }
    {
      std::lock_guard lock(mutex_);
      refresh_stats();  // what create() met (an unreadable channel) before source_ was set
    }
    thread_ = std::thread([this] {
      platform::name_this_thread("in:" + config_.name);
      while (source_->poll(kPollWait)) {
      }
    });
    return true;
  }

  bool collect(bool, std::vector<WorkItem>& out) override {
    std::lock_guard lock(mutex_);
    if (!pending_gaps_.empty()) {
      WorkItem item;
      item.gaps = std::move(pending_gaps_);
      pending_gaps_.clear();
      out.push_back(std::move(item));
    }
    for (EventBatch& batch : pending_) {
      WorkItem item;
      item.events = std::move(batch);
      out.push_back(std::move(item));
    }
    pending_.clear();
    pending_events_ = 0;
    room_.notify_all();
    return false;
  }

  void exit() override {
    if (source_) source_->stop();
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    room_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  std::vector<std::string> directories() const override { return {}; }

  bool follows_interest() const override {
    return options_.event_id_filter == EventlogInputOptions::EventIds::kAuto;
  }

  eventlog::SourceOptions source_options() const {
    eventlog::SourceOptions options;
    options.decode = [decoder = std::make_shared<XmlEventDecoder>()](
                         std::string_view xml, Event& out, std::string& error) {
      return decoder->decode(xml, out, error);
    };
    options.locale = options_.language;
    // Messages only for the events the detector reads: EvtFormatMessage is the costliest call.
    options.wants_message = [needed = needed_](std::string_view channel, std::uint32_t id) {
      return needed.accepts(channel, id);
    };
    return options;
  }

  void positions(AgentState& state) const override {
    std::lock_guard lock(mutex_);
    for (const auto& [channel, xml] : bookmarks_) state.streams[config_.name][channel] = xml;
  }

  void set_wakeup(std::function<void()> wakeup) override { wakeup_ = std::move(wakeup); }

  void write_metrics(Exposition& out) const override {
    eventlog::SourceStats stats;
    {
      std::lock_guard lock(mutex_);
      stats = stats_;
    }
    using T = Exposition::Type;
    const Exposition::Labels labels{{"input", config_.name}};
    out.add("sessionwatch_eventlog_unreadable_channels", T::kGauge,
            "Configured channels the Event Log refuses now (access denied, no such channel).",
            labels, double(stats.unreadable_channels));
    out.add("sessionwatch_eventlog_stale_bookmarks_total", T::kCounter,
            "Saved bookmarks the log no longer holds (cleared or wrapped): read from the oldest.",
            labels, double(stats.stale_bookmarks));
    out.add("sessionwatch_eventlog_resubscriptions_total", T::kCounter,
            "Subscriptions opened again after an error.", labels, double(stats.resubscriptions));
    out.add("sessionwatch_eventlog_messages_unrendered_total", T::kCounter,
            "Events delivered without a formatted message.", labels,
            double(stats.messages_unrendered));
    out.add("sessionwatch_eventlog_events_filtered_total", T::kCounter,
            "Events read but not wanted (filtered in the agent).", labels, double(stats.filtered));
  }

 private:
  // ---- eventlog::Handler, on the source thread ----
  void on_event(Event& event) override {
    event.set_origin(config_.name + ":" + std::string(event.channel()));
    batch_.push_back(event);
  }

  void on_batch(std::string_view channel, std::string_view bookmark_xml) override {
    {
      std::unique_lock lock(mutex_);
      refresh_stats();
      room_.wait(lock, [this] {
        return stopping_ || pending_events_ + batch_.size() <= kEventlogMaxPendingEvents ||
               pending_.empty();
      });
      if (stopping_) return;  // not handed on: the checkpoint stays before these events
      EventBatch batch;
      batch.input_index = index_;
      batch.stream = std::string(channel);
      batch.checkpoint = std::string(bookmark_xml);
      batch.records_read = batch_.size();
      pending_events_ += batch_.size();
      batch.events = std::move(batch_);
      batch_.clear();
      pending_.push_back(std::move(batch));
    }
    if (wakeup_) wakeup_();
  }

  void on_gap(const eventlog::CollectionGap& gap) override {
    CollectionGap out;
    out.input = config_.name;
    // A log cleared on another computer (read from ForwardedEvents) is labelled with it.
    out.path = gap.computer.empty() ? gap.channel : gap.channel + " on " + gap.computer;
    out.cause = std::string(eventlog::to_string(gap.cause));
    out.unit = "records";
    out.from = gap.first_missing;
    out.to = gap.last_missing;
    if (gap.first_missing != 0 && gap.last_missing >= gap.first_missing) {
      out.count = gap.last_missing - gap.first_missing + 1;
    }
    spdlog::warn("input {}: {}", config_.name, gap.detail);
    {
      std::lock_guard lock(mutex_);
      refresh_stats();
      pending_gaps_.push_back(std::move(out));
    }
    if (wakeup_) wakeup_();
  }

  void on_error(std::string_view channel, std::string_view message) override {
    spdlog::warn("input {} ({}): {}", config_.name, channel, message);
    std::lock_guard lock(mutex_);
    refresh_stats();
  }

  // With mutex_ held, on the source thread (or before it starts).
  void refresh_stats() {
    if (source_) stats_ = source_->stats();
  }

  InputConfig config_;
  EventlogInputOptions options_;
  std::size_t index_;
  EventInterest needed_;
  EventlogSourceFactory factory_;
  std::unique_ptr<eventlog::Source> source_;
  std::thread thread_;
  std::function<void()> wakeup_;
  std::vector<Event> batch_;  // source thread only

  mutable std::mutex mutex_;
  std::condition_variable room_;
  std::deque<EventBatch> pending_;
  std::size_t pending_events_ = 0;
  std::vector<CollectionGap> pending_gaps_;
  // The source's counters as of its last callback: stats() belongs to the source thread.
  eventlog::SourceStats stats_;
  // channel -> bookmark saved by the last run (the engine keeps the ones after it)
  std::map<std::string, std::string> bookmarks_;
  bool stopping_ = false;
};

std::string id_list(const std::vector<std::uint32_t>& ids) {
  std::string out;
  for (const eventlog::EventIdRange& r : eventlog::merge_event_ids(ids)) {
    if (!out.empty()) out += ' ';
    out += std::to_string(r.first);
    if (r.last != r.first) out += "-" + std::to_string(r.last);
  }
  return out;
}

}  // namespace

std::vector<std::uint32_t> channel_event_ids(const EventlogInputOptions& options,
                                             std::string_view channel, const EventInterest& needed,
                                             std::string& note) {
  note.clear();
  switch (options.event_id_filter) {
    case EventlogInputOptions::EventIds::kAll:
      return {};
    case EventlogInputOptions::EventIds::kList:
      note = std::string(channel) + ": event ids " + id_list(options.event_ids);
      return options.event_ids;
    case EventlogInputOptions::EventIds::kAuto:
      break;
  }
  std::optional<std::vector<std::uint32_t>> ids = needed.event_ids(channel);
  if (!ids) {
    note = std::string(channel) +
           ": every event (errors can be reported by any of its events, or a rule reads it "
           "whole; `sessionwatch rules xpath` says which)";
    return {};
  }
  if (ids->empty()) {
    note = std::string(channel) +
           ": no rule and no session event reads it; every event is read anyway (remove it from "
           "channels to save the work)";
    return {};
  }
  note = std::string(channel) + ": the " + std::to_string(ids->size()) +
         " event ids the rules and the session tracker read: " + id_list(*ids);
  return *ids;
}

std::unique_ptr<Input> make_eventlog_input(const InputConfig& config, std::size_t index,
                                           const EventInterest& needed,
                                           EventlogSourceFactory factory, std::string& error) {
  const auto* options = options_of<EventlogInputOptions>(config, error);
  if (!options) return nullptr;
  return std::make_unique<EventlogInput>(config, *options, index, needed, std::move(factory));
}

std::unique_ptr<Input> make_eventlog_input(const InputConfig& config, std::size_t index,
                                           const EventInterest& needed, std::string& error) {
  // EvtSubscribe with bookmarks (agent/platform/windows); off Windows the source refuses to
  // start with a message, and the config check refuses the input before that.
  return make_eventlog_input(config, index, needed, {}, error);
}

}  // namespace sw::daemon
