// The simulated Event Log against what Windows documents and what peers' bug trackers report:
// the agent's tests through it mean something only if it behaves like the real one.
#include <windows.h>
#include <winevt.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "evtsim/sim_fixture.hpp"

namespace evtsim {
namespace {

std::string narrow(const std::wstring& w) {
  return std::string(w.begin(), w.end());
}

std::string render(EVT_HANDLE h, DWORD flags) {
  DWORD used = 0, props = 0;
  EvtRender(nullptr, h, flags, 0, nullptr, &used, &props);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
  std::wstring text(used / sizeof(wchar_t), L'\0');
  EXPECT_TRUE(EvtRender(nullptr, h, flags, used, text.data(), &used, &props));
  text.resize(used / sizeof(wchar_t) - 1);
  return narrow(text);
}

std::uint64_t record_id(const std::string& xml) {
  const auto at = xml.find("<EventRecordID>");
  return at == std::string::npos ? 0 : std::stoull(xml.substr(at + 15));
}

// A pull subscription with its signal event.
struct Subscription {
  HANDLE signal = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  EVT_HANDLE handle = nullptr;
  DWORD error = 0;

  Subscription(const std::string& channel, DWORD flags, EVT_HANDLE bookmark = nullptr,
               const std::wstring& query = L"*") {
    handle = EvtSubscribe(nullptr, signal, std::wstring(channel.begin(), channel.end()).c_str(),
                          query.c_str(), bookmark, nullptr, nullptr, flags);
    if (handle == nullptr) error = GetLastError();
  }
  ~Subscription() {
    if (handle != nullptr) EvtClose(handle);
    CloseHandle(signal);
  }
  bool signalled(DWORD ms = 0) const { return WaitForSingleObject(signal, ms) == WAIT_OBJECT_0; }

  // EvtNext: the record ids rendered, or the error in `error`.
  std::vector<std::uint64_t> next(DWORD count, EVT_HANDLE bookmark = nullptr,
                                  std::vector<std::string>* xml = nullptr) {
    std::vector<EVT_HANDLE> events(count);
    DWORD returned = 0;
    std::vector<std::uint64_t> ids;
    error = 0;
    if (!EvtNext(handle, count, events.data(), 0, 0, &returned)) {
      error = GetLastError();
      EXPECT_EQ(returned, 0u);
      return ids;
    }
    for (DWORD i = 0; i < returned; ++i) {
      const std::string text = render(events[i], EvtRenderEventXml);
      ids.push_back(record_id(text));
      if (xml != nullptr) xml->push_back(text);
      if (bookmark != nullptr) {
        EXPECT_TRUE(EvtUpdateBookmark(bookmark, events[i]));
      }
      EvtClose(events[i]);
    }
    return ids;
  }
};

using Ids = std::vector<std::uint64_t>;

TEST(Evtsim, OldestRecordFirstThenIdleFailsWithInvalidOperation) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 3));
  Subscription sub("Security", EvtSubscribeStartAtOldestRecord);
  ASSERT_NE(sub.handle, nullptr) << sub.error;
  EXPECT_TRUE(sub.signalled()) << "events are waiting: the signal is set at once";
  EXPECT_EQ(sub.next(10), (Ids{1, 2, 3}));
  EXPECT_EQ(sub.next(10), Ids{});
  EXPECT_EQ(sub.error, static_cast<DWORD>(ERROR_INVALID_OPERATION));
}

TEST(Evtsim, IdleErrorIsTunable) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 1));
  dir.behave("Security", "idle_error=259");
  Subscription sub("Security", EvtSubscribeToFutureEvents);
  EXPECT_FALSE(sub.signalled());
  EXPECT_EQ(sub.next(10), Ids{});
  EXPECT_EQ(sub.error, static_cast<DWORD>(ERROR_NO_MORE_ITEMS));
}

TEST(Evtsim, AppendedLinesAreNewEventsAndSetTheSignal) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 3));
  Subscription sub("Security", EvtSubscribeToFutureEvents);
  EXPECT_FALSE(sub.signalled());
  dir.append("Security", SimDir::events("Security", 4, 2));
  EXPECT_TRUE(sub.signalled(10'000));
  EXPECT_EQ(sub.next(10), (Ids{4, 5}));
}

TEST(Evtsim, RecordIdsAreTheLogsNotTheLines) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 900, 2));  // ids in the lines are ignored
  dir.behave("Security", "first_record_id=41");
  Subscription sub("Security", EvtSubscribeStartAtOldestRecord);
  EXPECT_EQ(sub.next(10), (Ids{41, 42}));
}

