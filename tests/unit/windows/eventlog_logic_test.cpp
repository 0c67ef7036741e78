// The portable decisions of the Windows Event Log source: query building, bookmarks, gap
// detection, error texts, recovery choices and the publisher metadata cache.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sessionwatch/eventlog.hpp"

namespace sw::eventlog {
namespace {

TEST(WinEventLogQuery, MergesConsecutiveIdsIntoRanges) {
  const std::vector<std::uint32_t> ids{4625, 4624, 4634, 4800, 4801, 4802, 4624, 7063};
  const std::vector<EventIdRange> expected{{4624, 4625}, {4634, 4634}, {4800, 4802}, {7063, 7063}};
  EXPECT_EQ(merge_event_ids(ids), expected);
}

TEST(WinEventLogQuery, NoIdsMeansEveryEvent) {
  const SubscriptionQuery q = build_subscription_query("Security", {}, "");
  EXPECT_EQ(q.channel, "Security");
  EXPECT_EQ(q.xpath, "*");
  EXPECT_TRUE(q.fallback_reason.empty());
  EXPECT_TRUE(q.accepts(1));
  EXPECT_TRUE(q.accepts(4624));
}

TEST(WinEventLogQuery, IdsBecomeAnXPathFilterWithRanges) {
  const std::vector<std::uint32_t> ids{4624, 4625, 4778};
  const SubscriptionQuery q = build_subscription_query(
      "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", ids, "");
  EXPECT_EQ(q.xpath, "*[System[(EventID>=4624 and EventID<=4625) or EventID=4778]]");
  EXPECT_TRUE(q.fallback_reason.empty());
  // Windows filters; the agent keeps everything it is given.
  EXPECT_TRUE(q.agent_filter.empty());
}

TEST(WinEventLogQuery, AFilteredQueryStillHearsTheLogBeingCleared) {
  const std::vector<std::uint32_t> ids{4624, 4625};
  const SubscriptionQuery security = build_subscription_query("Security", ids, "");
  EXPECT_EQ(security.xpath, "*[System[EventID=1102 or (EventID>=4624 and EventID<=4625)]]");
  const SubscriptionQuery system = build_subscription_query("system", ids, "");
  EXPECT_EQ(system.xpath, "*[System[EventID=104 or (EventID>=4624 and EventID<=4625)]]");
  // Unfiltered, nothing is added.
  EXPECT_EQ(build_subscription_query("Security", {}, "").xpath, "*");
  // Filtered in the agent (the user's query): the log-cleared event is kept there too.
  const SubscriptionQuery user = build_subscription_query("Security", ids, "*[System[Level<=3]]");
  EXPECT_TRUE(user.accepts(1102));
  EXPECT_FALSE(user.accepts(4634));
  EXPECT_EQ(log_cleared_event_id("Application"), std::nullopt);
}

TEST(WinEventLogQuery, TooManyClausesFallBackToWildcardAndAgentFilter) {
  std::vector<std::uint32_t> ids;
  for (std::uint32_t i = 0; i < 22; ++i) ids.push_back(1000 + 2 * i);  // 22 separate clauses
  const SubscriptionQuery q = build_subscription_query("Application", ids, "");
  EXPECT_EQ(q.xpath, "*");
  EXPECT_NE(q.fallback_reason.find("22 event id clauses"), std::string::npos) << q.fallback_reason;
  EXPECT_TRUE(q.accepts(1000));
  EXPECT_TRUE(q.accepts(1042));
  EXPECT_FALSE(q.accepts(1001));
  EXPECT_FALSE(q.accepts(7063));
}

TEST(WinEventLogQuery, TwentyOneClausesStillFit) {
  std::vector<std::uint32_t> ids;
  for (std::uint32_t i = 0; i < 21; ++i) ids.push_back(1000 + 2 * i);
  const SubscriptionQuery q = build_subscription_query("Application", ids, "");
  EXPECT_NE(q.xpath, "*");
  EXPECT_TRUE(q.fallback_reason.empty());
}

TEST(WinEventLogQuery, OverlongQueryFallsBack) {
  const std::vector<std::uint32_t> ids{1, 3, 5};
  QueryLimits limits;
  limits.max_length = 30;
  const SubscriptionQuery q = build_subscription_query("Application", ids, "", limits);
  EXPECT_EQ(q.xpath, "*");
  EXPECT_NE(q.fallback_reason.find("characters"), std::string::npos) << q.fallback_reason;
  EXPECT_TRUE(q.accepts(3));
  EXPECT_FALSE(q.accepts(2));
}

TEST(WinEventLogQuery, UserQueryIsUsedAsGivenAndIdsFilteredInAgent) {
  const std::vector<std::uint32_t> ids{4624};
  const SubscriptionQuery q =
      build_subscription_query("Security", ids, "*[System[Level<=3]]", QueryLimits{});
  EXPECT_EQ(q.xpath, "*[System[Level<=3]]");
  EXPECT_TRUE(q.accepts(4624));
  EXPECT_FALSE(q.accepts(4625));
}

TEST(WinBookmark, RoundTripsThroughXml) {
  const BookmarkPosition position{
      "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", 4711};
  const std::string xml = make_bookmark_xml(position);
  EXPECT_EQ(xml,
            "<BookmarkList><Bookmark Channel=\"Microsoft-Windows-TerminalServices-"
            "LocalSessionManager/Operational\" RecordId=\"4711\" IsCurrent=\"true\"/>"
            "</BookmarkList>");
  const auto parsed = parse_bookmark(xml);
  ASSERT_TRUE(parsed.has_value());
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(parsed->front(), position);
}

TEST(WinBookmark, EscapesChannelNamesThatAreNotPlainXml) {
  const BookmarkPosition position{"Odd \"Channel\" <&>", 1};
  const std::string xml = make_bookmark_xml(position);
  EXPECT_NE(xml.find("&amp;"), std::string::npos) << xml;
  const auto parsed = parse_bookmark(xml);
  ASSERT_TRUE(parsed.has_value());
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(parsed->front(), position);
}

TEST(WinBookmark, ReadsWindowsRenderedBookmarksWithSeveralChannels) {
  // EvtRender(EvtRenderBookmark) output shape: single quotes, line breaks.
  const std::string xml =
      "<BookmarkList>\r\n  <Bookmark Channel='Security' RecordId='123456' IsCurrent='true'/>\r\n"
      "  <Bookmark Channel='System' RecordId='98'/>\r\n</BookmarkList>";
  EXPECT_EQ(bookmark_record_id(xml, "Security"), 123456u);
  EXPECT_EQ(bookmark_record_id(xml, "SYSTEM"), 98u);
  EXPECT_EQ(bookmark_record_id(xml, "Application"), std::nullopt);
}

TEST(WinBookmark, RejectsWhatIsNotABookmark) {
  EXPECT_FALSE(parse_bookmark("").has_value());
  EXPECT_FALSE(parse_bookmark("<Events/>").has_value());
  EXPECT_FALSE(parse_bookmark("<BookmarkList><Bookmark Channel='S' RecordId='x'/></BookmarkList>")
                   .has_value());
  EXPECT_FALSE(parse_bookmark("<BookmarkList><Bookmark RecordId='5'/></BookmarkList>").has_value());
  EXPECT_FALSE(parse_bookmark("<BookmarkList><Bookmark").has_value());
  // An empty list is a valid bookmark (a fresh EvtCreateBookmark(NULL) renders it).
  const auto empty = parse_bookmark("<BookmarkList/>");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(WinRecordSequence, ReportsForwardGapsWithTheMissingRange) {
  RecordSequence sequence("Security", 100);
  EXPECT_FALSE(sequence.observe(101).has_value());
  EXPECT_FALSE(sequence.observe(102).has_value());
  const auto gap = sequence.observe(110);
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->cause, GapCause::kRecordIdGap);
  EXPECT_EQ(gap->channel, "Security");
  EXPECT_EQ(gap->first_missing, 103u);
  EXPECT_EQ(gap->last_missing, 109u);
  EXPECT_FALSE(sequence.observe(111).has_value());
}

TEST(WinRecordSequence, ReportsRecordIdsGoingBackwards) {
  RecordSequence sequence("System");
  EXPECT_FALSE(sequence.observe(5000).has_value());
  const auto gap = sequence.observe(1);
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->cause, GapCause::kRecordIdReset);
  EXPECT_EQ(to_string(gap->cause), "record_id_reset");
}

TEST(WinRecordSequence, IgnoresUnknownIdsAndAcceptsAnyIdAfterRestart) {
  RecordSequence sequence("Security", 10);
  EXPECT_FALSE(sequence.observe(0).has_value());
  EXPECT_EQ(sequence.last(), 10u);
  sequence.restart();
  EXPECT_FALSE(sequence.observe(900).has_value());
  EXPECT_EQ(sequence.last(), 900u);
}

Event make_event(std::string_view provider, std::string_view channel, std::uint32_t id) {
  Event e;
  e.set_provider_name(provider);
  e.set_channel(channel);
  e.set_computer("WS01.corp.example");
  e.event_id = id;
  e.record_id = 77;
  return e;
}

TEST(WinGapEvents, SecurityLogClearedIsAGap) {
  Event e = make_event("Microsoft-Windows-Eventlog", "Security", 1102);
  e.add_field("SubjectUserName", "alice", FieldOrigin::kUserData);
  e.add_field("SubjectDomainName", "CORP", FieldOrigin::kUserData);
  const auto gap = gap_from_event(e);
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->cause, GapCause::kLogCleared);
  EXPECT_EQ(gap->channel, "Security");
  EXPECT_NE(gap->detail.find("CORP\\alice"), std::string::npos) << gap->detail;
  EXPECT_NE(gap->detail.find("WS01.corp.example"), std::string::npos) << gap->detail;
}

