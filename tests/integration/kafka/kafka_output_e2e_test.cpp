// The kafka output end to end: the real `sessionwatch run` follows Winlogbeat lines and sends its
// alerts to sw_kafka_mock_broker; the test reads the whole topic back with plain librdkafka and
// compares it with what `sessionwatch scan` raises over the same events.
#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/daemon/agent_process.hpp"
#include "kafka/mock_broker/mock_broker_process.hpp"

namespace {

using namespace sw_test;
using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 4;
constexpr const char* kTopic = "sessionwatch-alerts";

// A Winlogbeat line: a network logon, or a refused console reclaim carrying Win32 error 7063
// (every `every`th line), which the built-in detections alert on. Seven computers.
std::string event_line(std::uint64_t n, bool refused) {
  const std::string host = "ws-" + std::to_string(n % 7) + ".contoso.local";
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "2026-11-02T08:%02u:%02u.%03uZ",
                static_cast<unsigned>((n / 60000) % 60), static_cast<unsigned>((n / 1000) % 60),
                static_cast<unsigned>(n % 1000));
  nlohmann::json j;
  j["@timestamp"] = stamp;
  j["host"]["name"] = host;
  j["winlog"] = {{"record_id", std::to_string(100000 + n)}, {"computer_name", host}};
  if (refused) {
    j["event"] = {{"code", "1001"}, {"kind", "event"}};
    j["winlog"].update({{"channel", "Application"},
                        {"provider_name", "Contoso-SeatReclaimer"},
                        {"event_id", "1001"},
                        {"event_data",
                         {{"TargetUserName", "user" + std::to_string(n % 13)},
                          {"TargetDomainName", "CONTOSO"},
                          {"ConsoleUserName", "holder"},
                          {"ConsoleDomainName", "CONTOSO"},
                          {"Win32Status", "7063"}}}});
    j["message"] = "Reclaiming the console failed with error 7063 (0x1B97).";
  } else {
    j["event"] = {{"code", "4624"}, {"kind", "event"}};
    j["winlog"].update({{"channel", "Security"},
                        {"provider_name", "Microsoft-Windows-Security-Auditing"},
                        {"event_id", "4624"},
                        {"event_data",
                         {{"TargetUserName", "user" + std::to_string(n % 13)},
                          {"TargetDomainName", "CONTOSO"},
                          {"TargetLogonId", "0x" + std::to_string(4096 + n)},
                          {"LogonType", "3"},
                          {"IpAddress", "10.0.0." + std::to_string(n % 250)}}}});
    j["message"] = "An account was successfully logged on.";
  }
  return j.dump() + "\n";
}

std::string event_lines(std::uint64_t from, std::uint64_t count, std::uint64_t every = 10) {
  std::string out;
  for (std::uint64_t n = from; n < from + count; ++n) out += event_line(n, n % every == every - 1);
  return out;
}

// One message of the topic.
struct Message {
  int partition = -1;
  std::string key;
  std::string event_id_header;
  nlohmann::json doc;
};

// Reads a topic as it is now: every partition from its beginning to its high watermark.
class TopicReader {
 public:
  explicit TopicReader(const std::string& bootstrap) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "test-reader", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  }
  ~TopicReader() {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }

  // Messages now in the topic, summed over partitions; -1 when a partition cannot be queried.
  std::int64_t count() {
    std::int64_t total = 0;
    for (int p = 0; p < kPartitions; ++p) {
      std::int64_t low = 0;
      std::int64_t high = 0;
      if (rd_kafka_query_watermark_offsets(rk_, kTopic, p, &low, &high, 5000)) return -1;
      total += high - low;
    }
    return total;
  }

  std::vector<Message> read_all() {
    const std::int64_t want = count();
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(kPartitions);
    for (int p = 0; p < kPartitions; ++p) {
      rd_kafka_topic_partition_list_add(parts, kTopic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk_, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    std::vector<Message> got;
    const auto until = Clock::now() + std::chrono::seconds(60);
    while (static_cast<std::int64_t>(got.size()) < want && Clock::now() < until) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
      if (!m) continue;
      if (!m->err) got.push_back(message_of(m));
      rd_kafka_message_destroy(m);
    }
    EXPECT_EQ(static_cast<std::int64_t>(got.size()), want);
    return got;
  }

 private:
  static Message message_of(const rd_kafka_message_t* m) {
    Message out;
    out.partition = m->partition;
    out.key.assign(static_cast<const char*>(m->key), m->key_len);
    out.doc = nlohmann::json::parse(std::string(static_cast<const char*>(m->payload), m->len),
                                    nullptr, false);
    rd_kafka_headers_t* headers = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(headers, "event.id", &value, &size) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.event_id_header.assign(static_cast<const char*>(value), size);
    }
    return out;
  }

  rd_kafka_t* rk_ = nullptr;
};