TEST(Evtsim, BookmarkRendersAndResumesAfterItsRecord) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 5));
  EVT_HANDLE bookmark = EvtCreateBookmark(nullptr);
  {
    Subscription sub("Security", EvtSubscribeStartAtOldestRecord);
    EXPECT_EQ(sub.next(2, bookmark), (Ids{1, 2}));
  }
  const std::string xml = render(bookmark, EvtRenderBookmark);
  EXPECT_NE(xml.find("<Bookmark Channel='Security' RecordId='2' IsCurrent='true'/>"),
            std::string::npos)
      << xml;
  EvtClose(bookmark);
  EVT_HANDLE saved = EvtCreateBookmark(std::wstring(xml.begin(), xml.end()).c_str());
  ASSERT_NE(saved, nullptr);
  Subscription resumed("Security", EvtSubscribeStartAfterBookmark | EvtSubscribeStrict, saved);
  ASSERT_NE(resumed.handle, nullptr) << resumed.error;
  EXPECT_EQ(resumed.next(10), (Ids{3, 4, 5}));
  EvtClose(saved);
  EXPECT_EQ(EvtCreateBookmark(L"not a bookmark"), nullptr);
}

TEST(Evtsim, ClearedLogMakesTheBookmarkStale) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 10));
  EVT_HANDLE bookmark = EvtCreateBookmark(
      L"<BookmarkList><Bookmark Channel='Security' "
      L"RecordId='8' IsCurrent='true'/></BookmarkList>");
  dir.write("Security", SimDir::events("Security", 1, 2));  // cleared, two new events
  Subscription strict("Security", EvtSubscribeStartAfterBookmark | EvtSubscribeStrict, bookmark);
  EXPECT_EQ(strict.handle, nullptr);
  EXPECT_EQ(strict.error, static_cast<DWORD>(ERROR_NOT_FOUND));
  Subscription lenient("Security", EvtSubscribeStartAfterBookmark, bookmark);
  ASSERT_NE(lenient.handle, nullptr);
  EXPECT_EQ(lenient.next(10), (Ids{1, 2})) << "without Strict: from the oldest record";
  EvtClose(bookmark);
}

TEST(Evtsim, LogClearedUnderASubscriptionFailsItsNextWithStale) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 3));
  Subscription sub("Security", EvtSubscribeStartAtOldestRecord);
  EXPECT_EQ(sub.next(10), (Ids{1, 2, 3}));
  ResetEvent(sub.signal);
  dir.write("Security", SimDir::events("Security", 1, 1));
  EXPECT_TRUE(sub.signalled(10'000));
  EXPECT_EQ(sub.next(10), Ids{});
  EXPECT_EQ(sub.error, static_cast<DWORD>(ERROR_EVT_QUERY_RESULT_STALE));
}

TEST(Evtsim, WrappedLogKeepsOnlyItsNewestRecords) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 10));
  dir.behave("Security", "max_records=4");
  Subscription sub("Security", EvtSubscribeStartAtOldestRecord);
  EXPECT_EQ(sub.next(10), (Ids{7, 8, 9, 10}));
  EVT_HANDLE old = EvtCreateBookmark(
      L"<BookmarkList><Bookmark Channel='Security' RecordId='3' "
      L"IsCurrent='true'/></BookmarkList>");
  Subscription strict("Security", EvtSubscribeStartAfterBookmark | EvtSubscribeStrict, old);
  EXPECT_EQ(strict.error, static_cast<DWORD>(ERROR_NOT_FOUND));
  EvtClose(old);
}

TEST(Evtsim, ChannelConfigSaysWhetherAFullLogIsArchived) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 1));
  dir.behave("Security", "auto_backup=1");
  EVT_HANDLE config = EvtOpenChannelConfig(nullptr, L"Security", 0);
  ASSERT_NE(config, nullptr);
  alignas(EVT_VARIANT) BYTE buffer[512];
  auto* value = reinterpret_cast<EVT_VARIANT*>(buffer);
  DWORD used = 0;
  ASSERT_TRUE(EvtGetChannelConfigProperty(config, EvtChannelLoggingConfigAutoBackup, 0,
                                          sizeof buffer, value, &used));
  EXPECT_EQ(value->Type, static_cast<DWORD>(EvtVarTypeBoolean));
  EXPECT_TRUE(value->BooleanVal);
  ASSERT_TRUE(EvtGetChannelConfigProperty(config, EvtChannelLoggingConfigLogFilePath, 0,
                                          sizeof buffer, value, &used));
  EXPECT_EQ(narrow(value->StringVal), "%SystemRoot%\\System32\\Winevt\\Logs\\Security.evtx");
  EvtClose(config);
}

