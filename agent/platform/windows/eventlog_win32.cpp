// The Windows Event Log source: EvtSubscribe in pull mode, one subscription per channel. A thin
// layer: which query, what a failure means and whether records were lost are decided by the
// portable functions of sessionwatch/eventlog.hpp (eventlog_logic.cpp); events go through the
// same XML decoder as exported files.
#include <windows.h>
#include <winevt.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "platform/windows/win32_text.hpp"
#include "sessionwatch/eventlog.hpp"

namespace sw::eventlog {

static_assert(win32::kAccessDenied == ERROR_ACCESS_DENIED);
static_assert(win32::kInvalidHandle == ERROR_INVALID_HANDLE);
static_assert(win32::kInvalidParameter == ERROR_INVALID_PARAMETER);
static_assert(win32::kInsufficientBuffer == ERROR_INSUFFICIENT_BUFFER);
static_assert(win32::kNoMoreItems == ERROR_NO_MORE_ITEMS);
static_assert(win32::kNotFound == ERROR_NOT_FOUND);
static_assert(win32::kTimeout == ERROR_TIMEOUT);
static_assert(win32::kRpcServerUnavailable == RPC_S_SERVER_UNAVAILABLE);
static_assert(win32::kRpcCallCancelled == RPC_S_CALL_CANCELLED);
static_assert(win32::kEvtInvalidChannelPath == ERROR_EVT_INVALID_CHANNEL_PATH);
static_assert(win32::kEvtInvalidQuery == ERROR_EVT_INVALID_QUERY);
static_assert(win32::kEvtPublisherMetadataNotFound == ERROR_EVT_PUBLISHER_METADATA_NOT_FOUND);
static_assert(win32::kEvtChannelNotFound == ERROR_EVT_CHANNEL_NOT_FOUND);
static_assert(win32::kEvtQueryResultStale == ERROR_EVT_QUERY_RESULT_STALE);
static_assert(win32::kEvtQueryResultInvalidPosition == ERROR_EVT_QUERY_RESULT_INVALID_POSITION);
static_assert(win32::kEvtFilterTooComplex == ERROR_EVT_FILTER_TOO_COMPLEX);
static_assert(win32::kEvtMessageNotFound == ERROR_EVT_MESSAGE_NOT_FOUND);
static_assert(win32::kEvtMessageIdNotFound == ERROR_EVT_MESSAGE_ID_NOT_FOUND);
static_assert(win32::kEvtUnresolvedValueInsert == ERROR_EVT_UNRESOLVED_VALUE_INSERT);
static_assert(win32::kEvtMessageLocaleNotFound == ERROR_EVT_MESSAGE_LOCALE_NOT_FOUND);

namespace {

using sw::win32::narrow;
using sw::win32::widen;

constexpr std::uint32_t kMaxBatch = 1024;  // EvtNext refuses larger batches
// Batches one channel reads before the next channel's turn: a flood on Security must not hold
// back the session channels.
constexpr int kBatchesPerTurn = 4;

struct EvtHandle {
  EVT_HANDLE handle = nullptr;
  EvtHandle() = default;
  explicit EvtHandle(EVT_HANDLE h) : handle(h) {}
  EvtHandle(const EvtHandle&) = delete;
  EvtHandle& operator=(const EvtHandle&) = delete;
  EvtHandle(EvtHandle&& other) noexcept : handle(std::exchange(other.handle, nullptr)) {}
  EvtHandle& operator=(EvtHandle&& other) noexcept {
    reset(std::exchange(other.handle, nullptr));
    return *this;
  }
  ~EvtHandle() { reset(); }
  void reset(EVT_HANDLE h = nullptr) {
    if (handle != nullptr) EvtClose(handle);
    handle = h;
  }
  explicit operator bool() const { return handle != nullptr; }
};

// EvtGetExtendedStatus: the query parser's explanation of the last failure, if any.
std::string extended_status() {
  DWORD used = 0;
  EvtGetExtendedStatus(0, nullptr, &used);
  if (used == 0) return {};
  std::wstring text(used, L'\0');
  if (EvtGetExtendedStatus(used, text.data(), &used) != ERROR_SUCCESS) return {};
  while (!text.empty() && (text.back() == L'\0' || text.back() == L'\n' || text.back() == L'\r')) {
    text.pop_back();
  }
  return narrow(text);
}

// EvtRender into a reusable UTF-16 buffer; the text without its terminator.
bool render(EVT_HANDLE handle, DWORD flags, std::vector<wchar_t>& buffer, std::wstring_view& out) {
  DWORD used = 0, properties = 0;
  const DWORD bytes = static_cast<DWORD>(buffer.size() * sizeof(wchar_t));
  if (!EvtRender(nullptr, handle, flags, bytes, buffer.data(), &used, &properties)) {
    if (GetLastError() != ERROR_INSUFFICIENT_BUFFER) return false;
    buffer.resize(used / sizeof(wchar_t) + 1);
    if (!EvtRender(nullptr, handle, flags, static_cast<DWORD>(buffer.size() * sizeof(wchar_t)),
                   buffer.data(), &used, &properties)) {
      return false;
    }
  }
  std::size_t chars = used / sizeof(wchar_t);
  while (chars > 0 && buffer[chars - 1] == L'\0') --chars;
  out = std::wstring_view(buffer.data(), chars);
  return true;
}

struct Channel {
  ChannelConfig config;
  SubscriptionQuery query;
  bool generated_query = true;
  EvtHandle subscription;
  EvtHandle bookmark;
  HANDLE signal = nullptr;
  RecordSequence sequence;
  std::uint32_t batch_size = 100;
  bool positioned = false;  // the bookmark holds a position (read from the checkpoint or updated)
  // Without a position, a resubscription starts at the oldest record: the log was empty when
  // the agent first looked, so everything in it now is new.
  bool resume_from_oldest = false;
  bool subscribed = false;
  bool unreadable = false;  // missing or access denied: reported once, retried
  bool disabled = false;    // the user's query was refused: reported once, never retried
  std::chrono::steady_clock::time_point retry_at{};
  std::chrono::milliseconds backoff{};

