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

// `needed` is what `event_ids: auto` subscribes to.
std::unique_ptr<Input> make_eventlog_input(const InputConfig& config, std::size_t index,
                                           const EventInterest& needed,
                                           EventlogSourceFactory factory = {});

// The event ids to ask Windows for on one channel of an input (empty: every event), and a line
// for the log saying what was chosen.
std::vector<std::uint32_t> channel_event_ids(const InputConfig& config, std::string_view channel,
                                             const EventInterest& needed, std::string& note);

}  // namespace sw::daemon
