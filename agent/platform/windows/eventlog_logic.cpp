// The portable decisions of the Event Log source (see sessionwatch/eventlog.hpp). No Windows
// headers here: this file is compiled and tested on every platform.
#include <pugixml.hpp>

#include <algorithm>
#include <string>

#include "sessionwatch/eventlog.hpp"
#include "sessionwatch/text.hpp"

namespace sw::eventlog {
namespace {

using text::iequals;

std::string clause(const EventIdRange& r) {
  if (r.first == r.last) return "EventID=" + std::to_string(r.first);
  return "(EventID>=" + std::to_string(r.first) + " and EventID<=" + std::to_string(r.last) + ")";
}

// Element names of bookmark XML are matched without a namespace prefix.
std::string_view local_name(const char* name) {
  std::string_view n(name);
  const auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

}  // namespace

std::vector<EventIdRange> merge_event_ids(std::span<const std::uint32_t> ids) {
  std::vector<std::uint32_t> sorted(ids.begin(), ids.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<EventIdRange> ranges;
  for (const std::uint32_t id : sorted) {
    if (!ranges.empty() && ranges.back().last + 1 == id) {
      ranges.back().last = id;
    } else {
      ranges.push_back({id, id});
    }
  }
  return ranges;
}

bool same_channel(std::string_view a, std::string_view b) {
  return iequals(a, b);
}

std::optional<std::uint32_t> log_cleared_event_id(std::string_view channel) {
  if (iequals(channel, "Security")) return 1102;
  if (iequals(channel, "System")) return 104;
  return std::nullopt;
}

SubscriptionQuery build_subscription_query(std::string_view channel,
                                           std::span<const std::uint32_t> wanted_ids,
                                           std::string_view user_query, const QueryLimits& limits) {
  SubscriptionQuery q;
  q.channel = std::string(channel);
  // A filtered channel cannot show record-id gaps; the event saying the log was cleared must
  // still come through.
  std::vector<std::uint32_t> with_cleared(wanted_ids.begin(), wanted_ids.end());
  if (const auto cleared = log_cleared_event_id(channel); cleared && !with_cleared.empty()) {
    with_cleared.push_back(*cleared);
  }
  const std::span<const std::uint32_t> event_ids(with_cleared);
  if (!user_query.empty()) {
    // The user's query is theirs to get right; the rules' ids are still enforced here.
    q.xpath = std::string(user_query);
    q.agent_filter.insert(event_ids.begin(), event_ids.end());
    return q;
  }
  const std::vector<EventIdRange> ranges = merge_event_ids(event_ids);
  if (ranges.empty()) {
    q.xpath = "*";
    return q;
  }
  std::string xpath = "*[System[";
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (i > 0) xpath += " or ";
    xpath += clause(ranges[i]);
  }
  xpath += "]]";
  if (ranges.size() > limits.max_clauses) {
    q.fallback_reason = std::to_string(ranges.size()) + " event id clauses exceed the limit of " +
                        std::to_string(limits.max_clauses) +
                        " Windows accepts; reading every event and filtering in the agent";
  } else if (xpath.size() > limits.max_length) {
    q.fallback_reason = "the event id query is " + std::to_string(xpath.size()) +
                        " characters, over the limit of " + std::to_string(limits.max_length) +
                        "; reading every event and filtering in the agent";
  }
  if (q.fallback_reason.empty()) {
    q.xpath = std::move(xpath);
  } else {
    q.xpath = "*";
    q.agent_filter.insert(event_ids.begin(), event_ids.end());
  }
  return q;
}

std::optional<std::vector<BookmarkPosition>> parse_bookmark(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8)) {
    return std::nullopt;
  }
  const pugi::xml_node root = doc.document_element();
  if (!root || local_name(root.name()) != "BookmarkList") return std::nullopt;
  std::vector<BookmarkPosition> positions;
  for (const pugi::xml_node node : root.children()) {
    if (node.type() != pugi::node_element || local_name(node.name()) != "Bookmark") continue;
    const pugi::xml_attribute channel = node.attribute("Channel");
    const pugi::xml_attribute record = node.attribute("RecordId");
    if (!channel || !record || channel.value()[0] == '\0') return std::nullopt;
    const std::optional<std::uint64_t> id = parse_uint(record.value());
    if (!id) return std::nullopt;
    positions.push_back({channel.value(), *id});
  }
  return positions;
}

std::string make_bookmark_xml(const BookmarkPosition& position) {
  pugi::xml_document doc;
  pugi::xml_node bookmark = doc.append_child("BookmarkList").append_child("Bookmark");
  bookmark.append_attribute("Channel").set_value(position.channel.c_str());
  bookmark.append_attribute("RecordId").set_value(std::to_string(position.record_id).c_str());
  bookmark.append_attribute("IsCurrent").set_value("true");
  struct Writer : pugi::xml_writer {
    std::string text;
    void write(const void* data, std::size_t size) override {
      text.append(static_cast<const char*>(data), size);
    }
  } writer;
  doc.document_element().print(writer, "", pugi::format_raw);
  return std::move(writer.text);
}

std::optional<std::uint64_t> bookmark_record_id(std::string_view xml, std::string_view channel) {
  const auto positions = parse_bookmark(xml);
  if (!positions) return std::nullopt;
  for (const BookmarkPosition& p : *positions) {
    if (iequals(p.channel, channel)) return p.record_id;
  }
  return std::nullopt;
}

std::string_view to_string(GapCause cause) {
  switch (cause) {
    case GapCause::kRecordIdGap:
      return "record_id_gap";
    case GapCause::kRecordIdReset:
      return "record_id_reset";
    case GapCause::kStaleBookmark:
      return "stale_bookmark";
    case GapCause::kStaleBookmarkArchived:
      return "stale_bookmark_archived";
    case GapCause::kLogCleared:
      return "log_cleared";
    case GapCause::kEventLogUnavailable:
      return "eventlog_unavailable";
    case GapCause::kChannelUnreadable:
      return "channel_unreadable";
  }
  return "unknown";
}