  explicit Channel(ChannelConfig c) : config(std::move(c)), sequence(config.channel) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() {
    subscription.reset();
    if (signal != nullptr) CloseHandle(signal);
  }
};

// EvtQuery over a channel ("*"), newest or oldest record first.
EvtHandle open_query(const std::string& channel, bool newest_first) {
  const DWORD direction = newest_first ? EvtQueryReverseDirection : EvtQueryForwardDirection;
  return EvtHandle(
      EvtQuery(nullptr, widen(channel).c_str(), L"*", EvtQueryChannelPath | direction));
}

class WinEventLogSource final : public Source {
 public:
  WinEventLogSource(const SourceOptions& options, Handler& handler)
      : options_(options),
        handler_(handler),
        publishers_(options.publisher_cache, opener(options.locale), closer(),
                    options.publisher_retry),
        server_language_publishers_(options.publisher_cache, opener(0), closer(),
                                    options.publisher_retry) {
    options_.batch_size = std::clamp<std::uint32_t>(options_.batch_size, 1, kMaxBatch);
    stop_event_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    render_buffer_.resize(16 * 1024);
    message_buffer_.resize(4 * 1024);
  }
  ~WinEventLogSource() override {
    channels_.clear();
    publishers_.clear();
    server_language_publishers_.clear();
    if (stop_event_ != nullptr) CloseHandle(stop_event_);
  }

  // False when the channel cannot be watched at all (its configuration is refused).
  bool add(ChannelConfig config, std::string& error) {
    auto channel = std::make_unique<Channel>(std::move(config));
    Channel& ch = *channel;
    ch.query = build_subscription_query(ch.config.channel, ch.config.event_ids, ch.config.query,
                                        options_.limits);
    ch.generated_query = ch.config.query.empty();
    ch.batch_size = options_.batch_size;
    ch.backoff = options_.first_retry;
    if (!ch.query.fallback_reason.empty()) {
      handler_.on_error(ch.config.channel, ch.query.fallback_reason);
    }
    // Manual reset: set by the Event Log service when events arrive, reset by us before reading.
    ch.signal = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (ch.signal == nullptr) {
      error = sw::win32::describe("CreateEvent failed", GetLastError());
      return false;
    }
    if (const auto last = bookmark_record_id(ch.config.bookmark_xml, ch.config.channel)) {
      ch.sequence = RecordSequence(ch.config.channel, *last);
    }
    subscribe(ch, /*from_oldest=*/false);
    if (ch.disabled) {
      error = last_error_;
      return false;
    }
    channels_.push_back(std::move(channel));
    return true;
  }