TEST(WinGapEvents, System104NamesTheClearedChannel) {
  Event e = make_event("Microsoft-Windows-Eventlog", "System", 104);
  e.add_field("Channel", "Application", FieldOrigin::kUserData);
  const auto gap = gap_from_event(e);
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->channel, "Application");
  EXPECT_NE(gap->detail.find("the Application log was cleared"), std::string::npos) << gap->detail;
}

TEST(WinGapEvents, SameIdsFromOtherPublishersAreNotGaps) {
  EXPECT_FALSE(gap_from_event(make_event("MyApp", "System", 104)).has_value());
  EXPECT_FALSE(
      gap_from_event(make_event("Microsoft-Windows-Eventlog", "Application", 1102)).has_value());
  EXPECT_FALSE(
      gap_from_event(make_event("Microsoft-Windows-Eventlog", "Security", 4624)).has_value());
}

TEST(WinEventLogErrors, AccessDeniedNamesTheGroupToJoin) {
  const std::string text = describe_error(win32::kAccessDenied, "Security", "");
  EXPECT_NE(text.find("channel 'Security'"), std::string::npos) << text;
  EXPECT_NE(text.find("Event Log Readers"), std::string::npos) << text;
  // That right can clear the log and edit SACLs; Event Log Readers suffices (issue 14, item 7).
  EXPECT_NE(text.find("do not grant 'Manage auditing"), std::string::npos) << text;
}

