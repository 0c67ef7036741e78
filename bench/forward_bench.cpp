// Forwarding throughput: the spool alone (append with fsync per batch; read+acknowledge),
// formatting, and the whole path (enqueue -> spool -> sender -> TCP) into an in-process sink.
// The same path into a real rsyslog on loopback, per transport, is forward_rsyslog_bench.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <ctime>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <filesystem>
#include <random>
#include <thread>

#include "forward/outputs/syslog/syslog_output.hpp"
#include "forward_bench_alerts.hpp"
#include "sessionwatch/forward.hpp"
#include "sessionwatch/spool.hpp"

namespace {

namespace fs = std::filesystem;
using namespace sw::forward;
using namespace std::chrono_literals;

using sw::forward::bench::process_cpu_seconds;
using sw::forward::bench::sample_alert;
using sw::forward::bench::thread_cpu_seconds;

fs::path temp_dir(const char* what) {
  fs::path p = fs::temp_directory_path() /
               (std::string("sw-bench-") + what + "-" + std::to_string(std::random_device{}()));
  fs::remove_all(p);
  return p;
}

// A spool in a fresh temporary folder (removed afterwards) and one ~600-byte RFC 5424 record.
struct BenchSpool {
  fs::path dir;
  std::unique_ptr<Spool> spool;
  std::string record;
  BenchSpool(const char* what, std::uint64_t max_bytes, FsyncPolicy fsync = SpoolOptions{}.fsync)
      : dir(temp_dir(what)) {
    SpoolOptions o;
    o.dir = dir;
    o.max_bytes = max_bytes;
    o.fsync = fsync;
    std::string error;
    spool = Spool::open(o, error);
    FormatOptions f;
    f.format = Format::kRfc5424;
    format_alert(sample_alert(1), f, record);
  }
  ~BenchSpool() {
    spool.reset();
    fs::remove_all(dir);
  }
};

// Append batches of `batch` ~600-byte records, fsync per batch, then read and acknowledge.
void BM_SpoolWriteReadFsyncPerBatch(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  BenchSpool bench("spool", 1ULL << 30);
  auto& [dir, spool, record] = bench;
  std::vector<std::string_view> views(batch, record);
  std::vector<SpoolRecord> out;
  for (auto _ : state) {
    spool->append(views);
    std::size_t got = 0;
    while (got < batch && spool->read(out, batch, 8 << 20, 0ms)) {
      got += out.size();
      spool->acknowledge(out.back().end);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(batch * record.size()));
}
BENCHMARK(BM_SpoolWriteReadFsyncPerBatch)->Arg(100)->Arg(1000)->UseRealTime();

// Append only: batches of `batch` ~600-byte records, one fsync per batch.
void BM_SpoolAppendFsyncPerBatch(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  BenchSpool bench("append", 8ULL << 30);
  auto& [dir, spool, record] = bench;
  std::vector<std::string_view> views(batch, record);
  for (auto _ : state) {
    auto r = spool->append(views);
    if (r.status != AppendStatus::kOk) state.SkipWithError(r.error.c_str());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(batch * record.size()));
}
BENCHMARK(BM_SpoolAppendFsyncPerBatch)->Arg(100)->Arg(1000)->Arg(10000);

// Read + acknowledge in batches of 1000 from a spool refilled (untimed) with 100,000 records.
void BM_SpoolReadAck(benchmark::State& state) {
  constexpr std::size_t kBatch = 1000;
  BenchSpool bench("read", 1ULL << 30, FsyncPolicy::kNever);
  auto& [dir, spool, record] = bench;
  std::vector<std::string_view> views(100'000, record);
  std::vector<SpoolRecord> out;
  std::int64_t items = 0;
  for (auto _ : state) {
    if (!spool->read(out, kBatch, 8 << 20, 0ms)) {
      state.PauseTiming();
      spool->append(views);
      state.ResumeTiming();
      continue;
    }
    spool->acknowledge(out.back().end);
    items += static_cast<std::int64_t>(out.size());
  }
  state.SetItemsProcessed(items);
}
BENCHMARK(BM_SpoolReadAck);

void BM_FormatAlert(benchmark::State& state) {
  auto alert = sample_alert(7);
  FormatOptions f;
  f.format = static_cast<Format>(state.range(0));
  std::string out;
  for (auto _ : state) {
    out.clear();
    format_alert(alert, f, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(std::string(to_string(f.format)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FormatAlert)->DenseRange(0, 3);

// The producer's side alone (the sender is not started): format + spool append + one fsync
// per call of `batch` alerts, i.e. what Output::enqueue costs the thread that raises alerts.
void BM_OutputEnqueue(benchmark::State& state) {
  const auto batch = static_cast<int>(state.range(0));
  fs::path dir = temp_dir("enqueue");
  OutputConfig c;
  c.name = "bench";
  c.type = "syslog";
  detail::edit_options<detail::SyslogOptions>(c).endpoints.urls = {"tcp://127.0.0.1:9"};
  c.format.format = static_cast<Format>(state.range(1));
  c.spool.dir = dir;
  c.spool.max_bytes = 8ULL << 30;
  auto made = make_output(c);
  std::vector<sw::Alert> alerts;
  for (int i = 0; i < batch; ++i) alerts.push_back(sample_alert(i));
  for (auto _ : state) made.output->enqueue(alerts);
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(std::string(to_string(c.format.format)));
  made.output.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_OutputEnqueue)->Args({1000, 1})->Args({1000, 0})->Args({10000, 1});

// The whole output: enqueue (format + spool, fsync per batch) on this thread, the sender thread
// framing and writing to TCP, an in-process peer reading it, acknowledgement after confirm.
void BM_OutputToTcp(benchmark::State& state) {
  namespace asio = boost::asio;
  using tcp = asio::ip::tcp;
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::atomic<bool> done{false};
  std::atomic<double> sink_cpu{0};
  std::thread sink([&] {
    while (!done) {
      tcp::socket s(ioc);
      boost::system::error_code ec;
      acceptor.accept(s, ec);
      if (ec || done) break;
      char buf[1 << 16];
      while (!ec) s.read_some(asio::buffer(buf), ec);
    }
    sink_cpu = thread_cpu_seconds();
  });
  fs::path dir = temp_dir("output");
  OutputConfig c;
  c.name = "bench";
  c.type = "syslog";
  detail::edit_options<detail::SyslogOptions>(c).endpoints.urls = {
      "tcp://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port())};
  c.format.format = Format::kRfc5424;
  c.spool.dir = dir;
  c.spool.max_bytes = 1ULL << 30;
  // Only the tail of each iteration waits for it; the steady state does not depend on it.
  detail::edit_options<detail::SyslogOptions>(c).confirm_delay = 0ms;
  auto made = make_output(c);
  made.output->start();
  std::vector<sw::Alert> alerts;
  for (int i = 0; i < 1000; ++i) alerts.push_back(sample_alert(i));
  // Each iteration: 100,000 alerts in (fsync per 1000), all confirmed out.
  const double cpu_before = process_cpu_seconds();
  for (auto _ : state) {
    for (int i = 0; i < 100; ++i) made.output->enqueue(alerts);
    made.output->wait_drained(60s);
  }
  const double alerts_total = static_cast<double>(state.iterations()) * 100'000.0;
  state.SetItemsProcessed(static_cast<std::int64_t>(alerts_total));
  state.counters["sent"] = static_cast<double>(made.output->metrics().sent);
  made.output->stop();
  const double agent_cpu = process_cpu_seconds() - cpu_before;
  done = true;
  made.output.reset();
  {
    tcp::socket wake(ioc);
    boost::system::error_code ec;
    wake.connect(acceptor.local_endpoint(), ec);
  }
  sink.join();
  // Every thread of the process but the sink's: the producer (this one) and the sender.
  state.counters["agent_cpu_s_per_100k"] = (agent_cpu - sink_cpu) * 100'000.0 / alerts_total;
  fs::remove_all(dir);
}
BENCHMARK(BM_OutputToTcp)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