  bool poll(std::chrono::milliseconds wait) override {
    std::vector<HANDLE> handles{stop_event_};
    for (const auto& ch : channels_) {
      if (ch->subscribed) handles.push_back(ch->signal);
    }
    const DWORD waited = WaitForMultipleObjects(static_cast<DWORD>(handles.size()), handles.data(),
                                                FALSE, static_cast<DWORD>(wait_for(wait).count()));
    if (waited == WAIT_FAILED) {
      // Never spin: report it and wait the period out.
      handler_.on_error("", sw::win32::describe("WaitForMultipleObjects failed", GetLastError()));
      WaitForSingleObject(stop_event_, static_cast<DWORD>(wait.count()));
      return !stopping_;
    }
    if (waited == WAIT_OBJECT_0 || stopping_) return false;
    // Only signalled channels are read: EvtNext on an idle pull subscription fails (4317).
    const auto now = std::chrono::steady_clock::now();
    for (const auto& ch : channels_) {
      if (stopping_) return false;
      if (ch->subscribed) {
        if (WaitForSingleObject(ch->signal, 0) == WAIT_OBJECT_0) read(*ch);
      } else if (!ch->disabled && now >= ch->retry_at) {
        ++stats_.resubscriptions;
        subscribe(*ch, false);
      }
    }
    return !stopping_;
  }

  void stop() override {
    stopping_ = true;
    SetEvent(stop_event_);
  }

  SourceStats stats() const override { return stats_; }

 private:
  static PublisherCache<EVT_HANDLE>::Opener opener(std::uint32_t locale) {
    return [locale](std::string_view publisher) -> std::optional<EVT_HANDLE> {
      EVT_HANDLE h = EvtOpenPublisherMetadata(nullptr, widen(publisher).c_str(), nullptr,
                                              static_cast<LCID>(locale), 0);
      if (h == nullptr) return std::nullopt;
      return h;
    };
  }
  static PublisherCache<EVT_HANDLE>::Closer closer() {
    return [](EVT_HANDLE h) { EvtClose(h); };
  }

  // The poll's wait, shortened to the next due resubscription.
  std::chrono::milliseconds wait_for(std::chrono::milliseconds wait) const {
    const auto now = std::chrono::steady_clock::now();
    for (const auto& ch : channels_) {
      if (ch->subscribed || ch->disabled) continue;
      const auto due = std::chrono::duration_cast<std::chrono::milliseconds>(ch->retry_at - now);
      wait = std::clamp(due, std::chrono::milliseconds(0), wait);
    }
    return wait;
  }

  void fail(Channel& ch, DWORD code, std::string_view what) {
    // The extended status explains query errors (which token, where); for other codes it is
    // empty or stale.
    const bool query_error =
        code == ERROR_EVT_INVALID_QUERY || code == ERROR_EVT_FILTER_TOO_COMPLEX ||
        (code >= ERROR_EVT_FILTER_ALREADYSCOPED && code <= ERROR_EVT_FILTER_UNEXPECTEDTOKEN);
    last_error_ = describe_error(code, ch.config.channel, query_error ? extended_status() : "",
                                 sw::win32::error_text(code));
    if (!what.empty()) last_error_ = std::string(what) + ": " + last_error_;
    handler_.on_error(ch.config.channel, last_error_);
  }

  void schedule_retry(Channel& ch) {
    ch.subscribed = false;
    ch.subscription.reset();
    ch.retry_at = std::chrono::steady_clock::now() + ch.backoff;
    ch.backoff = std::min(ch.backoff * 2, options_.max_retry);
  }

  // The origin of a subscription without a usable in-memory position.
  DWORD initial_flags(Channel& ch, bool& had_bookmark) {
    if (ch.resume_from_oldest) return EvtSubscribeStartAtOldestRecord;
    const auto saved = bookmark_record_id(ch.config.bookmark_xml, ch.config.channel);
    if (saved && *saved == 0) {
      ch.resume_from_oldest = true;  // saved while the log was empty
      return EvtSubscribeStartAtOldestRecord;
    }
    if (!ch.config.bookmark_xml.empty()) {
      ch.bookmark.reset(EvtCreateBookmark(widen(ch.config.bookmark_xml).c_str()));
      if (ch.bookmark) {
        had_bookmark = ch.positioned = true;
        return EvtSubscribeStartAfterBookmark | EvtSubscribeStrict;
      }
      fail(ch, GetLastError(), "the saved bookmark is unreadable, starting without it");
    } else if (ch.config.start == StartPosition::kNewest && position_at_newest(ch)) {
      had_bookmark = true;
      return EvtSubscribeStartAfterBookmark | EvtSubscribeStrict;
    }
    if (ch.resume_from_oldest || ch.config.start == StartPosition::kOldest) {
      return EvtSubscribeStartAtOldestRecord;
    }
    return EvtSubscribeToFutureEvents;  // the channel could not be queried: subscribe fails too
  }

