// The live Windows Event Log source (`type: eventlog`): EvtSubscribe in pull mode per channel,
// bookmarks as checkpoints, record-id gap detection, message rendering with a fallback.
//
// The Windows API calls live in agent/platform/windows/eventlog_win32.cpp, a thin layer; every
// decision it takes (which query, what a failure means, whether records were lost) is made by the
// portable functions below, which are unit-tested on Linux and under wine.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "sessionwatch/event.hpp"

namespace sw::eventlog {

// Win32 error codes the Event Log API reports (the values of winerror.h; the Windows build
// static_asserts that they match).
namespace win32 {
inline constexpr std::uint32_t kAccessDenied = 5;
inline constexpr std::uint32_t kInvalidHandle = 6;
inline constexpr std::uint32_t kInvalidParameter = 87;
inline constexpr std::uint32_t kInsufficientBuffer = 122;
inline constexpr std::uint32_t kNoMoreItems = 259;
inline constexpr std::uint32_t kNotFound = 1168;
inline constexpr std::uint32_t kTimeout = 1460;
inline constexpr std::uint32_t kRpcServerUnavailable = 1722;
inline constexpr std::uint32_t kRpcCallCancelled = 1818;
inline constexpr std::uint32_t kEvtInvalidChannelPath = 15000;
inline constexpr std::uint32_t kEvtInvalidQuery = 15001;
inline constexpr std::uint32_t kEvtPublisherMetadataNotFound = 15002;
inline constexpr std::uint32_t kEvtChannelNotFound = 15007;
inline constexpr std::uint32_t kEvtQueryResultStale = 15011;
inline constexpr std::uint32_t kEvtQueryResultInvalidPosition = 15012;
inline constexpr std::uint32_t kEvtFilterTooComplex = 15026;
inline constexpr std::uint32_t kEvtMessageNotFound = 15027;
inline constexpr std::uint32_t kEvtMessageIdNotFound = 15028;
inline constexpr std::uint32_t kEvtUnresolvedValueInsert = 15029;
inline constexpr std::uint32_t kEvtMessageLocaleNotFound = 15033;
}  // namespace win32

// ---------------------------------------------------------------------------------------------
// Query building

// Windows rejects (or silently mis-evaluates) XPath filters with too many clauses: 22 documented,
// 21 seen in practice on some versions (elastic/beats#35049). Ranges count as one clause.
struct QueryLimits {
  std::size_t max_clauses = 21;
  std::size_t max_length = 4096;  // characters of the XPath expression
};

struct EventIdRange {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
  friend bool operator==(const EventIdRange&, const EventIdRange&) = default;
};

// Sorts, de-duplicates and merges consecutive ids into ranges.
std::vector<EventIdRange> merge_event_ids(std::span<const std::uint32_t> ids);

// What EvtSubscribe is given for one channel, and what the agent must filter itself.
struct SubscriptionQuery {
  std::string channel;  // EvtSubscribe's ChannelPath
  std::string xpath;    // EvtSubscribe's Query ("*" for everything)
  // Event ids the agent must keep when the query could not express them (empty: keep all).
  std::unordered_set<std::uint32_t> agent_filter;
  // Why the query fell back to "*" (empty when it did not), for the log.
  std::string fallback_reason;
  bool accepts(std::uint32_t event_id) const {
    return agent_filter.empty() || agent_filter.count(event_id) != 0;
  }
};

// Channel names compare case-insensitively, as Windows compares them.
bool same_channel(std::string_view a, std::string_view b);

// The event that says `channel` itself was cleared (Security 1102, System 104), if it has one.
std::optional<std::uint32_t> log_cleared_event_id(std::string_view channel);

// Builds the query for one channel from the event ids the rules need (empty: every event) and the
// user's `query` option (an XPath filter such as "*[System[Level<=3]]"; empty: none). With a user
// query, it is used as given and the event ids are filtered in the agent. When the ids need more
// clauses or characters than `limits` allow, the query is "*" and the agent filters. A filtered
// query always includes the channel's log-cleared event (a filtered channel shows no record-id
// gaps, so that event is how a cleared log is still noticed).
SubscriptionQuery build_subscription_query(std::string_view channel,
                                           std::span<const std::uint32_t> event_ids,
                                           std::string_view user_query,
                                           const QueryLimits& limits = {});

// ---------------------------------------------------------------------------------------------
// Bookmarks: the checkpoint of an eventlog source is the bookmark XML Windows renders, e.g.
//   <BookmarkList><Bookmark Channel='Security' RecordId='4711' IsCurrent='true'/></BookmarkList>

struct BookmarkPosition {
  std::string channel;
  std::uint64_t record_id = 0;
  friend bool operator==(const BookmarkPosition&, const BookmarkPosition&) = default;
};

// The positions a bookmark XML holds (one per channel); nullopt when it is not a bookmark list.
std::optional<std::vector<BookmarkPosition>> parse_bookmark(std::string_view xml);
// The bookmark XML for one channel position (what EvtCreateBookmark accepts).
std::string make_bookmark_xml(const BookmarkPosition& position);
// The position for `channel` in a bookmark XML (channel names compare case-insensitively, as
// Windows does); nullopt when absent or malformed.
std::optional<std::uint64_t> bookmark_record_id(std::string_view xml, std::string_view channel);

// ---------------------------------------------------------------------------------------------
// Collection gaps: events that were lost between the agent and the log. Raised as the daemon's
// `collection_gap` alert, never skipped silently.

enum class GapCause {
  kRecordIdGap,    // record ids jumped forward within the channel
  kRecordIdReset,  // record ids went backwards (log recreated)
  kStaleBookmark,  // the checkpoint no longer exists in the log (cleared or wrapped)
  // The checkpoint was overwritten, but the log is archived when full (AutoBackup): the records
  // are in its Archive-*.evtx files, not lost; they were not read live.
  kStaleBookmarkArchived,
  kLogCleared,           // Security 1102 / System 104
  kEventLogUnavailable,  // the Event Log service went away (restart) while subscribed
  kChannelUnreadable,    // a configured channel is missing, access is denied or its query refused
};
std::string_view to_string(GapCause cause);

struct CollectionGap {
  std::string channel;
  // The computer whose log lost the records when it is another one (a log-clear event read from
  // ForwardedEvents); empty for this computer.
  std::string computer;
  GapCause cause = GapCause::kRecordIdGap;
  // Missing record ids, inclusive; both 0 when unknown.
  std::uint64_t first_missing = 0;
  std::uint64_t last_missing = 0;
  std::string detail;  // a sentence for the alert and the log
};

// Watches the record ids of one channel as they arrive, in order.
class RecordSequence {
 public:
  RecordSequence(std::string channel, std::uint64_t last_record_id = 0)
      : channel_(std::move(channel)), last_(last_record_id) {}
  // Returns the gap this record reveals, if any. Record id 0 (unknown) is ignored.
  std::optional<CollectionGap> observe(std::uint64_t record_id);
  std::uint64_t last() const { return last_; }
  // After a resubscription from the oldest record: the next id is accepted without a gap report
  // (the stale-bookmark gap was reported on its own).
  void restart() { last_ = 0; }

