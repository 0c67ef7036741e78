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

}  // namespace
}  // namespace sw::daemon