  // A first start: bookmarks the newest record and hands the bookmark on at once, so a restart
  // continues from here (events written while the agent is down are read then). An empty log
  // is saved as record 0: everything in it later is new. False when the channel cannot be read.
  bool position_at_newest(Channel& ch) {
    EvtHandle query = open_query(ch.config.channel, /*newest_first=*/true);
    if (!query) return false;
    EVT_HANDLE newest = nullptr;
    DWORD returned = 0;
    if (!EvtNext(query.handle, 1, &newest, 0, 0, &returned) || returned == 0) {
      if (GetLastError() != ERROR_NO_MORE_ITEMS) return false;
      ch.resume_from_oldest = true;
      handler_.on_batch(ch.config.channel, make_bookmark_xml({ch.config.channel, 0}));
      return false;
    }
    ch.bookmark.reset(EvtCreateBookmark(nullptr));
    const bool updated = ch.bookmark && EvtUpdateBookmark(ch.bookmark.handle, newest);
    EvtClose(newest);
    std::wstring_view xml;
    if (!updated || !render(ch.bookmark.handle, EvtRenderBookmark, render_buffer_, xml)) {
      ch.bookmark.reset();
      return false;
    }
    ch.positioned = true;
    const std::string bookmark = narrow(xml);
    if (const auto last = bookmark_record_id(bookmark, ch.config.channel)) {
      ch.sequence = RecordSequence(ch.config.channel, *last);
    }
    handler_.on_batch(ch.config.channel, bookmark);
    return true;
  }

  void subscribe(Channel& ch, bool from_oldest) {
    ch.subscription.reset();
    ch.subscribed = false;
    bool had_bookmark = false;
    DWORD flags = EvtSubscribeStartAtOldestRecord;
    if (from_oldest) {
      ch.bookmark.reset();
      ch.positioned = false;
      ch.resume_from_oldest = true;
    } else if (ch.bookmark && ch.positioned) {
      // Resubscribing after a failure: continue after the last event handed out.
      had_bookmark = true;
      flags = EvtSubscribeStartAfterBookmark | EvtSubscribeStrict;
    } else {
      flags = initial_flags(ch, had_bookmark);
    }
    ResetEvent(ch.signal);
    ch.subscription.reset(EvtSubscribe(
        nullptr, ch.signal, widen(ch.query.channel).c_str(), widen(ch.query.xpath).c_str(),
        had_bookmark ? ch.bookmark.handle : nullptr, nullptr, nullptr, flags));
    if (ch.subscription) {
      subscribed(ch);
      return;
    }
    const DWORD code = GetLastError();
    const SubscribeFailure failure{code, had_bookmark, ch.generated_query, ch.query.xpath == "*"};
    switch (recovery_for(failure)) {
      case Recovery::kFromOldest:
        ++stats_.stale_bookmarks;
        fail(ch, code, "");
        report_stale(ch);
        subscribe(ch, /*from_oldest=*/true);
        return;
      case Recovery::kWildcardQuery:
        fail(ch, code, "falling back to reading every event and filtering in the agent");
        ch.query.agent_filter.insert(ch.config.event_ids.begin(), ch.config.event_ids.end());
        ch.query.xpath = "*";
        subscribe(ch, from_oldest);
        return;
      case Recovery::kRetryLater:
        fail(ch, code, "");
        schedule_retry(ch);
        return;
      case Recovery::kGiveUp:
        give_up(ch, code);
        return;
    }
  }

  void subscribed(Channel& ch) {
    // The bookmark is created once the subscription exists: it follows every event delivered.
    if (!ch.bookmark) ch.bookmark.reset(EvtCreateBookmark(nullptr));
    if (!ch.bookmark) {
      fail(ch, GetLastError(), "EvtCreateBookmark failed");
      schedule_retry(ch);
      return;
    }
    ch.subscribed = true;
    ch.backoff = options_.first_retry;
    if (ch.unreadable) {
      ch.unreadable = false;
      --stats_.unreadable_channels;
      handler_.on_error(ch.config.channel, "the channel can be read again");
    }
    SetEvent(ch.signal);  // read what is already there
  }