TEST(WinEventLogErrors, InvalidQueryCarriesTheExtendedStatus) {
  const std::string text =
      describe_error(win32::kEvtInvalidQuery, "System", "The specified query is invalid.",
                     "The specified query is invalid.");
  EXPECT_NE(text.find("refused by Windows"), std::string::npos) << text;
  EXPECT_NE(text.find(": The specified query is invalid."), std::string::npos) << text;
}

TEST(WinEventLogErrors, ChannelNotFoundAndUnknownCodes) {
  EXPECT_NE(
      describe_error(win32::kEvtChannelNotFound, "Nope/Operational", "").find("does not exist"),
      std::string::npos);
  EXPECT_NE(describe_error(424242, "", "").find("event log error 424242 on the event log"),
            std::string::npos);
}

TEST(WinEventLogRecovery, StaleBookmarkResumesFromOldest) {
  for (const std::uint32_t code :
       {win32::kNotFound, win32::kEvtQueryResultStale, win32::kEvtQueryResultInvalidPosition}) {
    EXPECT_EQ(recovery_for({code, /*had_bookmark=*/true, false, false}), Recovery::kFromOldest)
        << code;
  }
}

TEST(WinEventLogRecovery, RefusedGeneratedQueryFallsBackOnceThenGivesUp) {
  EXPECT_EQ(recovery_for({win32::kEvtFilterTooComplex, false, /*generated=*/true, false}),
            Recovery::kWildcardQuery);
  EXPECT_EQ(recovery_for({win32::kEvtInvalidQuery, false, true, /*wildcard=*/true}),
            Recovery::kGiveUp);
  // A user's query is reported, not silently replaced.
  EXPECT_EQ(recovery_for({win32::kEvtInvalidQuery, false, /*generated=*/false, false}),
            Recovery::kGiveUp);
}

