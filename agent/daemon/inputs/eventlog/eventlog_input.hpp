// The live Windows Event Log input (`type: eventlog`): a thread per input polls an
// eventlog::Source (EvtSubscribe in pull mode, agent/platform/windows) and hands the detection
// thread one batch per EvtNext call, with the bookmark that becomes the channel's checkpoint once
// the batch's alerts are spooled. Gaps the source reports (record ids skipped, stale bookmark,
// log cleared, Event Log service restart) become collection_gap alerts.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/input.hpp"
#include "daemon/input_plugin.hpp"
#include "sessionwatch/eventlog.hpp"

namespace sw::daemon {

// How the input gets its source: eventlog::Source::create, or a stand-in in tests (the Windows API
// is not available off Windows, and wine only stubs it).
using EventlogSourceFactory = std::function<std::unique_ptr<eventlog::Source>(
    std::vector<eventlog::ChannelConfig> channels, const eventlog::SourceOptions& options,
    eventlog::Handler& handler, std::string& error)>;

// At most this many events wait between the source thread and the detection thread; beyond it the
// source thread waits, so a slow output slows the subscription instead of growing memory.
inline constexpr std::size_t kEventlogMaxPendingEvents = 20'000;

struct EventlogInputOptions final : InputOptions {
  std::vector<std::string> channels;
  // An XPath filter Windows applies to every channel (e.g. "*[System[Level<=3]]"); empty: every
  // event.
  std::string query;
  // Which event ids Windows delivers. kAll reads every record (and so notices record-id gaps);
  // kAuto asks for what the detector reads (the tracker's session events, the channels errors
  // are reported on, the rules' events); kList for `event_ids` below.
  enum class EventIds { kAll, kAuto, kList };
  EventIds event_id_filter = EventIds::kAll;
  std::vector<std::uint32_t> event_ids;  // kList: sorted, unique
  // The language of event messages, a Windows LCID (`language: 0x409`, en-US, the default: the
  // 7063 text recognizer reads English); 0 (`server`) for the server's language.
  std::uint32_t language = 0x409;
  std::vector<std::string> details() const override;
};

// Its keys: eventlog_config.cpp.
extern const InputPlugin kEventlogInput;

// `needed` is what `event_ids: auto` subscribes to.
std::unique_ptr<Input> make_eventlog_input(const InputConfig& config, std::size_t index,
                                           const EventInterest& needed, std::string& error);
// The same over another source than the Event Log's.
std::unique_ptr<Input> make_eventlog_input(const InputConfig& config, std::size_t index,
                                           const EventInterest& needed,
                                           EventlogSourceFactory factory, std::string& error);

// The event ids to ask Windows for on one channel of an input (empty: every event), and a line
// for the log saying what was chosen.
std::vector<std::uint32_t> channel_event_ids(const EventlogInputOptions& options,
                                             std::string_view channel, const EventInterest& needed,
                                             std::string& note);

}  // namespace sw::daemon