  // A channel that cannot be read is a health problem, not a log line: one collection gap
  // when it starts (an alert), retried in case access is granted or the channel appears. A
  // refused user query is retried never.
  void give_up(Channel& ch, DWORD code) {
    fail(ch, code, "");
    const bool retried = code == ERROR_ACCESS_DENIED || code == ERROR_EVT_CHANNEL_NOT_FOUND ||
                         code == ERROR_EVT_INVALID_CHANNEL_PATH;
    if (!ch.unreadable) {
      ch.unreadable = true;
      ++stats_.unreadable_channels;
      CollectionGap gap;
      gap.channel = ch.config.channel;
      gap.cause = GapCause::kChannelUnreadable;
      gap.detail = last_error_ + (retried ? "; retried until it can be read" : "");
      ++stats_.gaps;
      handler_.on_gap(gap);
    }
    if (retried) {
      schedule_retry(ch);
    } else {
      ch.disabled = true;
    }
  }

  // The record id of the oldest record of a channel; 0 when unknown or the log is empty.
  std::uint64_t oldest_record_id(const std::string& channel) {
    EvtHandle query = open_query(channel, /*newest_first=*/false);
    EVT_HANDLE oldest = nullptr;
    DWORD returned = 0;
    if (!query || !EvtNext(query.handle, 1, &oldest, 0, 0, &returned) || returned == 0) return 0;
    std::wstring_view xml;
    std::uint64_t id = 0;
    Event event;
    std::string error;
    if (render(oldest, EvtRenderEventXml, render_buffer_, xml) &&
        options_.decode(narrow(xml), event, error)) {
      id = event.record_id;
    }
    EvtClose(oldest);
    return id;
  }

  // With "archive the log when full" (Retention and AutoBackup) overwritten records go to
  // Archive-<channel>-<time>.evtx beside the log; returns the log's path then, else empty.
  static std::string archive_folder_of(const std::string& channel) {
    EvtHandle config(EvtOpenChannelConfig(nullptr, widen(channel).c_str(), 0));
    if (!config) return {};
    std::vector<BYTE> buffer(1024);
    auto property = [&](EVT_CHANNEL_CONFIG_PROPERTY_ID id) -> const EVT_VARIANT* {
      DWORD used = 0;
      auto* value = reinterpret_cast<EVT_VARIANT*>(buffer.data());
      if (!EvtGetChannelConfigProperty(config.handle, id, 0, static_cast<DWORD>(buffer.size()),
                                       value, &used)) {
        return nullptr;
      }
      return value;
    };
    const EVT_VARIANT* backup = property(EvtChannelLoggingConfigAutoBackup);
    if (backup == nullptr || backup->Type != EvtVarTypeBoolean || !backup->BooleanVal) return {};
    const EVT_VARIANT* path = property(EvtChannelLoggingConfigLogFilePath);
    if (path == nullptr || path->Type != EvtVarTypeString || path->StringVal == nullptr) {
      return "the log's folder";
    }
    return narrow(path->StringVal);
  }

  void report_stale(Channel& ch) {
    CollectionGap gap;
    gap.channel = ch.config.channel;
    gap.cause = GapCause::kStaleBookmark;
    const std::uint64_t last = ch.sequence.last();
    gap.first_missing = last == 0 ? 0 : last + 1;
    const std::uint64_t oldest = oldest_record_id(ch.config.channel);
    std::string lost = "events written and overwritten in between are lost";
    if (last != 0 && oldest > last + 1) {
      // Wrapped: the records between the checkpoint and the oldest one left are gone.
      gap.last_missing = oldest - 1;
      lost = "records " + std::to_string(gap.first_missing) + " to " +
             std::to_string(gap.last_missing) + " were overwritten before they were read";
    }
    gap.detail = "the saved position in " + ch.config.channel +
                 " is gone (log cleared or wrapped); resuming from the oldest record, " + lost;
    if (const std::string log = archive_folder_of(ch.config.channel); !log.empty()) {
      // Archived when full: not lost, but not read live either.
      gap.cause = GapCause::kStaleBookmarkArchived;
      gap.detail = "the saved position in " + ch.config.channel +
                   " was overwritten; the log is archived when full, so the records in between "
                   "are in its Archive-*.evtx files beside " +
                   log +
                   " (read them with `sessionwatch scan` or an evtx input); resuming from the "
                   "oldest record";
    }
    ch.sequence.restart();
    ++stats_.gaps;
    handler_.on_gap(gap);
  }

