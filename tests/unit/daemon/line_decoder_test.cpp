#include "daemon/inputs/file/line_decoder.hpp"

#include <gtest/gtest.h>

#include "sessionwatch/error_catalog.hpp"

namespace sw::daemon {
namespace {

LineBatch batch_of(const std::vector<std::string>& lines) {
  LineBatch batch;
  batch.path = "/var/log/forwarded/security.jsonl";
  batch.format = InputFormat::kJsonl;
  std::uint64_t number = 0;
  for (const std::string& line : lines) {
    batch.records.push_back({static_cast<std::uint32_t>(batch.data.size()),
                             static_cast<std::uint32_t>(line.size()), ++number});
    batch.data += line;
  }
  return batch;
}

std::string winlogbeat_line(std::string_view event_data) {
  return R"({"@timestamp":"2026-11-20T09:00:00Z","winlog":{"channel":"Application",)"
         R"("provider_name":"Contoso-Tool","event_id":"1001","record_id":"7",)"
         R"("computer_name":"ws-07","event_data":)" +
         std::string(event_data) + "}}";
}

TEST(LineDecoder, LeavesTheErrorSearchToTheThreadWithTimeForIt) {
  // The decoder does not search (the engine's io thread does when detection is the slower side,
  // else the tracker); search_errors gives what the tracker would find.
  FileInputOptions options;
  LineDecoder decoder(options, "relay-host");
  EventBatch out;
  decoder.decode(batch_of({winlogbeat_line(R"({"Win32Status":"7063"})"),
                           winlogbeat_line(R"({"Detail":"nothing wrong"})")}),
                 out);
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_FALSE(out.events[0].found_error.searched);
  search_errors(out);
  const Event::FoundError& refused = out.events[0].found_error;
  EXPECT_TRUE(refused.searched);
  ASSERT_NE(refused.error, nullptr);
  EXPECT_EQ(refused.error->code, 7063u);
  EXPECT_EQ(refused.form, ErrorForm::kDecimal);
  EXPECT_TRUE(out.events[1].found_error.searched);
  EXPECT_EQ(out.events[1].found_error.error, nullptr);
  const Event::FoundError tracker = ErrorCatalog::builtin().first_alerting(out.events[0]);
  EXPECT_EQ(tracker.error, refused.error);
  EXPECT_EQ(tracker.form, refused.form);
}

// Events come from a pool, each holding what the last batch left in it: every format's decoder
// starts from an empty event, so nothing of that carries over.
TEST(LineDecoder, AnEventTakenFromThePoolHoldsOnlyItsOwnRecord) {
  FileInputOptions options;
  LineDecoder decoder(options, "relay-host");
  EventBatch first;
  decoder.decode(batch_of({winlogbeat_line(R"({"Win32Status":"7063","A":"1","B":"2","C":"3"})")}),
                 first);
  ASSERT_EQ(first.events.size(), 1u);
  search_errors(first);
  ASSERT_NE(first.events[0].found_error.error, nullptr);
  const auto reused = [&](LineBatch batch) {
    first.pool->give(std::move(first.events));
    EventBatch next;
    decoder.decode(batch, next);
    EXPECT_EQ(next.events.size(), 1u);
    first.events = std::move(next.events);
    first.pool = next.pool;
    return first.events.empty() ? Event() : first.events[0];
  };
  const Event json = reused(batch_of({winlogbeat_line(R"({"D":"4"})")}));
  ASSERT_EQ(json.fields().size(), 1u);
  EXPECT_EQ(json.value(json.fields()[0]), "4");
  EXPECT_FALSE(json.found_error.searched);
  LineBatch xml =
      batch_of({"<Event><System><EventID>4624</EventID><Computer>dc-1</Computer>"
                "</System></Event>"});
  xml.format = InputFormat::kXml;
  const Event from_xml = reused(xml);
  EXPECT_EQ(from_xml.event_id, 4624u);
  EXPECT_EQ(from_xml.computer(), "dc-1");
  EXPECT_TRUE(from_xml.fields().empty());
  EXPECT_EQ(from_xml.record_id, 0u);
  LineBatch text = batch_of({"plain words"});
  text.format = InputFormat::kText;
  const Event from_text = reused(text);
  EXPECT_EQ(from_text.event_id, 0u);
  EXPECT_EQ(from_text.record_id, 0u);
  EXPECT_EQ(from_text.computer(), "relay-host");
  EXPECT_EQ(from_text.message(), "plain words");
  EXPECT_FALSE(from_text.found_error.searched);
}

}  // namespace
}  // namespace sw::daemon
