// End to end: alerts -> Output (format, spool with fsync per batch, sender) -> the kafka output
// -> sw_kafka_mock_broker on loopback. An alert counts once its delivery report came back and the
// sender confirmed it (the output's `sent` metric): the broker has it with acks=all.
//
// Counters per run:
//   alerts_per_s            confirmed alerts / wall seconds from the first enqueue
//   agent_cpu_s_per_1k      CPU seconds of this process (formatting, spool, sender, librdkafka's
//                           threads) per 1,000 alerts
//   broker_cpu_s_per_1k     the mock broker's CPU seconds per 1,000 alerts (a real broker's cost
//                           differs: it writes a log to disk and replicates)
// The mock broker is librdkafka's in-memory mock: this measures the agent side, not a cluster.
#if defined(_WIN32) || !defined(SW_KAFKA_MOCK_BROKER)
int main() {
  return 0;
}
#else

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "forward/outputs/kafka/kafka_output.hpp"
#include "forward_bench_alerts.hpp"
#include "kafka/mock_broker/mock_broker_process.hpp"
#include "sessionwatch/forward.hpp"

namespace {

namespace fs = std::filesystem;
using namespace sw::forward;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// utime + stime of a process, from /proc.
double pid_cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), {});
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 0; i < 11 && fields >> field; ++i) {
  }
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Run {
  std::uint64_t confirmed = 0;
  double wall_seconds = 0;
  double agent_cpu_seconds = 0;
  double broker_cpu_seconds = 0;
  std::string error;
};

Run run(int total, int batch, detail::KafkaCompression compression) {
  Run result;
  sw_test::MockBroker broker({"--topic", "alerts:4"});
  if (broker.bootstrap().empty()) {
    result.error = "the mock broker did not start";
    return result;
  }
  const fs::path dir =
      fs::temp_directory_path() / ("sw-kafka-bench-" + std::to_string(std::random_device{}()));
  OutputConfig c;
  c.name = "bench";
  c.type = "kafka";
  c.spool.dir = dir / "spool";
  c.spool.max_bytes = 1ULL << 30;
  c.format.format = Format::kJson;
  auto& kafka = detail::edit_options<detail::KafkaOptions>(c);
  kafka.brokers = {broker.bootstrap()};
  kafka.topic = "alerts";
  kafka.compression = compression;
  auto made = make_output(c);
  if (!made.output) {
    result.error = made.error;
    return result;
  }
  std::vector<sw::Alert> alerts;
  for (int i = 0; i < batch; ++i) alerts.push_back(sw::forward::bench::sample_alert(i));

  const double broker_before = pid_cpu_seconds(broker.pid());
  const double cpu_before = sw::forward::bench::process_cpu_seconds();
  const auto start = Clock::now();
  made.output->start();
  for (int sent = 0; sent < total; sent += batch) made.output->enqueue(alerts);
  const auto deadline = start + 300s;
  while (made.output->metrics().sent < static_cast<std::uint64_t>(total) &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
  }
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.confirmed = made.output->metrics().sent;
  result.agent_cpu_seconds = sw::forward::bench::process_cpu_seconds() - cpu_before;
  result.broker_cpu_seconds = pid_cpu_seconds(broker.pid()) - broker_before;
  made.output->stop(5s);
  made.output.reset();
  fs::remove_all(dir);
  return result;
}

void BM_KafkaEndToEnd(benchmark::State& state, detail::KafkaCompression compression) {
  const int total = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  Run r;
  for (auto _ : state) r = run(total, batch, compression);
  if (!r.error.empty()) {
    state.SkipWithError(r.error.c_str());
    return;
  }
  const double per1k = 1000.0 / static_cast<double>(total);
  state.counters["alerts_per_s"] = static_cast<double>(r.confirmed) / r.wall_seconds;
  state.counters["confirmed"] = static_cast<double>(r.confirmed);
  state.counters["agent_cpu_s_per_1k"] = r.agent_cpu_seconds * per1k;
  state.counters["broker_cpu_s_per_1k"] = r.broker_cpu_seconds * per1k;
}

// Each run is 100,000 alerts (~900 bytes of ECS JSON each), enqueued 1,000 at a time (one spool
// fsync per batch).
BENCHMARK_CAPTURE(BM_KafkaEndToEnd, none, detail::KafkaCompression::kNone)
    ->Args({100'000, 1000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_KafkaEndToEnd, lz4, detail::KafkaCompression::kLz4)
    ->Args({100'000, 1000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_KafkaEndToEnd, zstd, detail::KafkaCompression::kZstd)
    ->Args({100'000, 1000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

#endif