 private:
  std::string channel_;
  std::uint64_t last_ = 0;
};

// Recognizes the events that say the log itself lost records: Security 1102 (audit log cleared)
// and System 104 (a log was cleared), from the Eventlog publishers.
std::optional<CollectionGap> gap_from_event(const Event& event);

// ---------------------------------------------------------------------------------------------
// Failures and what to do about them.

// A human sentence for an Event Log failure, with what to do about it. `extended` is
// EvtGetExtendedStatus's text (the query parser's explanation), `system_text` FormatMessage's.
std::string describe_error(std::uint32_t code, std::string_view channel, std::string_view extended,
                           std::string_view system_text = {});

enum class Recovery {
  kFromOldest,     // stale bookmark: report the gap, resume at the oldest record
  kWildcardQuery,  // the generated query was refused: subscribe to "*", filter in the agent
  kRetryLater,     // the Event Log service is unavailable: back off and resubscribe
  kGiveUp,         // configuration problem (access denied, no such channel, bad user query)
};
struct SubscribeFailure {
  std::uint32_t code = 0;
  bool had_bookmark = false;
  bool generated_query = false;  // the query came from the rules, not from the user
  bool wildcard_query = false;   // the query already was "*"
};
Recovery recovery_for(const SubscribeFailure& failure);

// ---------------------------------------------------------------------------------------------
// Per-publisher metadata cache for EvtFormatMessage: opens each publisher's metadata once and
// remembers publishers that have none (so a missing message table costs one lookup, not one per
// event) for `retry_missing`, after which it asks again (the publisher may have been installed).
// Bounded; the least recently used entry is closed first.
template <typename Handle>
class PublisherCache {
 public:
  using Opener = std::function<std::optional<Handle>(std::string_view publisher)>;
  using Closer = std::function<void(Handle)>;

  using Clock = std::chrono::steady_clock;

  PublisherCache(std::size_t capacity, Opener open, Closer close,
                 Clock::duration retry_missing = std::chrono::minutes(10))
      : capacity_(capacity == 0 ? 1 : capacity),
        open_(std::move(open)),
        close_(std::move(close)),
        retry_missing_(retry_missing) {}
  PublisherCache(const PublisherCache&) = delete;
  PublisherCache& operator=(const PublisherCache&) = delete;
  ~PublisherCache() { clear(); }