TEST(WinEventLogRecovery, ServiceOutagesRetryConfigurationErrorsDoNot) {
  EXPECT_EQ(recovery_for({win32::kRpcServerUnavailable, true, true, false}), Recovery::kRetryLater);
  EXPECT_EQ(recovery_for({win32::kAccessDenied, true, true, false}), Recovery::kGiveUp);
  EXPECT_EQ(recovery_for({win32::kEvtChannelNotFound, false, true, false}), Recovery::kGiveUp);
}

TEST(WinPublisherCache, OpensEachPublisherOnceAndRemembersMissingOnes) {
  std::map<std::string, int> opened;
  std::vector<int> closed;
  int next_handle = 1;
  {
    PublisherCache<int> cache(
        8,
        [&](std::string_view name) -> std::optional<int> {
          ++opened[std::string(name)];
          if (name == "NoMetadata") return std::nullopt;
          return next_handle++;
        },
        [&](int h) { closed.push_back(h); });
    EXPECT_EQ(cache.get("Microsoft-Windows-Security-Auditing"), 1);
    EXPECT_EQ(cache.get("Microsoft-Windows-Security-Auditing"), 1);
    EXPECT_EQ(cache.get("NoMetadata"), std::nullopt);
    EXPECT_EQ(cache.get("NoMetadata"), std::nullopt);
    EXPECT_EQ(opened["Microsoft-Windows-Security-Auditing"], 1);
    EXPECT_EQ(opened["NoMetadata"], 1);
    EXPECT_EQ(cache.opens(), 2u);
  }
  EXPECT_EQ(closed, std::vector<int>{1});  // the missing one had nothing to close
}

TEST(WinPublisherCache, AsksAgainForAMissingPublisherAfterTheRetryTime) {
  bool installed = false;
  PublisherCache<int> cache(
      8,
      [&](std::string_view) -> std::optional<int> {
        return installed ? std::optional(7) : std::nullopt;
      },
      [](int) {}, std::chrono::minutes(10));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(cache.get("Late-Publisher", t0), std::nullopt);
  installed = true;
  EXPECT_EQ(cache.get("Late-Publisher", t0 + std::chrono::minutes(9)), std::nullopt);
  EXPECT_EQ(cache.get("Late-Publisher", t0 + std::chrono::minutes(10)), 7);
  EXPECT_EQ(cache.opens(), 2u);
}

TEST(WinPublisherCache, EvictsTheLeastRecentlyUsed) {
  std::vector<int> closed;
  int next_handle = 1;
  PublisherCache<int> cache(
      2, [&](std::string_view) -> std::optional<int> { return next_handle++; },
      [&](int h) { closed.push_back(h); });
  cache.get("A");  // 1
  cache.get("B");  // 2
  cache.get("A");  // A is now the most recent
  cache.get("C");  // 3, evicts B
  EXPECT_EQ(closed, std::vector<int>{2});
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.get("A"), 1);
  EXPECT_EQ(cache.get("B"), 4);  // reopened
}

}  // namespace
}  // namespace sw::eventlog
