// sw_kafka_mock_broker: a stand-in Kafka cluster for tests, in its own process.
//
//   sw_kafka_mock_broker [--brokers N] [--topic NAME[:PARTITIONS]]... [--down]
//
// It hosts librdkafka's built-in mock cluster (rd_kafka_mock_cluster_new), which speaks the real
// Kafka protocol on loopback ports, so the agent and the tests connect to it with their ordinary
// bootstrap.servers setting. It creates the topics asked for, prints the bootstrap address on
// stdout (one line), and then reads commands from stdin, one a line, answering "ok" or
// "error: ..." on stdout:
//   down [ID]             brokers (all, or broker ID, from 1) drop their connections and refuse
//                         new ones: a cluster outage as a client sees it
//   up [ID]               they accept connections again
//   topic NAME PARTITIONS create a topic
// It exits when stdin closes (the test that started it is gone) or on SIGTERM/SIGINT.
//
// What the mock models: produce (acks, idempotent producer sequence numbers), fetch, metadata,
// topics with partitions and their leaders, offset commits and fetches, consumer groups with the
// eager (range/roundrobin) rebalance protocol, and brokers going down and up.
// What a real cluster adds that the mock does not show: replication and the ISR (the mock keeps
// one copy: acks=all means the leader has it), leader elections after a broker failure (a down
// mock broker's partitions stay unavailable until it is up), disk and the log retention,
// compaction and segment rolling, quotas and throttling, ACLs, TLS and SASL on the broker side,
// real rebalance timing under load (session and poll timeouts, cooperative-sticky assignment
// across many members), network partitions between brokers, and broker-side latency at volume.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) {
  g_stop = 1;
}

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

struct Options {
  int brokers = 1;
  std::vector<TopicSpec> topics;
  bool start_down = false;
};

bool parse_topic(const std::string& text, TopicSpec& out) {
  const auto colon = text.rfind(':');
  out.name = text.substr(0, colon);
  out.partitions = colon == std::string::npos ? 1 : std::atoi(text.c_str() + colon + 1);
  return !out.name.empty() && out.partitions > 0;
}

bool parse_args(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--brokers" && has_value) {
      options.brokers = std::atoi(argv[++i]);
      if (options.brokers < 1) return false;
    } else if (arg == "--topic" && has_value) {
      TopicSpec topic;
      if (!parse_topic(argv[++i], topic)) return false;
      options.topics.push_back(topic);
    } else if (arg == "--down") {
      options.start_down = true;
    } else {
      return false;
    }
  }
  return true;
}

// The mock cluster lives inside a client handle; this one is never used to produce.
rd_kafka_t* make_host_handle() {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", "sw_kafka_mock_broker", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) std::fprintf(stderr, "sw_kafka_mock_broker: %s\n", err);
  return rk;
}

// down/up of one broker, or of every broker when `id` is 0.
std::string set_brokers(rd_kafka_mock_cluster_t* cluster, int brokers, int id, bool up) {
  if (id < 0 || id > brokers) return "error: no broker " + std::to_string(id);
  for (int b = 1; b <= brokers; ++b) {
    if (id != 0 && b != id) continue;
    const rd_kafka_resp_err_t e =
        up ? rd_kafka_mock_broker_set_up(cluster, b) : rd_kafka_mock_broker_set_down(cluster, b);
    if (e) return std::string("error: ") + rd_kafka_err2str(e);
  }
  return "ok";
}

std::string create_topic(rd_kafka_mock_cluster_t* cluster, int brokers, const TopicSpec& t) {
  const int replication = brokers < 3 ? brokers : 3;
  const rd_kafka_resp_err_t e =
      rd_kafka_mock_topic_create(cluster, t.name.c_str(), t.partitions, replication);
  return e ? std::string("error: ") + rd_kafka_err2str(e) : "ok";
}

std::string run_command(rd_kafka_mock_cluster_t* cluster, int brokers, const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  if (verb == "down" || verb == "up") {
    int id = 0;
    if (!(in >> id)) id = 0;
    return set_brokers(cluster, brokers, id, verb == "up");
  }
  if (verb == "topic") {
    TopicSpec t;
    if (!(in >> t.name >> t.partitions) || t.partitions < 1) return "error: topic NAME PARTITIONS";
    return create_topic(cluster, brokers, t);
  }
  return "error: unknown command '" + verb + "' (down [ID], up [ID], topic NAME PARTITIONS)";
}

// Answers stdin's commands until it closes or a signal asks to stop.
void serve(rd_kafka_mock_cluster_t* cluster, int brokers) {
  std::string pending;
  char buf[4096];
  while (!g_stop) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (::poll(&p, 1, 500) <= 0) continue;  // a timeout, or EINTR from the stop signal
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) return;
    pending.append(buf, static_cast<std::size_t>(n));
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      const std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.empty()) continue;
      std::printf("%s\n", run_command(cluster, brokers, line).c_str());
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_args(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: sw_kafka_mock_broker [--brokers N] [--topic NAME[:PARTITIONS]]... "
                 "[--down]\n");
    return 2;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  rd_kafka_t* host = make_host_handle();
  if (!host) return 1;
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(host, options.brokers);
  if (!cluster) {
    std::fprintf(stderr, "sw_kafka_mock_broker: cannot create the mock cluster\n");
    return 1;
  }
  for (const auto& t : options.topics) {
    const std::string result = create_topic(cluster, options.brokers, t);
    if (result != "ok") {
      std::fprintf(stderr, "sw_kafka_mock_broker: topic %s: %s\n", t.name.c_str(), result.c_str());
      return 1;
    }
  }
  if (options.start_down) set_brokers(cluster, options.brokers, 0, false);
  std::printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);
  serve(cluster, options.brokers);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(host);
  return 0;
}
