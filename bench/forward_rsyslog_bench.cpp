// End to end: alerts -> Output (format, spool with fsync per batch, sender) -> a real rsyslog on
// loopback (TCP, TLS, RELP, UDP) or an in-process Beast HTTP collector. An alert counts only
// once the collector has it: rsyslog wrote its line to its output file (counted by a watcher
// thread), or the HTTP server received its line in a request it answered 200.
//
// Counters per run:
//   alerts_per_s        alerts the collector received / wall seconds from the first enqueue
//   agent_cpu_s_per_100k  CPU seconds of this process (producer + sender threads; the watcher
//                       and the HTTP server threads are subtracted) per 100,000 alerts
//   collector_cpu_s_per_100k  rsyslogd's CPU seconds (from /proc) per 100,000 alerts
//   received            alerts the collector got (UDP may lose some: it is fire and forget)
//
// Pin the agent side to one core to read "alerts/s on one core": `taskset -c 0
// forward_rsyslog_bench` (rsyslog is then moved to the other cores so it does not compete with the
// agent).
#ifdef _WIN32
int main() {
  return 0;
}
#else

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "forward/outputs/http/http_output.hpp"
#include "forward/outputs/relp/relp_output.hpp"
#include "forward/outputs/syslog/syslog_output.hpp"
#include "forward_bench_alerts.hpp"
#include "rsyslog_harness.hpp"
#include "sessionwatch/file.hpp"
#include "sessionwatch/forward.hpp"

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace sw::forward;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sw::forward::bench::process_cpu_seconds;
using sw::forward::bench::thread_cpu_seconds;
using sw::forward::testing::Rsyslog;

// utime + stime from a /proc/.../stat file.
double pid_cpu_seconds_of(const fs::path& stat_file) {
  std::ifstream f(stat_file);
  std::string stat((std::istreambuf_iterator<char>(f)), {});
  std::size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::vector<std::string> fields;
  std::size_t start = paren + 2;
  while (start < stat.size()) {
    std::size_t sp = stat.find(' ', start);
    if (sp == std::string::npos) sp = stat.size();
    fields.push_back(stat.substr(start, sp - start));
    start = sp + 1;
  }
  if (fields.size() < 13) return 0;  // fields[11] = utime, fields[12] = stime (after the name)
  return static_cast<double>(std::stoull(fields[11]) + std::stoull(fields[12])) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

double pid_cpu_seconds(pid_t pid) {
  return pid_cpu_seconds_of("/proc/" + std::to_string(pid) + "/stat");
}

// CPU seconds of each thread of this process, by thread id.
std::vector<std::pair<pid_t, double> > thread_cpu_seconds_all() {
  std::vector<std::pair<pid_t, double> > out;
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    pid_t tid = std::atoi(task.path().filename().c_str());
    out.emplace_back(tid, pid_cpu_seconds_of(task.path() / "stat"));
  }
  return out;
}

pid_t read_pid(const fs::path& file) {
  std::ifstream f(file);
  pid_t pid = -1;
  f >> pid;
  return pid;
}

// When this process is pinned to some cores, move the collector to the others.
void keep_collector_off_our_cores(pid_t collector) {
  cpu_set_t mine;
  CPU_ZERO(&mine);
  if (sched_getaffinity(0, sizeof mine, &mine) != 0) return;
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t others;
  CPU_ZERO(&others);
  for (long c = 0; c < cores; ++c)
    if (!CPU_ISSET(c, &mine)) CPU_SET(c, &others);
  if (CPU_COUNT(&others) == 0) return;
  // rsyslog's threads: every task of the process.
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(collector) + "/task")) {
    pid_t tid = std::atoi(task.path().filename().c_str());
    sched_setaffinity(tid, sizeof others, &others);
  }
}

