// sw_kafka_mock_broker's self-test: plain librdkafka clients produce and consume through it the
// way the agent and the Kafka tests do, so a failure here is the stand-in's, not the agent's.
#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kafka/mock_broker/mock_broker_process.hpp"

// librdkafka's RD_KAFKA_V_* macros check their argument types with GNU statement expressions.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Delivered {
  std::string key;
  int partition = -1;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

// What came back to a consumer.
struct Received {
  std::string key;
  std::string value;
  int partition = -1;
};

rd_kafka_conf_t* make_conf(const std::map<std::string, std::string>& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [name, value] : settings) {
    EXPECT_EQ(rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err),
              RD_KAFKA_CONF_OK)
        << name << ": " << err;
  }
  return conf;
}

class Producer {
 public:
  Producer(const std::string& bootstrap, std::map<std::string, std::string> extra = {}) {
    extra["bootstrap.servers"] = bootstrap;
    extra.emplace("enable.idempotence", "true");
    extra.emplace("acks", "all");
    rd_kafka_conf_t* conf = make_conf(extra);
    rd_kafka_conf_set_dr_msg_cb(conf, &Producer::on_delivery);
    rd_kafka_conf_set_opaque(conf, this);
    char err[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    EXPECT_NE(rk_, nullptr) << err;
  }
  ~Producer() {
    if (rk_) rd_kafka_destroy(rk_);
  }

  void send(const std::string& topic, const std::string& key, const std::string& value) {
    const rd_kafka_resp_err_t e =
        rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(topic.c_str()),
                          RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    EXPECT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
    ++sent_;
  }

  // Serves delivery reports until every message sent has one, or the deadline passes.
  bool wait_reports(std::chrono::milliseconds deadline) {
    const auto until = Clock::now() + deadline;
    while (reports_.size() < sent_ && Clock::now() < until) rd_kafka_poll(rk_, 50);
    return reports_.size() == sent_;
  }

  const std::vector<Delivered>& reports() const { return reports_; }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<Producer*>(opaque);
    self->reports_.push_back(
        {std::string(static_cast<const char*>(m->key), m->key_len), m->partition, m->err});
  }

  rd_kafka_t* rk_ = nullptr;
  std::size_t sent_ = 0;
  std::vector<Delivered> reports_;
};

class Consumer {
 public:
  Consumer(const std::string& bootstrap, const std::string& group, const std::string& topic) {
    rd_kafka_conf_t* conf = make_conf({{"bootstrap.servers", bootstrap},
                                       {"group.id", group},
                                       {"auto.offset.reset", "earliest"},
                                       {"enable.auto.commit", "false"},
                                       {"heartbeat.interval.ms", "300"},
                                       {"session.timeout.ms", "6000"}});
    char err[512];
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    EXPECT_NE(rk_, nullptr) << err;
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
    EXPECT_EQ(rd_kafka_subscribe(rk_, topics), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(topics);
  }
  ~Consumer() {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }

  // One poll; a message is committed before the next poll so that a rebalance hands its
  // partition over after it, never before.
  void poll_once(std::vector<Received>& out) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 50);
    if (!m) return;
    if (!m->err) {
      out.push_back({std::string(static_cast<const char*>(m->key), m->key_len),
                     std::string(static_cast<const char*>(m->payload), m->len), m->partition});
      rd_kafka_commit_message(rk_, m, 0);
    }
    rd_kafka_message_destroy(m);
  }

  std::set<int> assignment() const {
    std::set<int> partitions;
    rd_kafka_topic_partition_list_t* list = nullptr;
    if (rd_kafka_assignment(rk_, &list) != RD_KAFKA_RESP_ERR_NO_ERROR) return partitions;
    for (int i = 0; i < list->cnt; ++i) partitions.insert(list->elems[i].partition);
    rd_kafka_topic_partition_list_destroy(list);
    return partitions;
  }

 private:
  rd_kafka_t* rk_ = nullptr;
};

std::string key_of(int n) {
  return "ws-" + std::to_string(n % 10) + ".contoso.local";
}

