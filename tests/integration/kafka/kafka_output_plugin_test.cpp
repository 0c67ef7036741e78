// The kafka output plugin against sw_kafka_mock_broker, driven the way the sender drives it:
// flush, then confirm until the delivery reports are in.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "forward/outputs/kafka/kafka_output.hpp"
#include "kafka/mock_broker/mock_broker_process.hpp"

namespace sw::forward::detail {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::unique_ptr<OutputPlugin> make_plugin(const std::string& bootstrap) {
  OutputConfig c;
  c.name = "plugin";
  c.type = "kafka";
  auto& kafka = edit_options<KafkaOptions>(c);
  kafka.brokers = {bootstrap};
  kafka.topic = "alerts";
  kafka.delivery_timeout = 3s;
  std::string error;
  auto plugin = make_kafka_output(c, error);
  EXPECT_NE(plugin, nullptr) << error;
  if (plugin) {
    EXPECT_EQ(plugin->init(), "");
  }
  return plugin;
}

std::string alert_json(int n) {
  return R"({"event":{"id":"id-)" + std::to_string(n) + R"("},"host":{"name":"ws-)" +
         std::to_string(n % 5) + R"("}})";
}

// Confirms until `want` records are confirmed or a confirm fails; returns the count confirmed.
std::size_t confirm_all(OutputPlugin& plugin, std::size_t want, ConfirmResult* failure = nullptr) {
  std::size_t confirmed = 0;
  const auto until = Clock::now() + 30s;
  while (confirmed < want && Clock::now() < until) {
    const ConfirmResult c = plugin.confirm(true);
    if (!c.ok) {
      if (failure) *failure = c;
      break;
    }
    confirmed += c.confirmed;
  }
  return confirmed;
}

TEST(KafkaOutputPlugin, ConfirmsEachWrittenRecordOnceAfterItsReport) {
  sw_test::MockBroker broker({"--topic", "alerts:4"});
  ASSERT_FALSE(broker.bootstrap().empty());
  auto plugin = make_plugin(broker.bootstrap());
  ASSERT_TRUE(plugin);
  std::vector<std::string> payloads;
  for (int n = 0; n < 500; ++n) payloads.push_back(alert_json(n));
  std::vector<Record> records;
  for (const auto& p : payloads) records.push_back({"id", p});
  const FlushResult f = plugin->flush(records);
  ASSERT_EQ(f.status, FlushStatus::kWritten) << f.error;
  ASSERT_EQ(f.count, records.size());
  EXPECT_EQ(confirm_all(*plugin, records.size()), records.size());
  EXPECT_EQ(plugin->confirm(true).confirmed, 0u) << "confirmed more than was written";
  EXPECT_TRUE(plugin->connected());
}

// An alert larger than message.max.bytes can never be delivered: it is poison (dead-lettered),
// not a failure retried for ever in front of every later alert.
TEST(KafkaOutputPlugin, AnOversizedAlertIsPoisonNotRetried) {
  sw_test::MockBroker broker({"--topic", "alerts:1"});
  ASSERT_FALSE(broker.bootstrap().empty());
  auto plugin = make_plugin(broker.bootstrap());
  ASSERT_TRUE(plugin);
  const std::string small = alert_json(1);
  const std::string huge = R"({"host":{"name":"ws-1"},"x":")" + std::string(2 << 20, 'a') + "\"}";
  const std::vector<Record> records = {{"a", small}, {"b", huge}, {"c", small}};
  FlushResult f = plugin->flush(records);
  ASSERT_EQ(f.status, FlushStatus::kWritten) << f.error;
  EXPECT_EQ(f.count, 1u);
  f = plugin->flush(std::span(records).subspan(1));
  EXPECT_EQ(f.status, FlushStatus::kPoison) << f.error;
  EXPECT_EQ(f.count, 1u);
  EXPECT_NE(f.error.find("message.max.bytes"), std::string::npos) << f.error;
  f = plugin->flush(std::span(records).subspan(2));
  ASSERT_EQ(f.status, FlushStatus::kWritten) << f.error;
  EXPECT_EQ(confirm_all(*plugin, 2), 2u);
}

// With the cluster down the written window fails (nothing confirmed), later flushes are refused
// at once, and once it is up the same records go through.
TEST(KafkaOutputPlugin, ClusterDownFailsTheWindowUpDeliversIt) {
  sw_test::MockBroker broker({"--topic", "alerts:2", "--down"});
  ASSERT_FALSE(broker.bootstrap().empty());
  auto plugin = make_plugin(broker.bootstrap());
  ASSERT_TRUE(plugin);
  const std::string payload = alert_json(7);
  const std::vector<Record> records = {{"a", payload}, {"b", payload}};
  ASSERT_EQ(plugin->flush(records).status, FlushStatus::kWritten);
  ConfirmResult failure;
  EXPECT_EQ(confirm_all(*plugin, 2, &failure), 0u);
  EXPECT_FALSE(failure.ok);
  EXPECT_NE(failure.error.find("cannot deliver to Kafka topic alerts"), std::string::npos)
      << failure.error;
  const FlushResult refused = plugin->flush(records);
  EXPECT_EQ(refused.status, FlushStatus::kRetry);
  EXPECT_EQ(refused.error, failure.error) << "one outage, one text";

  ASSERT_EQ(broker.command("up"), "ok");
  const FlushResult f = plugin->flush(records);
  ASSERT_EQ(f.status, FlushStatus::kWritten) << f.error;
  EXPECT_EQ(confirm_all(*plugin, 2), 2u);
}

}  // namespace
}  // namespace sw::forward::detail
