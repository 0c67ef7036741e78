// The Kafka input against librdkafka's mock cluster, in-process: what it hands the detection
// thread (one batch per partition, the offset after it as the checkpoint), that offsets reach the
// broker only through committed() (the engine calls it once the batch's alerts are spooled and
// the checkpoint written), and that a partition's next owner gets the state its previous owner
// wrote before any of the partition's events.
#include <gtest/gtest.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/inputs/kafka/kafka_config.hpp"
#include "daemon/inputs/kafka/kafka_input.hpp"
#include "daemon/inputs/kafka/partition_state.hpp"

// librdkafka's RD_KAFKA_V_* macros check their argument types with GNU statement expressions.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif

namespace sw::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kDeadline = 60s;  // generous: the machine is shared

std::string logon_json(const std::string& computer, int n) {
  nlohmann::json j;
  j["@timestamp"] = "2026-11-02T08:00:00.000Z";
  j["winlog"] = {{"channel", "Security"},
                 {"provider_name", "Microsoft-Windows-Security-Auditing"},
                 {"event_id", "4624"},
                 {"record_id", std::to_string(1000 + n)},
                 {"computer_name", computer},
                 {"event_data",
                  {{"TargetUserName", "user" + std::to_string(n)},
                   {"TargetDomainName", "CONTOSO"},
                   {"TargetLogonId", "0x" + std::to_string(4096 + n)},
                   {"LogonType", "2"}}}};
  return j.dump();
}

class KafkaInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char error[256];
    // The cluster lives in a handle of its own; the producer connects to it like to a real one.
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), error, sizeof error);
    ASSERT_TRUE(host_) << error;
    cluster_ = rd_kafka_mock_cluster_new(host_, 1);
    ASSERT_TRUE(cluster_);
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, "events", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap_.c_str(), error, sizeof error);
    rd_kafka_conf_set(conf, "linger.ms", "0", error, sizeof error);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    ASSERT_TRUE(producer_) << error;
    dir_ = fs::temp_directory_path() / ("sw_kafka_input_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    inputs_.clear();
    if (producer_) rd_kafka_destroy(producer_);
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (host_) rd_kafka_destroy(host_);
    fs::remove_all(dir_);
  }

  // Produces to an explicit partition, keyed by computer as the producers' contract says.
  void produce(int partition, const std::string& computer, const std::string& payload) {
    ASSERT_EQ(
        rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC("events"), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_KEY(computer.data(), computer.size()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
        RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(rd_kafka_flush(producer_, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  Input& start(const std::string& handover_dir = "") {
    auto options = std::make_shared<KafkaInputOptions>();
    options->brokers = {bootstrap_};
    options->group_id = "relays";
    options->topics = {"events"};
    options->handover_dir = handover_dir;
    options->revoke_timeout = 2s;
    // The mock's group coordinator speaks the eager protocol.
    options->properties["partition.assignment.strategy"] = "range";
    options->properties["session.timeout.ms"] = "6000";
    options->properties["heartbeat.interval.ms"] = "500";
    InputConfig config;
    config.type = "kafka";
    config.name = "bus";
    config.options = options;
    std::string error;
    auto input = make_kafka_input(config, 2, EventInterest::everything(), error);
    EXPECT_TRUE(input) << error;
    AgentState state;
    std::vector<WorkItem> initial;
    EXPECT_TRUE(input->init(state, initial, error)) << error;
    inputs_.push_back(std::move(input));
    return *inputs_.back();
  }

  // Collects until `events` events arrived (adopted state kept in `adopted`).
  std::vector<EventBatch> collect(Input& input, std::size_t events,
                                  std::vector<StatePartMap>* adopted = nullptr) {
    std::vector<EventBatch> batches;
    std::size_t got = 0;
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (got < events && std::chrono::steady_clock::now() < until) {
      std::vector<WorkItem> items;
      input.collect(false, items);
      for (WorkItem& item : items) {
        if (item.adopt_parts && adopted) adopted->push_back(*item.adopt_parts);
        if (!item.events) continue;
        if (adopted) {
          EXPECT_FALSE(adopted->empty()) << "a batch came before the handed state";
        }
        got += item.events->events.size();
        batches.push_back(std::move(*item.events));
      }
      if (items.empty()) std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(got, events);
    return batches;
  }

  // The group's committed offset of one partition, as the broker has it (-1001: none).
  std::int64_t broker_offset(int partition) {
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap_.c_str(), error, sizeof error);
    rd_kafka_conf_set(conf, "group.id", "relays", error, sizeof error);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, "events", partition);
    std::int64_t offset = -2;
    if (rd_kafka_committed(rk, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      offset = list->elems[0].offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return offset;
  }

  std::int64_t wait_broker_offset(int partition, std::int64_t want) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    std::int64_t got = broker_offset(partition);
    while (got != want && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(50ms);
      got = broker_offset(partition);
    }
    return got;
  }

  rd_kafka_t* host_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
  fs::path dir_;
  std::vector<std::unique_ptr<Input>> inputs_;
};

TEST_F(KafkaInputTest, HandsOnBatchesPerPartitionWithTheNextOffset) {
  Input& input = start();
  produce(0, "ws-1", logon_json("ws-1", 1));
  produce(0, "ws-1", "not an event");  // counted and skipped; its offset still moves on
  produce(1, "ws-2", logon_json("ws-2", 2));
  produce(0, "ws-1", logon_json("ws-1", 3));
  std::map<std::string, std::string> last;
  for (const EventBatch& b : collect(input, 3)) {
    EXPECT_EQ(b.input_index, 2u);
    for (const Event& e : b.events) EXPECT_EQ(e.origin(), "bus:" + b.stream);
    last[b.stream] = b.checkpoint;
  }
  EXPECT_EQ(last["events/0"], "3");
  EXPECT_EQ(last["events/1"], "1");
}

TEST_F(KafkaInputTest, OffsetsReachTheBrokerOnlyOnceCommitted) {
  Input& input = start();
  for (int n = 0; n < 5; ++n) produce(0, "ws-1", logon_json("ws-1", n));
  collect(input, 5);
  // Read and handed on, but nothing says their alerts are spooled: nothing committed.
  std::this_thread::sleep_for(500ms);  // the consumer's commit round runs every 100 ms
  EXPECT_LT(broker_offset(0), 0);
  input.committed("events/0", "3");  // the engine made the first three durable
  EXPECT_EQ(wait_broker_offset(0, 3), 3);
  input.committed("events/0", "5");
  EXPECT_EQ(wait_broker_offset(0, 5), 5);
  input.committed("events/0", "9");  // never handed on: not this input's to commit
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(broker_offset(0), 5);
}

TEST_F(KafkaInputTest, APartitionsNextOwnerStartsWithTheStateItsOwnerWrote) {
  const std::string handover = (dir_ / "handover").string();
  fs::create_directories(handover);
  {
    Input& first = start(handover);
    produce(0, "WS-1.contoso.local", logon_json("WS-1.contoso.local", 1));
    collect(first, 1);
    first.state_written({{"session/tracker", std::string("header")},
                         {"session/host/ws-1", std::string("console held by user1")},
                         {"session/host/ws-7", std::string("another relay's computer")}});
    first.committed("events/0", "1");
    EXPECT_EQ(wait_broker_offset(0, 1), 1);
    inputs_.clear();  // leaves the group
  }
  PartitionHandover written;
  std::string error;
  ASSERT_TRUE(read_handover(handover, "events/0", written, error)) << error;
  EXPECT_EQ(written.offset, 1);
  Input& next = start(handover);
  produce(0, "ws-1", logon_json("ws-1", 2));
  std::vector<StatePartMap> adopted;
  const auto batches = collect(next, 1, &adopted);
  ASSERT_EQ(adopted.size(), 1u);
  EXPECT_EQ(adopted[0].at("session/host/ws-1"), "console held by user1");
  EXPECT_EQ(adopted[0].count("session/host/ws-7"), 0u);
  ASSERT_FALSE(batches.empty());
  EXPECT_EQ(batches[0].checkpoint, "2") << "resumed after the committed offset";
}

}  // namespace
}  // namespace sw::daemon