fs::path temp_dir(const char* what) {
  fs::path p = fs::temp_directory_path() /
               (std::string("sw-e2e-") + what + "-" + std::to_string(std::random_device{}()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// Counts the lines of a growing file, reading only what was appended since the last look.
class LineWatcher {
 public:
  explicit LineWatcher(fs::path file) : file_(std::move(file)) {
    thread_ = std::thread([this] { watch(); });
  }
  ~LineWatcher() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::uint64_t lines() const { return lines_; }
  Clock::time_point last_change() const { return Clock::time_point(Clock::duration(last_change_)); }
  double cpu_seconds() const { return cpu_seconds_; }
  pid_t tid() const { return tid_; }

 private:
  void watch() {
    tid_ = static_cast<pid_t>(::gettid());
    std::vector<char> buf(1 << 20);
    sw::UniqueFile f;
    while (!stopping_) {
      if (!f) f.reset(std::fopen(file_.c_str(), "rb"));
      bool grew = false;
      if (f) {
        std::size_t n;
        while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
          lines_ += static_cast<std::uint64_t>(std::count(buf.data(), buf.data() + n, '\n'));
          grew = true;
        }
        std::clearerr(f.get());
      }
      if (grew) last_change_ = Clock::now().time_since_epoch().count();
      std::this_thread::sleep_for(5ms);
    }
    f.reset();
    cpu_seconds_ = thread_cpu_seconds();
  }
  fs::path file_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> lines_{0};
  std::atomic<Clock::rep> last_change_{0};
  std::atomic<double> cpu_seconds_{0};
  std::atomic<pid_t> tid_{0};
};

// A keep-alive HTTP/1.1 collector: counts the JSON lines of every POST, answers 200.
class HttpSink {
 public:
  HttpSink() : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~HttpSink() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket wake(ioc_);
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/ingest";
  }
  std::uint64_t lines() const { return lines_; }
  std::uint64_t requests() const { return requests_; }
  Clock::time_point last_change() const { return Clock::time_point(Clock::duration(last_change_)); }
  double cpu_seconds() const { return cpu_seconds_; }
  pid_t tid() const { return tid_; }

 private:
  void serve() {
    tid_ = static_cast<pid_t>(::gettid());
    while (!stopping_) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) break;
      boost::beast::flat_buffer buffer;
      while (true) {
        http::request<http::string_body> req;
        http::read(socket, buffer, req, ec);
        if (ec) break;
        const std::string& body = req.body();
        std::uint64_t n = static_cast<std::uint64_t>(std::count(body.begin(), body.end(), '\n'));
        if (!body.empty() && body.back() != '\n') ++n;
        http::response<http::string_body> res{http::status::ok, 11};
        res.body() = "{\"ok\":true}";
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        http::write(socket, res, ec);
        // Counted once answered: that is when the output takes the batch as delivered.
        lines_ += n;
        ++requests_;
        last_change_ = Clock::now().time_since_epoch().count();
        if (ec || !req.keep_alive()) break;
      }
    }
    cpu_seconds_ = thread_cpu_seconds();
  }
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> lines_{0}, requests_{0};
  std::atomic<Clock::rep> last_change_{0};
  std::atomic<double> cpu_seconds_{0};
  std::atomic<pid_t> tid_{0};
};

enum class Transport { kTcp, kTls, kRelp, kUdp, kHttp };

struct RunResult {
  std::string error;
  std::uint64_t received = 0;
  double wall_seconds = 0;
  double agent_cpu_seconds = 0;
  double producer_cpu_seconds = 0;  // the enqueueing thread: format + spool append + fsync
  double sender_cpu_seconds = 0;    // the output's threads: spool read, transport, acknowledge
  double collector_cpu_seconds = 0;
  std::uint64_t requests = 0;
};