  // The publisher's handle, or nullopt when it has no metadata (remembered).
  std::optional<Handle> get(std::string_view publisher, Clock::time_point now = Clock::now()) {
    ++tick_;
    for (auto& e : entries_) {
      if (e.name == publisher) {
        e.used = tick_;
        if (!e.handle && now - e.opened >= retry_missing_) {
          ++opens_;
          e.handle = open_(publisher);
          e.opened = now;
        }
        return e.handle;
      }
    }
    ++opens_;
    Entry entry{std::string(publisher), open_(publisher), tick_, now};
    if (entries_.size() >= capacity_) evict_oldest();
    entries_.push_back(std::move(entry));
    return entries_.back().handle;
  }
  void clear() {
    for (auto& e : entries_) {
      if (e.handle) close_(*e.handle);
    }
    entries_.clear();
  }
  std::size_t size() const { return entries_.size(); }
  std::uint64_t opens() const { return opens_; }

 private:
  struct Entry {
    std::string name;
    std::optional<Handle> handle;
    std::uint64_t used = 0;
    Clock::time_point opened;
  };
  void evict_oldest() {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->used < oldest->used) oldest = it;
    }
    if (oldest->handle) close_(*oldest->handle);
    entries_.erase(oldest);
  }

  std::size_t capacity_;
  Opener open_;
  Closer close_;
  Clock::duration retry_missing_;
  std::vector<Entry> entries_;
  std::uint64_t tick_ = 0;
  std::uint64_t opens_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The source the daemon runs (Windows only; elsewhere create() fails with a message).

enum class StartPosition { kNewest, kOldest };

struct ChannelConfig {
  std::string channel;                   // "Security", "Microsoft-Windows-TerminalServices-..."
  std::vector<std::uint32_t> event_ids;  // what the rules need; empty = everything
  std::string query;                     // the user's `query` option (XPath); empty = none
  std::string bookmark_xml;              // from the checkpoint store; empty = none
  StartPosition start = StartPosition::kNewest;  // without a usable bookmark
};

struct SourceOptions {
  // Rendered Event XML (UTF-8) to an Event; false with `error` when it is no Windows event. The
  // caller passes the agent's XML decoder (the same as for exported files): this layer names none.
  // Called on the polling thread only. Required.
  std::function<bool(std::string_view xml, Event& out, std::string& error)> decode;
  std::uint32_t batch_size = 100;  // EvtNext batch; Windows refuses more than 1024
  bool render_messages = true;     // EvtFormatMessage for events without RenderingInfo
  // Which events get a message (EvtFormatMessage is the costliest call): those the detector
  // reads; null for every event. Called with the rendered channel and the event id.
  std::function<bool(std::string_view channel, std::uint32_t event_id)> wants_message;
  // The language of messages (an LCID; the 7063 text recognizer reads English); when a
  // publisher has no text in it, the server's language.
  std::uint32_t locale = 0x409;
  std::size_t publisher_cache = 64;
  // A publisher found without metadata is asked again after this long (it may be installed).
  std::chrono::milliseconds publisher_retry{std::chrono::minutes(10)};
  // Resubscription delays after a failure: the first, doubled up to the last.
  std::chrono::milliseconds first_retry{std::chrono::seconds(5)};
  std::chrono::milliseconds max_retry{std::chrono::seconds(60)};
  QueryLimits limits;
};

struct SourceStats {
  std::uint64_t events = 0;
  std::uint64_t filtered = 0;             // dropped by the agent-side event id filter
  std::uint64_t decode_errors = 0;        // rendered XML the decoder refused
  std::uint64_t messages_unrendered = 0;  // events delivered without a formatted message
  std::uint64_t stale_bookmarks = 0;
  std::uint64_t gaps = 0;
  std::uint64_t resubscriptions = 0;
  std::uint64_t unreadable_channels = 0;  // configured channels not readable now
};

// Receives what the source reads, on the thread that calls poll().
class Handler {
 public:
  virtual ~Handler() = default;
  // The event is valid during the call only.
  virtual void on_event(Event& event) = 0;
  // End of an EvtNext batch: the bookmark of the batch's last event. Store it as the channel's
  // checkpoint once the alerts of the batch's events are spooled, not before.
  virtual void on_batch(std::string_view channel, std::string_view bookmark_xml) = 0;
  virtual void on_gap(const CollectionGap& gap) = 0;
  // Problems worth a log line and a metric; the source keeps running where it can.
  virtual void on_error(std::string_view channel, std::string_view message) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Subscribes to every channel. nullptr with `error` set when none could be subscribed.
  static std::unique_ptr<Source> create(std::vector<ChannelConfig> channels,
                                        const SourceOptions& options, Handler& handler,
                                        std::string& error);
  // Waits up to `wait` for new events, then delivers what is there. Returns false once stop()
  // was called.
  virtual bool poll(std::chrono::milliseconds wait) = 0;
  // Thread-safe; wakes a waiting poll().
  virtual void stop() = 0;
  virtual SourceStats stats() const = 0;
};

}  // namespace sw::eventlog
