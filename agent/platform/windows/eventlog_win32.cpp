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
#include <string>
#include <utility>
#include <vector>

#include "platform/windows/win32_text.hpp"
#include "sessionwatch/decode.hpp"
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
constexpr std::chrono::seconds kFirstRetry{5};
constexpr std::chrono::seconds kMaxRetry{60};

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
  bool positioned = false;  // the bookmark holds a position (read from the checkpoint or updated)
  bool disabled = false;    // configuration problem: reported once, never retried
  bool subscribed = false;
  std::chrono::steady_clock::time_point retry_at{};
  std::chrono::seconds backoff{kFirstRetry};

  explicit Channel(ChannelConfig c) : config(std::move(c)), sequence(config.channel) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() {
    subscription.reset();
    if (signal != nullptr) CloseHandle(signal);
  }
};

class WinEventLogSource final : public Source {
 public:
  WinEventLogSource(const SourceOptions& options, Handler& handler)
      : options_(options),
        handler_(handler),
        publishers_(
            options.publisher_cache,
            [](std::string_view publisher) -> std::optional<EVT_HANDLE> {
              EVT_HANDLE h =
                  EvtOpenPublisherMetadata(nullptr, widen(publisher).c_str(), nullptr, 0, 0);
              if (h == nullptr) return std::nullopt;
              return h;
            },
            [](EVT_HANDLE h) { EvtClose(h); }) {
    options_.batch_size = std::clamp<std::uint32_t>(options_.batch_size, 1, kMaxBatch);
    stop_event_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    render_buffer_.resize(16 * 1024);
    message_buffer_.resize(4 * 1024);
  }
  ~WinEventLogSource() override {
    channels_.clear();
    publishers_.clear();
    if (stop_event_ != nullptr) CloseHandle(stop_event_);
  }