  void read(Channel& ch) {
    // Reset before reading: an event arriving from now on sets it again, none is missed.
    ResetEvent(ch.signal);
    std::vector<EVT_HANDLE> batch(ch.batch_size);
    for (int turn = 0; turn < kBatchesPerTurn; ++turn) {
      DWORD returned = 0;
      if (!EvtNext(ch.subscription.handle, static_cast<DWORD>(batch.size()), batch.data(), 0, 0,
                   &returned)) {
        next_failed(ch, GetLastError());
        return;
      }
      for (DWORD i = 0; i < returned; ++i) {
        process(ch, batch[i]);
        if (EvtUpdateBookmark(ch.bookmark.handle, batch[i])) ch.positioned = true;
        EvtClose(batch[i]);
      }
      std::wstring_view xml;
      if (render(ch.bookmark.handle, EvtRenderBookmark, render_buffer_, xml)) {
        handler_.on_batch(ch.config.channel, narrow(xml));
      } else {
        fail(ch, GetLastError(), "rendering the bookmark failed");
      }
      // A short batch drained the channel; what arrives later sets the signal again.
      if (stopping_ || returned < batch.size()) return;
    }
    SetEvent(ch.signal);  // more may wait: the other channels first, then this one again
  }

  void next_failed(Channel& ch, DWORD code) {
    switch (code) {
      case ERROR_NO_MORE_ITEMS:
      case ERROR_INVALID_OPERATION:  // what an idle pull subscription answers
      case ERROR_TIMEOUT:
        return;
      case RPC_S_INVALID_BOUND:      // the reply was over the RPC limit (elastic/beats#3076)
      case ERROR_INVALID_PARAMETER:  // under load with automatic log backup (beats#39781)
        // The failed reply consumed its events: smaller batches, from the last event handed on.
        ch.batch_size = std::max<std::uint32_t>(1, ch.batch_size / 2);
        fail(ch, code,
             "reading events failed; reading " + std::to_string(ch.batch_size) +
                 " at a time from the last event read");
        subscribe(ch, false);
        return;
      case ERROR_EVT_QUERY_RESULT_STALE:
      case ERROR_NOT_FOUND:
        // The log was cleared or wrapped under us: resubscribing from the bookmark fails strict
        // and falls to the oldest record with a gap report.
        fail(ch, code, "reading events failed");
        subscribe(ch, false);
        return;
      default:
        // The Event Log service went away: resubscribing after the bookmark loses nothing (if
        // the bookmark is gone by then, that is reported as stale).
        fail(ch, code, "reading events failed; resubscribing after the last event read");
        schedule_retry(ch);
        return;
    }
  }

  void process(Channel& ch, EVT_HANDLE record) {
    std::wstring_view xml;
    if (!render(record, EvtRenderEventXml, render_buffer_, xml)) {
      ++stats_.decode_errors;
      fail(ch, GetLastError(), "EvtRender failed; event skipped");
      return;
    }
    utf8_ = narrow(xml);
    event_.clear();
    if (!options_.decode(utf8_, event_, decode_error_)) {
      ++stats_.decode_errors;
      handler_.on_error(ch.config.channel, "undecodable event: " + decode_error_);
      return;
    }
    check_sequence(ch);
    if (!ch.query.accepts(event_.event_id)) {
      ++stats_.filtered;
      return;
    }
    // Forwarded events carry RenderingInfo, rendered where they were written. Formatting is the
    // costliest call: only for the events the detector reads.
    const bool wanted =
        !options_.wants_message || options_.wants_message(event_.channel(), event_.event_id);
    if (event_.message().empty() && wanted) {
      if (!options_.render_messages || !format_message(record)) ++stats_.messages_unrendered;
    }
    event_.set_origin(ch.config.channel);
    ++stats_.events;
    handler_.on_event(event_);
  }