class KafkaOutputE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(binary())) GTEST_SKIP() << "sessionwatch binary not built: " << binary();
    dir_ = fs::temp_directory_path() /
           ("sw_kafka_e2e_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "agent log:\n%s\n", read_file(log()).c_str());
    }
    fs::remove_all(dir_);
  }

  fs::path config() const { return dir_ / "sessionwatch.yaml"; }
  fs::path log() const { return dir_ / "agent.log"; }
  fs::path input() const { return dir_ / "in" / "events.jsonl"; }

  // Short retry and delivery timers, so that an outage and its end take seconds.
  void write_config(const std::string& bootstrap, const std::string& log_level = "info") {
    std::ofstream out(config());
    out << "agent:\n  data_dir: " << (dir_ / "data").string() << "\n  log_level: " << log_level
        << "\n"
        << "inputs:\n  - type: file\n    name: winlogbeat\n    paths: [\"" << (dir_ / "in").string()
        << "/*.jsonl\"]\n    format: jsonl\n"
        << "outputs:\n  - type: kafka\n    name: bus\n    brokers: [" << bootstrap
        << "]\n    topic: " << kTopic << "\n    compression: lz4\n    delivery_timeout: 3s\n"
        << "    retry: {initial: 100ms, max: 500ms}\n";
  }
  void append(const std::string& text) {
    std::ofstream out(input(), std::ios::app | std::ios::binary);
    out << text;
  }

  // What `sessionwatch scan` raises over the same events: the expected alert ids.
  std::set<std::string> expected_ids(const std::string& all_events) {
    const fs::path copy = dir_ / "expected-input.jsonl";
    std::ofstream(copy, std::ios::binary) << all_events;
    const fs::path out = dir_ / "expected-alerts.jsonl";
    const std::string cmd =
        binary() + " scan " + copy.string() + " > " + out.string() + " 2>/dev/null";
    EXPECT_NE(std::system(cmd.c_str()), -1);
    std::set<std::string> ids;
    for (const auto& [id, n] : alert_ids(out)) ids.insert(id);
    return ids;
  }

  // Waits until the topic holds at least `want` messages.
  static bool wait_for_count(TopicReader& reader, std::int64_t want, std::chrono::seconds timeout) {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      if (reader.count() >= want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  int log_count(const std::string& text) const {
    const std::string all = read_file(log());
    int seen = 0;
    for (std::size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) {
      ++seen;
    }
    return seen;
  }
  bool wait_for_log(const std::string& text, std::chrono::seconds timeout) const {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      if (log_count(text) > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  fs::path dir_;
};

// Each message: its event.id header is the document's, its key is the document's computer, and
// one computer's alerts are all in one partition. Returns how often each event.id came.
std::map<std::string, int> check_messages(const std::vector<Message>& messages) {
  std::map<std::string, int> ids;
  std::map<std::string, int> partition_of;
  for (const Message& m : messages) {
    EXPECT_FALSE(m.doc.is_discarded()) << "not JSON on the topic";
    if (m.doc.is_discarded()) continue;
    const std::string id = m.doc["event"].value("id", std::string());
    EXPECT_EQ(m.event_id_header, id);
    EXPECT_EQ(m.key, m.doc["host"].value("name", std::string())) << id;
    const auto [it, first] = partition_of.emplace(m.key, m.partition);
    EXPECT_EQ(it->second, m.partition) << m.key << " is in two partitions";
    ++ids[id];
  }
  return ids;
}

TEST_F(KafkaOutputE2E, AlertsArriveOnceKeyedByComputer) {
  MockBroker broker({"--topic", std::string(kTopic) + ":" + std::to_string(kPartitions)});
  ASSERT_FALSE(broker.bootstrap().empty());
  write_config(broker.bootstrap());
  const std::string events = event_lines(0, 700);
  append(events);
  const auto want = expected_ids(events);
  ASSERT_EQ(want.size(), 70u) << "the built-in detections should alert on each 7063 event";

  Agent agent(config(), log());
  ASSERT_TRUE(agent.started());
  TopicReader reader(broker.bootstrap());
  ASSERT_TRUE(
      wait_for_count(reader, static_cast<std::int64_t>(want.size()), std::chrono::seconds(60)));
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(std::chrono::seconds(20)), 0);

  const auto messages = reader.read_all();
  const auto ids = check_messages(messages);
  for (const auto& id : want) EXPECT_EQ(ids.count(id) ? ids.at(id) : 0, 1) << id;
  EXPECT_EQ(ids.size(), want.size());
  std::set<std::string> keys;
  for (const Message& m : messages) keys.insert(m.key);
  EXPECT_EQ(keys.size(), 7u);
}

// The cluster is down when the agent starts: the alerts wait in the spool, the outage is one
// warning, and once the cluster is up every alert arrives.
TEST_F(KafkaOutputE2E, BrokerDownAtStartThenUpLosesNothing) {
  MockBroker broker({"--topic", std::string(kTopic) + ":" + std::to_string(kPartitions), "--down"});
  ASSERT_FALSE(broker.bootstrap().empty());
  write_config(broker.bootstrap(), "debug");
  const std::string events = event_lines(0, 300);
  append(events);
  const auto want = expected_ids(events);
  ASSERT_EQ(want.size(), 30u);

  Agent agent(config(), log());
  ASSERT_TRUE(agent.started());
  ASSERT_TRUE(wait_for_log("alerts wait in the spool and are retried", std::chrono::seconds(30)));
  // More attempts fail while the cluster stays down (debug lines): still one warning.
  ASSERT_TRUE(wait_for_log("output bus: attempt 3 failed", std::chrono::seconds(30)));
  ASSERT_EQ(broker.command("up"), "ok");

  TopicReader reader(broker.bootstrap());
  ASSERT_TRUE(
      wait_for_count(reader, static_cast<std::int64_t>(want.size()), std::chrono::seconds(60)));
  ASSERT_TRUE(wait_for_log("backlog delivered", std::chrono::seconds(30)));
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(std::chrono::seconds(20)), 0);

  const auto ids = check_messages(reader.read_all());
  for (const auto& id : want) EXPECT_GE(ids.count(id) ? ids.at(id) : 0, 1) << "lost " << id;
  EXPECT_EQ(ids.size(), want.size());
  EXPECT_EQ(log_count("alerts wait in the spool and are retried"), 1) << read_file(log());
  EXPECT_EQ(log_count("delivering again"), 1) << read_file(log());
}

// kill -9 while events stream in: after the restart every alert is on the topic at least once,
// and a duplicate is the same alert (same event.id, same document).
TEST_F(KafkaOutputE2E, KillNineMidStreamLosesNothing) {
  MockBroker broker({"--topic", std::string(kTopic) + ":" + std::to_string(kPartitions)});
  ASSERT_FALSE(broker.bootstrap().empty());
  write_config(broker.bootstrap());
  TopicReader reader(broker.bootstrap());
  std::string all;
  {
    Agent agent(config(), log());
    ASSERT_TRUE(agent.started());
    for (std::uint64_t chunk = 0; chunk < 10; ++chunk) {
      const std::string lines = event_lines(chunk * 200, 200);
      all += lines;
      append(lines);
    }
    ASSERT_TRUE(wait_for_count(reader, 1, std::chrono::seconds(60)));
    agent.kill9();
  }
  const std::string more = event_lines(2000, 500);
  all += more;
  append(more);
  const auto want = expected_ids(all);
  ASSERT_EQ(want.size(), 250u);

  Agent again(config(), log());
  ASSERT_TRUE(again.started());
  ASSERT_TRUE(
      wait_for_count(reader, static_cast<std::int64_t>(want.size()), std::chrono::seconds(60)));
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait_exit(std::chrono::seconds(20)), 0);

  const auto messages = reader.read_all();
  const auto ids = check_messages(messages);
  for (const auto& id : want) EXPECT_GE(ids.count(id) ? ids.at(id) : 0, 1) << "lost " << id;
  EXPECT_EQ(ids.size(), want.size()) << "alerts that scan does not raise";
  std::map<std::string, std::string> first_doc;
  for (const Message& m : messages) {
    const std::string id = m.doc["event"].value("id", std::string());
    nlohmann::json doc = m.doc;
    doc["event"].erase("created");  // when the agent raised it: differs between runs
    const auto [it, first] = first_doc.emplace(id, doc.dump());
    if (!first) {
      EXPECT_EQ(it->second, doc.dump()) << "a duplicate that differs: " << id;
    }
  }
}

}  // namespace