TEST(Evtsim, ReplyOverTheRpcLimitFailsAndStillMovesOn) {
  SimDir dir;
  EventSpec big;
  big.padding = std::string(1000, 'x');
  dir.write("Security", SimDir::events("Security", 1, 20, big));
  dir.behave("Security", "rpc_batch_bytes=8192");
  Subscription sub("Security", EvtSubscribeStartAtOldestRecord);
  EXPECT_EQ(sub.next(10), Ids{});
  EXPECT_EQ(sub.error, static_cast<DWORD>(RPC_S_INVALID_BOUND));
  EXPECT_EQ(sub.next(2), (Ids{11, 12})) << "records 1-10 were consumed by the failed reply";
  EXPECT_EQ(sub.next(1), (Ids{13})) << "a reply under the limit goes through";
}

TEST(Evtsim, InvalidParameterUnderLoadOnceAtTheConfiguredRecord) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 8));
  dir.behave("Security", "invalid_parameter_at=3");
  EVT_HANDLE bookmark = EvtCreateBookmark(nullptr);
  Subscription sub("Security", EvtSubscribeStartAtOldestRecord);
  EXPECT_EQ(sub.next(2, bookmark), (Ids{1, 2}));
  EXPECT_EQ(sub.next(2), Ids{});
  EXPECT_EQ(sub.error, static_cast<DWORD>(ERROR_INVALID_PARAMETER));
  EXPECT_EQ(sub.next(2), (Ids{5, 6}));
  Subscription again("Security", EvtSubscribeStartAfterBookmark | EvtSubscribeStrict, bookmark);
  EXPECT_EQ(again.next(10), (Ids{3, 4, 5, 6, 7, 8})) << "fails once only";
  EvtClose(bookmark);
}