// Produces `count` messages keyed by ten computers; returns each key's partition.
std::map<std::string, int> produce(const std::string& bootstrap, const std::string& topic,
                                   int count) {
  Producer producer(bootstrap);
  for (int n = 0; n < count; ++n) producer.send(topic, key_of(n), "alert-" + std::to_string(n));
  EXPECT_TRUE(producer.wait_reports(30s));
  std::map<std::string, int> partition_of;
  for (const auto& r : producer.reports()) {
    EXPECT_EQ(r.error, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(r.error);
    const auto [it, first] = partition_of.emplace(r.key, r.partition);
    EXPECT_EQ(it->second, r.partition) << "key " << r.key << " went to two partitions";
  }
  return partition_of;
}

// Every value alert-0 .. alert-(count-1) exactly once, each in its key's partition.
void expect_each_once(const std::vector<Received>& got, int count,
                      const std::map<std::string, int>& partition_of) {
  std::map<std::string, int> seen;
  for (const auto& r : got) {
    ++seen[r.value];
    EXPECT_EQ(partition_of.at(r.key), r.partition) << r.value;
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(count));
  for (int n = 0; n < count; ++n) {
    EXPECT_EQ(seen["alert-" + std::to_string(n)], 1) << "alert-" << n;
  }
}

TEST(KafkaMockBroker, PrintsBootstrapAndAnswersCommands) {
  sw_test::MockBroker broker({"--topic", "alerts:2"});
  ASSERT_NE(broker.bootstrap().find("127.0.0.1:"), std::string::npos) << broker.bootstrap();
  EXPECT_EQ(broker.command("topic more 3"), "ok");
  EXPECT_EQ(broker.command("down"), "ok");
  EXPECT_EQ(broker.command("up 1"), "ok");
  EXPECT_EQ(broker.command("up 7"), "error: no broker 7");
  EXPECT_EQ(broker.command("reboot").rfind("error: unknown command", 0), 0u);
}

TEST(KafkaMockBroker, ProducedMessagesComeBackOnceKeyedToOnePartition) {
  sw_test::MockBroker broker({"--topic", "alerts:4"});
  ASSERT_FALSE(broker.bootstrap().empty());
  const auto partition_of = produce(broker.bootstrap(), "alerts", 100);
  ASSERT_EQ(partition_of.size(), 10u);
  std::set<int> partitions;
  for (const auto& [key, p] : partition_of) partitions.insert(p);
  EXPECT_GT(partitions.size(), 1u) << "ten keys over four partitions all hashed to one";

  Consumer consumer(broker.bootstrap(), "one", "alerts");
  std::vector<Received> got;
  const auto until = Clock::now() + 60s;
  while (got.size() < 100 && Clock::now() < until) consumer.poll_once(got);
  expect_each_once(got, 100, partition_of);
}

// Two members of one group split the partitions between them, and what is produced once both
// hold their share reaches each member for its partitions only, each message once.
TEST(KafkaMockBroker, GroupOfTwoSharesThePartitions) {
  sw_test::MockBroker broker({"--topic", "alerts:4"});
  ASSERT_FALSE(broker.bootstrap().empty());
  Consumer a(broker.bootstrap(), "relays", "alerts");
  Consumer b(broker.bootstrap(), "relays", "alerts");
  std::vector<Received> got_a;
  std::vector<Received> got_b;
  auto until = Clock::now() + 60s;
  while (Clock::now() < until) {
    a.poll_once(got_a);
    b.poll_once(got_b);
    if (!a.assignment().empty() && !b.assignment().empty() &&
        a.assignment().size() + b.assignment().size() == 4) {
      break;
    }
  }
  const std::set<int> mine_a = a.assignment();
  const std::set<int> mine_b = b.assignment();
  ASSERT_FALSE(mine_a.empty());
  ASSERT_FALSE(mine_b.empty());
  std::set<int> all = mine_a;
  all.insert(mine_b.begin(), mine_b.end());
  ASSERT_EQ(all.size(), 4u) << "the members' partitions overlap or leave one out";

  const auto partition_of = produce(broker.bootstrap(), "alerts", 200);
  until = Clock::now() + 60s;
  while (got_a.size() + got_b.size() < 200 && Clock::now() < until) {
    a.poll_once(got_a);
    b.poll_once(got_b);
  }
  for (const auto& r : got_a) EXPECT_TRUE(mine_a.count(r.partition)) << r.value;
  for (const auto& r : got_b) EXPECT_TRUE(mine_b.count(r.partition)) << r.value;
  std::vector<Received> both = got_a;
  both.insert(both.end(), got_b.begin(), got_b.end());
  expect_each_once(both, 200, partition_of);
}

// A cluster that is down refuses delivery (the report is an error, not a success), and once it
// is up again a producer delivers.
TEST(KafkaMockBroker, DownRefusesDeliveryUpRestoresIt) {
  sw_test::MockBroker broker({"--topic", "alerts:1", "--down"});
  ASSERT_FALSE(broker.bootstrap().empty());
  {
    Producer refused(broker.bootstrap(), {{"message.timeout.ms", "1500"}});
    refused.send("alerts", "ws-1", "while down");
    ASSERT_TRUE(refused.wait_reports(30s));
    EXPECT_NE(refused.reports().front().error, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(broker.command("up"), "ok");
  Producer producer(broker.bootstrap());
  producer.send("alerts", "ws-1", "after up");
  ASSERT_TRUE(producer.wait_reports(30s));
  EXPECT_EQ(producer.reports().front().error, RD_KAFKA_RESP_ERR_NO_ERROR)
      << rd_kafka_err2str(producer.reports().front().error);
}

}  // namespace