// Pushes `total` alerts through one output into the collector; measures until the collector has
// them all (or, for UDP, until nothing more arrived for a while).
RunResult run_transport(Transport transport, int total, int batch) {
  RunResult result;
  fs::path dir = temp_dir("run");
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};

  std::unique_ptr<Rsyslog> rsyslog;
  std::unique_ptr<HttpSink> http_sink;
  sw::forward::testing::TestPki pki;
  OutputConfig c;
  c.name = "bench";
  c.spool.dir = dir / "spool";
  c.spool.max_bytes = 1ULL << 30;
  c.format.format = Format::kRfc5424;
  if (transport == Transport::kHttp) {
    http_sink = std::make_unique<HttpSink>();
    c.type = "http";
    c.format.format = Format::kJson;
    detail::edit_options<detail::HttpOptions>(c).endpoints.urls = {http_sink->url()};
  } else {
    std::string why;
    if (!Rsyslog::available(why)) {
      result.error = why;
      return result;
    }
    Rsyslog::Input input = transport == Transport::kTcp   ? Rsyslog::Input::kTcp
                           : transport == Transport::kTls ? Rsyslog::Input::kTls
                           : transport == Transport::kUdp ? Rsyslog::Input::kUdp
                                                          : Rsyslog::Input::kRelp;
    if (transport == Transport::kTls && !make_test_pki(dir / "pki", pki, result.error)) {
      return result;
    }
    rsyslog = std::make_unique<Rsyslog>(dir / "rsyslog", input, &pki);
    if (!rsyslog->start(result.error)) return result;
    c.type = transport == Transport::kRelp ? "relp" : "syslog";
    if (transport == Transport::kRelp) {
      detail::edit_options<detail::RelpOptions>(c).endpoints.urls = {rsyslog->url()};
    } else {
      auto& syslog = detail::edit_options<detail::SyslogOptions>(c);
      syslog.endpoints.urls = {rsyslog->url()};
      syslog.tls.ca_file = pki.ca.string();
    }
  }
  pid_t collector = rsyslog ? read_pid(dir / "rsyslog" / "rsyslog.pid") : -1;
  if (collector > 0) keep_collector_off_our_cores(collector);

  std::vector<sw::Alert> alerts;
  for (int i = 0; i < batch; ++i) alerts.push_back(sw::forward::bench::sample_alert(i));

  auto made = make_output(c);
  if (!made.output) {
    result.error = made.error;
    return result;
  }
  std::unique_ptr<LineWatcher> watcher;
  if (rsyslog) watcher = std::make_unique<LineWatcher>(dir / "rsyslog" / "received.log");
  auto received = [&] { return watcher ? watcher->lines() : http_sink->lines(); };

  const double collector_cpu_before = collector > 0 ? pid_cpu_seconds(collector) : 0;
  const double cpu_before = process_cpu_seconds();
  const double producer_before = thread_cpu_seconds();
  std::vector<std::pair<pid_t, double> > threads_before = thread_cpu_seconds_all();
  const auto start = Clock::now();
  made.output->start();
  for (int sent = 0; sent < total; sent += batch) {
    EnqueueResult r = made.output->enqueue(alerts);
    if (!r.ok) {
      result.error = "enqueue: " + r.error;
      break;
    }
  }
  // Wait for the collector. UDP loses what the receiver cannot keep up with, so there the end
  // is when nothing arrived for a second after the output had sent everything.
  const auto deadline = start + 300s;
  while (received() < static_cast<std::uint64_t>(total) && Clock::now() < deadline) {
    if (transport == Transport::kUdp && made.output->metrics().spool_records == 0) {
      auto last = watcher->last_change();
      if (Clock::now() - std::max(last, start) > 1s) break;
    }
    std::this_thread::sleep_for(2ms);
  }
  auto end = received() >= static_cast<std::uint64_t>(total)
                 ? Clock::now()
                 : (watcher ? watcher->last_change() : http_sink->last_change());
  result.received = received();
  result.wall_seconds = std::chrono::duration<double>(end - start).count();
  // Per thread, while the sender still runs: main = producer; helpers known; the rest = output.
  result.producer_cpu_seconds = thread_cpu_seconds() - producer_before;
  const pid_t main_tid = static_cast<pid_t>(::gettid());
  for (const auto& [tid, cpu] : thread_cpu_seconds_all()) {
    if (tid == main_tid || (watcher && tid == watcher->tid()) ||
        (http_sink && tid == http_sink->tid())) {
      continue;
    }
    double before = 0;
    for (const auto& [t0, c0] : threads_before)
      if (t0 == tid) before = c0;
    result.sender_cpu_seconds += cpu - before;
  }
  made.output->stop(5s);
  double helper_cpu = 0;
  if (watcher) {
    watcher->stop();
    helper_cpu = watcher->cpu_seconds();
  }
  if (http_sink) {
    result.requests = http_sink->requests();
    made.output.reset();  // closes its connection, so the sink's thread can end
    http_sink->stop();
    helper_cpu += http_sink->cpu_seconds();
  }
  result.agent_cpu_seconds = process_cpu_seconds() - cpu_before - helper_cpu;
  if (collector > 0)
    result.collector_cpu_seconds = pid_cpu_seconds(collector) - collector_cpu_before;
  return result;
}

void BM_EndToEnd(benchmark::State& state, Transport transport) {
  const int total = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));  // alerts per enqueue = per spool fsync
  RunResult r;
  for (auto _ : state) {
    r = run_transport(transport, total, batch);
    state.SetIterationTime(r.wall_seconds);
  }
  if (!r.error.empty()) {
    state.SkipWithError(r.error.c_str());
    return;
  }
  const double per100k = 100'000.0 / static_cast<double>(std::max<std::uint64_t>(r.received, 1));
  state.counters["alerts_per_s"] = static_cast<double>(r.received) / r.wall_seconds;
  state.counters["received"] = static_cast<double>(r.received);
  state.counters["agent_cpu_s_per_100k"] = r.agent_cpu_seconds * per100k;
  state.counters["producer_cpu_s_per_100k"] = r.producer_cpu_seconds * per100k;
  state.counters["sender_cpu_s_per_100k"] = r.sender_cpu_seconds * per100k;
  if (r.collector_cpu_seconds > 0)
    state.counters["collector_cpu_s_per_100k"] = r.collector_cpu_seconds * per100k;
  if (r.requests > 0) state.counters["requests"] = static_cast<double>(r.requests);
}

}  // namespace

// Iterations(1): each run is 100,000 alerts end to end, enqueued in batches of 1000 (or 10,000),
// one spool fsync per batch.
BENCHMARK_CAPTURE(BM_EndToEnd, tcp, Transport::kTcp)
    ->Args({100'000, 1000})
    ->Args({100'000, 10'000})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EndToEnd, tls, Transport::kTls)
    ->Args({100'000, 1000})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EndToEnd, relp, Transport::kRelp)
    ->Args({100'000, 1000})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EndToEnd, udp, Transport::kUdp)
    ->Args({100'000, 1000})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EndToEnd, http, Transport::kHttp)
    ->Args({100'000, 1000})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();

#endif  // _WIN32
