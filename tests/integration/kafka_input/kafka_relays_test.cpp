// Relays of the real `sessionwatch run` in one consumer group on sw_kafka_mock_broker: events of
// many computers keyed by computer, a console logon per computer first, then refused logons
// (Win32 7063) whose alerts name the console holder only the session tracker knows. A third
// relay joins while the refusals stream in (rebalance: partitions change owner and hand their
// tracker state over), then one relay is killed with SIGKILL (its partitions go to the others
// with the state of its last commit). Every refusal must raise its alert, at least once, with
// duplicates only of the same event.id, and each alert must name the computer's console holder.
#include <gtest/gtest.h>

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "agent_process.hpp"
#include "kafka/mock_broker/mock_broker_process.hpp"

// librdkafka's RD_KAFKA_V_* macros check their argument types with GNU statement expressions.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif

namespace {

using namespace sw_test;

constexpr int kComputers = 120;
constexpr int kPartitions = 6;
constexpr auto kDeadline = 120s;

std::string computer(int i) {
  return "ws-" + std::to_string(i) + ".contoso.local";
}
std::string holder(int i) {
  return "holder" + std::to_string(i);
}

std::string stamp(int seconds) {
  char text[40];
  std::snprintf(text, sizeof text, "2026-11-02T%02d:%02d:%02d.000Z", 8 + seconds / 3600,
                (seconds / 60) % 60, seconds % 60);
  return text;
}

// Computer i's console logon (LogonType 2) at 08:00.
std::string console_logon(int i) {
  nlohmann::json j;
  j["@timestamp"] = stamp(i % 60);
  j["winlog"] = {{"channel", "Security"},
                 {"provider_name", "Microsoft-Windows-Security-Auditing"},
                 {"event_id", "4624"},
                 {"record_id", std::to_string(1000 + i)},
                 {"computer_name", computer(i)},
                 {"event_data",
                  {{"TargetUserName", holder(i)},
                   {"TargetDomainName", "CONTOSO"},
                   {"TargetUserSid", "S-1-5-21-7-7-7-" + std::to_string(2000 + i)},
                   {"TargetLogonId", "0x" + std::to_string(65536 + i)},
                   {"LogonType", "2"},
                   {"LogonProcessName", "User32"}}}};
  return j.dump();
}

// A refused logon on computer i in round r: the message does not name the holder.
std::string refusal(int i, int round) {
  nlohmann::json j;
  j["@timestamp"] = stamp(600 * round + i % 60);
  j["winlog"] = {{"channel", "Application"},
                 {"provider_name", "Contoso-SeatReclaimer"},
                 {"event_id", "1001"},
                 {"record_id", std::to_string(100000 * round + i)},
                 {"computer_name", computer(i)},
                 {"event_data",
                  {{"TargetUserName", "requester" + std::to_string(round)},
                   {"TargetDomainName", "CONTOSO"},
                   {"Win32Status", "7063"}}}};
  return j.dump();
}

class KafkaRelays : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(binary())) GTEST_SKIP() << "sessionwatch binary not built: " << binary();
    dir_ = fs::temp_directory_path() / ("sw_kafka_relays_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "handover");
    broker_ = std::make_unique<MockBroker>(
        std::vector<std::string>{"--topic", "winlogbeat:" + std::to_string(kPartitions)});
    ASSERT_FALSE(broker_->bootstrap().empty()) << "mock broker did not start";
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", broker_->bootstrap().c_str(), error, sizeof error);
    rd_kafka_conf_set(conf, "linger.ms", "5", error, sizeof error);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    ASSERT_TRUE(producer_) << error;
  }
  void TearDown() override {
    if (HasFailure()) {
      for (int r = 1; r <= 3; ++r) {
        std::fprintf(stderr, "relay %d log:\n%s\n", r, read_file(log(r)).c_str());
      }
    }
    relays_.clear();
    if (producer_) rd_kafka_destroy(producer_);
    broker_.reset();
    if (!std::getenv("KEEP")) fs::remove_all(dir_);
  }

  fs::path log(int relay) const { return dir_ / ("relay" + std::to_string(relay) + ".log"); }
  fs::path alerts(int relay) const { return dir_ / ("alerts" + std::to_string(relay) + ".jsonl"); }

  void start_relay(int relay, const std::string& handover_dir) {
    const fs::path config = dir_ / ("relay" + std::to_string(relay) + ".yaml");
    std::ofstream out(config);
    out << "agent:\n  data_dir: " << (dir_ / ("data" + std::to_string(relay))).string() << "\n"
        << "inputs:\n  - type: kafka\n    name: bus\n    brokers: [\"" << broker_->bootstrap()
        << "\"]\n    group_id: relays\n    topics: [winlogbeat]\n";
    if (!handover_dir.empty()) out << "    handover_dir: " << handover_dir << "\n";
    // The mock's coordinator speaks the eager protocol; a killed relay is noticed in 6 s.
    out << "    librdkafka:\n      partition.assignment.strategy: range\n"
        << "      session.timeout.ms: \"6000\"\n      heartbeat.interval.ms: \"500\"\n"
        << "outputs:\n  - type: file\n    path: " << alerts(relay).string() << "\n";
    out.close();
    relays_[relay] = std::make_unique<Agent>(config, log(relay));
    ASSERT_TRUE(relays_[relay]->started());
  }

  void produce(int i, const std::string& payload) {
    const std::string key = computer(i);
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(
                producer_, RD_KAFKA_V_TOPIC("winlogbeat"), RD_KAFKA_V_KEY(key.data(), key.size()),
                RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer_, 100);
    }
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  void flush() { ASSERT_EQ(rd_kafka_flush(producer_, 30000), RD_KAFKA_RESP_ERR_NO_ERROR); }

  // event.id -> copies, over every relay's alerts file.
  std::map<std::string, int> all_alerts() const {
    std::map<std::string, int> ids;
    for (int r = 1; r <= 3; ++r) {
      for (const auto& [id, n] : alert_ids(alerts(r))) ids[id] += n;
    }
    return ids;
  }

  bool wait_alerts(std::size_t count) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (all_alerts().size() < count) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  // The relays' logs name the partitions they were assigned.
  bool wait_log(int relay, const std::string& text) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (read_file(log(relay)).find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  // Waits until the group has committed every message produced so far, on every partition: a
  // partition that changes owner after this is read on from past its computers' logons. (Offsets
  // read by a consumer handle of the group that never joins it.)
  bool wait_committed() {
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", broker_->bootstrap().c_str(), error, sizeof error);
    rd_kafka_conf_set(conf, "group.id", "relays", error, sizeof error);
    rd_kafka_t* reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (reader == nullptr) return false;
    std::vector<std::int64_t> high(kPartitions, 0);
    for (int p = 0; p < kPartitions; ++p) {
      std::int64_t low = 0;
      rd_kafka_query_watermark_offsets(producer_, "winlogbeat", p, &low, &high[p], 10000);
    }
    bool done = false;
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (!done && std::chrono::steady_clock::now() < until) {
      rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
      for (int p = 0; p < kPartitions; ++p)
        rd_kafka_topic_partition_list_add(list, "winlogbeat", p);
      done = rd_kafka_committed(reader, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR;
      for (int k = 0; done && k < list->cnt; ++k)
        done = list->elems[k].offset >= high[list->elems[k].partition];
      rd_kafka_topic_partition_list_destroy(list);
      if (!done) std::this_thread::sleep_for(200ms);
    }
    rd_kafka_destroy(reader);
    return done;
  }
  // Computers whose alerts do not name their console holder (from the tracker).
  std::vector<std::string> wrong_holders() const {
    std::vector<std::string> wrong;
    for (int r = 1; r <= 3; ++r) {
      for (const nlohmann::json& doc : alert_docs(alerts(r))) {
        const std::string host = doc["host"]["name"];
        const int i = std::stoi(host.substr(3));
        const auto& console = doc["sessionwatch"]["console"];
        if (console["user"] != holder(i)) wrong.push_back(host + ": " + console.dump());
      }
    }
    return wrong;
  }

  // The whole scenario; `handover_dir` empty runs it without the handover.
  void run_scenario(const std::string& handover_dir) {
    start_relay(1, handover_dir);
    start_relay(2, handover_dir);
    ASSERT_TRUE(wait_log(1, "assigned winlogbeat/"));
    ASSERT_TRUE(wait_log(2, "assigned winlogbeat/"));
    for (int i = 0; i < kComputers; ++i) produce(i, console_logon(i));
    // Round 1, with a third relay joining half way: a rebalance mid-stream.
    for (int i = 0; i < kComputers / 2; ++i) produce(i, refusal(i, 1));
    flush();
    ASSERT_TRUE(wait_alerts(kComputers / 4)) << "the relays raise alerts";
    // Without a handover, the third relay must take partitions whose logons are behind their
    // committed offsets (else it reads them again and knows every holder; whether it does
    // depended on a commit racing the rebalance).
    if (handover_dir.empty()) {
      ASSERT_TRUE(wait_committed()) << "the relays commit what they read";
    }
    start_relay(3, handover_dir);
    for (int i = kComputers / 2; i < kComputers; ++i) produce(i, refusal(i, 1));
    flush();
    ASSERT_TRUE(wait_log(3, "assigned winlogbeat/"));
    ASSERT_TRUE(wait_alerts(kComputers)) << "round 1: " << all_alerts().size() << " alerts";
    // Round 2 after relay 1 is killed: the others take its partitions from its last commit.
    relays_[1]->kill9();
    for (int i = 0; i < kComputers; ++i) produce(i, refusal(i, 2));
    flush();
    ASSERT_TRUE(wait_alerts(2 * kComputers)) << "round 2: " << all_alerts().size() << " alerts";
  }

  fs::path dir_;
  std::unique_ptr<MockBroker> broker_;
  rd_kafka_t* producer_ = nullptr;
  std::map<int, std::unique_ptr<Agent>> relays_;
};

TEST_F(KafkaRelays, RebalanceAndKillNineKeepEveryAlertAndItsConsoleHolder) {
  run_scenario((dir_ / "handover").string());
  const auto got = all_alerts();
  std::size_t duplicates = 0;
  for (const auto& [id, n] : got) duplicates += static_cast<std::size_t>(n - 1);
  std::fprintf(stderr, "%zu alerts for %d refusals, %zu duplicates (same event.id)\n", got.size(),
               2 * kComputers, duplicates);
  for (int r = 1; r <= 3; ++r) {
    const std::string text = read_file(log(r));
    EXPECT_EQ(text.find("not all committed"), std::string::npos) << "relay " << r;
  }
  EXPECT_EQ(got.size(), static_cast<std::size_t>(2 * kComputers))
      << "one event.id per refusal, no other alert";
  const auto wrong = wrong_holders();
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " alerts without their console holder, e.g. "
                             << (wrong.empty() ? "" : wrong.front());
}

}  // namespace

// The same run without a handover folder: partitions that change owner reach a relay that never
// saw their computers' logons, and their alerts no longer name the holder. This is what the
// handover prevents (and proves the check above can fail).
TEST_F(KafkaRelays, WithoutHandoverMovedComputersLoseTheirConsoleHolder) {
  run_scenario("");
  EXPECT_EQ(all_alerts().size(), static_cast<std::size_t>(2 * kComputers));
  EXPECT_FALSE(wrong_holders().empty());
}