  bool add(ChannelConfig config, std::string& error) {
    auto channel = std::make_unique<Channel>(std::move(config));
    Channel& ch = *channel;
    ch.query = build_subscription_query(ch.config.channel, ch.config.event_ids, ch.config.query,
                                        options_.limits);
    ch.generated_query = ch.config.query.empty();
    if (!ch.query.fallback_reason.empty()) {
      handler_.on_error(ch.config.channel, ch.query.fallback_reason);
    }
    // Manual reset: set by the Event Log service when events arrive, reset by us once drained.
    ch.signal = CreateEventW(nullptr, TRUE, TRUE, nullptr);
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
      if (ch->subscribed && handles.size() < MAXIMUM_WAIT_OBJECTS) handles.push_back(ch->signal);
    }
    const DWORD waited = WaitForMultipleObjects(static_cast<DWORD>(handles.size()), handles.data(),
                                                FALSE, static_cast<DWORD>(wait.count()));
    if (waited == WAIT_OBJECT_0 || stopping_) return false;
    // Every subscribed channel is read, not only the signalled one: reading an idle channel costs
    // one EvtNext, and it covers a signal lost between draining and ResetEvent.
    const auto now = std::chrono::steady_clock::now();
    for (const auto& ch : channels_) {
      if (stopping_) return false;
      if (ch->subscribed) {
        read(*ch);
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
    ch.backoff = std::min(ch.backoff * 2, kMaxRetry);
  }

  void subscribe(Channel& ch, bool from_oldest) {
    ch.subscription.reset();
    ch.subscribed = false;
    bool had_bookmark = false;
    DWORD flags = ch.config.start == StartPosition::kOldest ? EvtSubscribeStartAtOldestRecord
                                                            : EvtSubscribeToFutureEvents;
    if (from_oldest) {
      ch.bookmark.reset();
      ch.positioned = false;
      flags = EvtSubscribeStartAtOldestRecord;
    } else if (ch.bookmark && ch.positioned) {
      // Resubscribing after an outage: continue after the last event handed out.
      had_bookmark = true;
      flags = EvtSubscribeStartAfterBookmark | EvtSubscribeStrict;
    } else if (!ch.config.bookmark_xml.empty()) {
      ch.bookmark.reset(EvtCreateBookmark(widen(ch.config.bookmark_xml).c_str()));
      if (ch.bookmark) {
        had_bookmark = true;
        ch.positioned = true;
        flags = EvtSubscribeStartAfterBookmark | EvtSubscribeStrict;
      } else {
        fail(ch, GetLastError(), "the saved bookmark is unreadable, starting without it");
      }
    }
    ResetEvent(ch.signal);
    ch.subscription.reset(EvtSubscribe(
        nullptr, ch.signal, widen(ch.query.channel).c_str(), widen(ch.query.xpath).c_str(),
        had_bookmark ? ch.bookmark.handle : nullptr, nullptr, nullptr, flags));
    if (ch.subscription) {
      // The bookmark is created once the subscription exists: it follows every event delivered.
      if (!ch.bookmark) ch.bookmark.reset(EvtCreateBookmark(nullptr));
      if (!ch.bookmark) {
        fail(ch, GetLastError(), "EvtCreateBookmark failed");
        schedule_retry(ch);
        return;
      }
      ch.subscribed = true;
      ch.backoff = kFirstRetry;
      SetEvent(ch.signal);  // read what is already there
      return;
    }
    const DWORD code = GetLastError();
    const SubscribeFailure failure{code, had_bookmark, ch.generated_query, ch.query.xpath == "*"};
    switch (recovery_for(failure)) {
      case Recovery::kFromOldest: {
        ++stats_.stale_bookmarks;
        fail(ch, code, "");
        report_stale(ch);
        subscribe(ch, /*from_oldest=*/true);
        return;
      }
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
        fail(ch, code, "");
        ch.disabled = true;
        return;
    }
  }

  void report_stale(Channel& ch) {
    CollectionGap gap;
    gap.channel = ch.config.channel;
    gap.cause = GapCause::kStaleBookmark;
    gap.first_missing = ch.sequence.last() == 0 ? 0 : ch.sequence.last() + 1;
    gap.detail = "the saved position in " + ch.config.channel +
                 " is gone (log cleared or wrapped); resuming from the oldest record, events "
                 "written and overwritten in between are lost";
    ch.sequence.restart();
    ++stats_.gaps;
    handler_.on_gap(gap);
  }

  void read(Channel& ch) {
    std::vector<EVT_HANDLE> batch(options_.batch_size);
    for (;;) {
      DWORD returned = 0;
      if (!EvtNext(ch.subscription.handle, static_cast<DWORD>(batch.size()), batch.data(), 0, 0,
                   &returned)) {
        const DWORD code = GetLastError();
        if (code == ERROR_NO_MORE_ITEMS) {
          ResetEvent(ch.signal);
          return;
        }
        fail(ch, code, "reading events failed");
        if (code == ERROR_EVT_QUERY_RESULT_STALE || code == ERROR_NOT_FOUND) {
          // The log wrapped under us: resubscribing from the bookmark fails strict and falls
          // to the oldest record with a gap report.
          subscribe(ch, false);
        } else {
          CollectionGap gap;
          gap.channel = ch.config.channel;
          gap.cause = GapCause::kEventLogUnavailable;
          gap.first_missing = ch.sequence.last() == 0 ? 0 : ch.sequence.last() + 1;
          gap.detail = "the subscription to " + ch.config.channel +
                       " broke (Event Log service restart?); resubscribing after the last "
                       "delivered event";
          ++stats_.gaps;
          handler_.on_gap(gap);
          schedule_retry(ch);
        }
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
      if (stopping_) return;
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
    if (!decoder_.decode(utf8_, event_, decode_error_)) {
      ++stats_.decode_errors;
      handler_.on_error(ch.config.channel, "undecodable event: " + decode_error_);
      return;
    }
    // Record ids are consecutive only when Windows does not filter the channel.
    if (ch.query.xpath == "*") {
      if (auto gap = ch.sequence.observe(event_.record_id)) {
        ++stats_.gaps;
        handler_.on_gap(*gap);
      }
    }
    if (auto gap = gap_from_event(event_)) {
      ++stats_.gaps;
      handler_.on_gap(*gap);
    }
    if (!ch.query.accepts(event_.event_id)) {
      ++stats_.filtered;
      return;
    }
    // Forwarded events carry RenderingInfo, rendered where they were written.
    if (event_.message().empty()) {
      if (!options_.render_messages || !format_message(record)) ++stats_.messages_unrendered;
    }
    event_.set_origin(ch.config.channel);
    ++stats_.events;
    handler_.on_event(event_);
  }

  // EvtFormatMessage with the publisher's cached metadata. False when there is no message (the
  // event still goes through with its System, EventData and UserData).
  bool format_message(EVT_HANDLE record) {
    const std::optional<EVT_HANDLE> publisher = publishers_.get(event_.provider_name());
    if (!publisher) return false;
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
        if (format())
          code = ERROR_SUCCESS;
        else
          code = GetLastError();
      }
      // Unresolved inserts still yield the message text with the placeholders left in.
      if (code != ERROR_SUCCESS && code != ERROR_EVT_UNRESOLVED_VALUE_INSERT &&
          code != ERROR_EVT_UNRESOLVED_PARAMETER_INSERT) {
        return false;
      }
    }
    std::size_t chars = std::min<std::size_t>(used, message_buffer_.size());
    while (chars > 0 && message_buffer_[chars - 1] == L'\0') --chars;
    if (chars == 0) return false;
    event_.set_message(narrow(std::wstring_view(message_buffer_.data(), chars)));
    return true;
  }

  SourceOptions options_;
  Handler& handler_;
  PublisherCache<EVT_HANDLE> publishers_;
  std::vector<std::unique_ptr<Channel>> channels_;
  HANDLE stop_event_ = nullptr;
  std::atomic<bool> stopping_{false};
  SourceStats stats_;
  std::string last_error_;
  XmlEventDecoder decoder_;
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
  if (channels.size() >= MAXIMUM_WAIT_OBJECTS) {
    error = "the eventlog source can watch at most " + std::to_string(MAXIMUM_WAIT_OBJECTS - 1) +
            " channels; split them over several sources";
    return nullptr;
  }
  auto source = std::make_unique<WinEventLogSource>(options, handler);
  std::vector<std::string> problems;
  std::size_t subscribed = 0;
  for (ChannelConfig& channel : channels) {
    std::string problem;
    if (source->add(std::move(channel), problem)) {
      ++subscribed;
    } else {
      problems.push_back(problem);
    }
  }
  if (subscribed == 0) {
    error = "no channel could be subscribed";
    for (const std::string& p : problems) error += "; " + p;
    return nullptr;
  }
  return source;
}

}  // namespace sw::eventlog