TEST(Evtsim, MissingChannelAndAccessDenied) {
  SimDir dir;
  Subscription missing("Nope", EvtSubscribeToFutureEvents);
  EXPECT_EQ(missing.error, static_cast<DWORD>(ERROR_EVT_CHANNEL_NOT_FOUND));
  dir.write("Security", SimDir::events("Security", 1, 1));
  dir.deny("Security");
  Subscription denied("Security", EvtSubscribeToFutureEvents);
  EXPECT_EQ(denied.error, static_cast<DWORD>(ERROR_ACCESS_DENIED));
  EXPECT_EQ(EvtQuery(nullptr, L"Security", L"*", EvtQueryChannelPath), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
}

TEST(Evtsim, ChannelNamesWithASlashAreFilesWithPercent4) {
  SimDir dir;
  const std::string lsm = "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational";
  dir.write(lsm, SimDir::events(lsm, 1, 2));
  Subscription sub(lsm, EvtSubscribeStartAtOldestRecord);
  ASSERT_NE(sub.handle, nullptr) << sub.error;
  EXPECT_EQ(sub.next(10), (Ids{1, 2}));
}

TEST(Evtsim, ForwardedEventsKeepTheSourcesChannelComputerAndRecordId) {
  SimDir dir;
  EventSpec remote;
  remote.computer = "WS7.corp";
  std::vector<std::string> lines = SimDir::events("Security", 7001, 2, remote);
  dir.write("ForwardedEvents", lines);
  EVT_HANDLE bookmark = EvtCreateBookmark(nullptr);
  Subscription sub("ForwardedEvents", EvtSubscribeStartAtOldestRecord);
  std::vector<std::string> xml;
  EXPECT_EQ(sub.next(10, bookmark, &xml), (Ids{7001, 7002}));
  EXPECT_NE(xml[0].find("<Channel>Security</Channel><Computer>WS7.corp</Computer>"),
            std::string::npos);
  const std::string b = render(bookmark, EvtRenderBookmark);
  EXPECT_NE(b.find("Channel='ForwardedEvents' RecordId='2'"), std::string::npos) << b;
  EvtClose(bookmark);
}

TEST(Evtsim, QueriesFilterByEventIdAndBadQueriesAreExplained) {
  SimDir dir;
  std::vector<std::string> lines;
  for (std::uint32_t id : {4624u, 4688u, 4778u, 4779u, 5156u, 1102u}) {
    EventSpec e;
    e.event_id = id;
    lines.push_back(event_xml(e));
  }
  dir.write("Security", lines);
  Subscription sub("Security", EvtSubscribeStartAtOldestRecord, nullptr,
                   L"*[System[EventID=1102 or EventID=4624 or (EventID>=4778 and "
                   L"EventID<=4779)]]");
  ASSERT_NE(sub.handle, nullptr) << sub.error;
  EXPECT_EQ(sub.next(10), (Ids{1, 3, 4, 6}));
  Subscription bad("Security", EvtSubscribeStartAtOldestRecord, nullptr, L"*[System[EventID=]]");
  EXPECT_EQ(bad.error, static_cast<DWORD>(ERROR_EVT_INVALID_QUERY));
  DWORD used = 0;
  EvtGetExtendedStatus(0, nullptr, &used);
  EXPECT_GT(used, 1u) << "EvtGetExtendedStatus explains the refusal";
}

TEST(Evtsim, QueryReadsNewestFirstAndEndsWithNoMoreItems) {
  SimDir dir;
  dir.write("Security", SimDir::events("Security", 1, 3));
  EVT_HANDLE q =
      EvtQuery(nullptr, L"Security", L"*", EvtQueryChannelPath | EvtQueryReverseDirection);
  ASSERT_NE(q, nullptr);
  EVT_HANDLE events[2];
  DWORD returned = 0;
  ASSERT_TRUE(EvtNext(q, 2, events, 0, 0, &returned));
  ASSERT_EQ(returned, 2u);
  EXPECT_EQ(record_id(render(events[0], EvtRenderEventXml)), 3u);
  EvtClose(events[0]);
  EvtClose(events[1]);
  ASSERT_TRUE(EvtNext(q, 2, events, 0, 0, &returned));
  EvtClose(events[0]);
  EXPECT_FALSE(EvtNext(q, 2, events, 0, 0, &returned));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_MORE_ITEMS));
  EvtClose(q);
  EXPECT_FALSE(EvtClose(q));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
}

TEST(Evtsim, MessagesInTheRequestedLanguageOrTheServers) {
  SimDir dir;
  EventSpec e;
  e.data = {{"TargetUserName", "alice"}};
  dir.write("Security", {event_xml(e)});
  dir.file(L"Microsoft-Windows-Security-Auditing.messages",
           "0x407 4624 Ein Konto wurde angemeldet: %1\n0x409 4624 An account was logged on: %1");
  Subscription sub("Security", EvtSubscribeStartAtOldestRecord);
  EVT_HANDLE event = nullptr;
  DWORD returned = 0;
  ASSERT_TRUE(EvtNext(sub.handle, 1, &event, 0, 0, &returned));
  auto format = [&](LCID locale, DWORD& error) {
    error = 0;
    EVT_HANDLE p = EvtOpenPublisherMetadata(nullptr, L"Microsoft-Windows-Security-Auditing",
                                            nullptr, locale, 0);
    EXPECT_NE(p, nullptr);
    wchar_t text[256];
    DWORD used = 0;
    std::string out;
    if (!EvtFormatMessage(p, event, 0, 0, nullptr, EvtFormatMessageEvent, 256, text, &used)) {
      error = GetLastError();
    } else {
      out = narrow(std::wstring(text, used - 1));
    }
    EvtClose(p);
    return out;
  };
  DWORD error = 0;
  EXPECT_EQ(format(0x409, error), "An account was logged on: alice");
  EXPECT_EQ(format(0, error), "Ein Konto wurde angemeldet: alice") << "locale 0: the server's";
  EXPECT_EQ(format(0x40c, error), "");
  EXPECT_EQ(error, static_cast<DWORD>(ERROR_EVT_MESSAGE_LOCALE_NOT_FOUND));
  EXPECT_EQ(EvtOpenPublisherMetadata(nullptr, L"Unknown-Publisher", nullptr, 0, 0), nullptr);
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_EVT_PUBLISHER_METADATA_NOT_FOUND));
  EvtClose(event);
}

}  // namespace
}  // namespace evtsim