std::optional<CollectionGap> RecordSequence::observe(std::uint64_t record_id) {
  if (record_id == 0) return std::nullopt;
  const std::uint64_t previous = last_;
  last_ = record_id;
  if (previous == 0 || record_id == previous + 1) return std::nullopt;
  CollectionGap gap;
  gap.channel = channel_;
  if (record_id > previous) {
    gap.cause = GapCause::kRecordIdGap;
    gap.first_missing = previous + 1;
    gap.last_missing = record_id - 1;
    gap.detail = "record ids " + std::to_string(gap.first_missing) + " to " +
                 std::to_string(gap.last_missing) + " of channel " + channel_ +
                 " were never delivered";
  } else {
    gap.cause = GapCause::kRecordIdReset;
    gap.detail = "record ids of channel " + channel_ + " went back from " +
                 std::to_string(previous) + " to " + std::to_string(record_id) +
                 " (the log was recreated); events after " + std::to_string(previous) +
                 " may be lost";
  }
  return gap;
}

std::optional<CollectionGap> gap_from_event(const Event& event) {
  const std::string_view provider = event.provider_name();
  // Both are written by the Event Log service itself; other publishers reuse these ids.
  const bool eventlog_provider =
      iequals(provider, "Microsoft-Windows-Eventlog") || iequals(provider, "Eventlog");
  if (!eventlog_provider) return std::nullopt;
  const bool security_cleared = event.event_id == 1102 && iequals(event.channel(), "Security");
  const bool log_cleared = event.event_id == 104 && iequals(event.channel(), "System");
  if (!security_cleared && !log_cleared) return std::nullopt;
  CollectionGap gap;
  gap.cause = GapCause::kLogCleared;
  gap.channel = std::string(event.channel());
  std::string cleared_channel = gap.channel;
  if (log_cleared) {
    // System 104 names the cleared log in its payload (Channel, or BackupPath's log).
    if (auto c = event.payload("Channel")) cleared_channel = std::string(*c);
    gap.channel = cleared_channel;
  }
  std::string who;
  const auto user = event.payload("SubjectUserName");
  const auto domain = event.payload("SubjectDomainName");
  if (user && !user->empty()) {
    who = domain && !domain->empty() ? std::string(*domain) + "\\" + std::string(*user)
                                     : std::string(*user);
  }
  gap.detail = "the " + cleared_channel + " log was cleared" + (who.empty() ? "" : " by " + who) +
               " on " + std::string(event.computer()) + "; events recorded before record " +
               std::to_string(event.record_id) + " that were not yet collected are lost";
  return gap;
}

std::string describe_error(std::uint32_t code, std::string_view channel, std::string_view extended,
                           std::string_view system_text) {
  const std::string where =
      channel.empty() ? std::string("the event log") : "channel '" + std::string(channel) + "'";
  std::string text;
  switch (code) {
    case win32::kAccessDenied:
      text = "access denied reading " + where +
             ": the service account must be a member of the local 'Event Log Readers' group "
             "(S-1-5-32-573; enough for the Security log too: do not grant 'Manage auditing and "
             "security log', which can clear the log); restart the service after adding it";
      break;
    case win32::kEvtChannelNotFound:
    case win32::kEvtInvalidChannelPath:
      text = where +
             " does not exist on this computer (check the name with "
             "'wevtutil el'; some channels appear only once their role or feature is "
             "installed)";
      break;
    case win32::kEvtInvalidQuery:
    case win32::kEvtFilterTooComplex:
      text = "the query for " + where + " was refused by Windows";
      break;
    case win32::kNotFound:
    case win32::kEvtQueryResultStale:
    case win32::kEvtQueryResultInvalidPosition:
      text = "the saved position in " + where +
             " no longer exists (the log was cleared or wrapped); resuming from the oldest "
             "record";
      break;
    case win32::kRpcServerUnavailable:
    case win32::kRpcCallCancelled:
    case win32::kInvalidHandle:
      text = "the Windows Event Log service is not available for " + where +
             " (restarting?); will resubscribe";
      break;
    case win32::kEvtPublisherMetadataNotFound:
    case win32::kEvtMessageNotFound:
    case win32::kEvtMessageIdNotFound:
    case win32::kEvtMessageLocaleNotFound:
    case win32::kEvtUnresolvedValueInsert:
      text = "the message of an event in " + where +
             " cannot be rendered (publisher message table missing); the event is kept "
             "without it";
      break;
    default:
      text = "event log error " + std::to_string(code) + " on " + where;
      break;
  }
  if (!system_text.empty()) text += " [" + std::string(system_text) + "]";
  if (!extended.empty()) text += ": " + std::string(extended);
  return text;
}

Recovery recovery_for(const SubscribeFailure& failure) {
  switch (failure.code) {
    case win32::kNotFound:
    case win32::kEvtQueryResultStale:
    case win32::kEvtQueryResultInvalidPosition:
      return failure.had_bookmark ? Recovery::kFromOldest : Recovery::kRetryLater;
    case win32::kEvtInvalidQuery:
    case win32::kEvtFilterTooComplex:
      return failure.generated_query && !failure.wildcard_query ? Recovery::kWildcardQuery
                                                                : Recovery::kGiveUp;
    case win32::kRpcServerUnavailable:
    case win32::kRpcCallCancelled:
    case win32::kInvalidHandle:
    case win32::kTimeout:
      return Recovery::kRetryLater;
    default:
      return Recovery::kGiveUp;
  }
}

}  // namespace sw::eventlog