  // Record-id gaps and log-clear events. Record ids are the channel's own only for events
  // written to it (ForwardedEvents keep their source's) and consecutive only in an unfiltered
  // subscription; a forwarded log-clear is the source computer's.
  void check_sequence(Channel& ch) {
    const bool own = same_channel(event_.channel(), ch.config.channel);
    if (own && ch.query.xpath == "*") {
      if (auto gap = ch.sequence.observe(event_.record_id)) {
        ++stats_.gaps;
        handler_.on_gap(*gap);
      }
    }
    if (auto gap = gap_from_event(event_)) {
      if (!own) gap->computer = std::string(event_.computer());
      ++stats_.gaps;
      handler_.on_gap(*gap);
    }
  }

  // EvtFormatMessage with the publisher's cached metadata, in the configured language or else
  // the server's. False when there is no message (the event still goes through with its
  // System, EventData and UserData).
  bool format_message(EVT_HANDLE record) {
    const std::string publisher(event_.provider_name());
    if (!lacks_language_.contains(publisher)) {
      const DWORD code = format_with(publishers_.get(publisher), record);
      if (code != ERROR_EVT_MESSAGE_LOCALE_NOT_FOUND) return code == ERROR_SUCCESS;
      lacks_language_.insert(publisher);
    }
    return format_with(server_language_publishers_.get(publisher), record) == ERROR_SUCCESS;
  }

  DWORD format_with(std::optional<EVT_HANDLE> publisher, EVT_HANDLE record) {
    if (!publisher) return ERROR_EVT_PUBLISHER_METADATA_NOT_FOUND;
    DWORD used = 0;
    auto format = [&] {
      return EvtFormatMessage(*publisher, record, 0, 0, nullptr, EvtFormatMessageEvent,
                              static_cast<DWORD>(message_buffer_.size()), message_buffer_.data(),
                              &used);
    };
    if (!format()) {
      DWORD code = GetLastError();
      if (code == ERROR_INSUFFICIENT_BUFFER) {
        message_buffer_.resize(used + 1);
        code = format() ? ERROR_SUCCESS : GetLastError();
      }
      // Unresolved inserts still yield the message text with the placeholders left in.
      if (code != ERROR_SUCCESS && code != ERROR_EVT_UNRESOLVED_VALUE_INSERT &&
          code != ERROR_EVT_UNRESOLVED_PARAMETER_INSERT) {
        return code;
      }
    }
    std::size_t chars = std::min<std::size_t>(used, message_buffer_.size());
    while (chars > 0 && message_buffer_[chars - 1] == L'\0') --chars;
    if (chars == 0) return ERROR_EVT_MESSAGE_NOT_FOUND;
    event_.set_message(narrow(std::wstring_view(message_buffer_.data(), chars)));
    return ERROR_SUCCESS;
  }

  SourceOptions options_;
  Handler& handler_;
  PublisherCache<EVT_HANDLE> publishers_;                  // in options_.locale
  PublisherCache<EVT_HANDLE> server_language_publishers_;  // locale 0, the fallback
  std::set<std::string> lacks_language_;                   // publishers without options_.locale
  std::vector<std::unique_ptr<Channel>> channels_;
  HANDLE stop_event_ = nullptr;
  std::atomic<bool> stopping_{false};
  SourceStats stats_;
  std::string last_error_;
  Event event_;
  std::vector<wchar_t> render_buffer_;
  std::vector<wchar_t> message_buffer_;
  std::string utf8_;
  std::string decode_error_;
};

}  // namespace

std::unique_ptr<Source> Source::create(std::vector<ChannelConfig> channels,
                                       const SourceOptions& options, Handler& handler,
                                       std::string& error) {
  if (channels.empty()) {
    error = "the eventlog source needs at least one channel";
    return nullptr;
  }
  if (!options.decode) {
    error = "the eventlog source needs an event decoder";
    return nullptr;
  }
  if (channels.size() >= MAXIMUM_WAIT_OBJECTS) {
    error = "the eventlog source can watch at most " + std::to_string(MAXIMUM_WAIT_OBJECTS - 1) +
            " channels; split them over several sources";
    return nullptr;
  }
  auto source = std::make_unique<WinEventLogSource>(options, handler);
  std::vector<std::string> problems;
  std::size_t watched = 0;  // subscribed, or retried until they can be read
  for (ChannelConfig& channel : channels) {
    std::string problem;
    if (source->add(std::move(channel), problem)) {
      ++watched;
    } else {
      problems.push_back(problem);
    }
  }
  if (watched == 0) {
    error = "no channel can be watched";
    for (const std::string& p : problems) error += "; " + p;
    return nullptr;
  }
  return source;
}

}  // namespace sw::eventlog
