// Session tracker throughput and memory on a synthetic log: 1,000,000 events, 100,000 sessions
// over 1,000 computers, each session logging on, locking, unlocking, disconnecting,
// reconnecting and logging off through Security and TS-LSM; one session in ten never logs off
// (the agent must expire it, not keep it forever).
//
//   build/<dir>/bench/session_bench --benchmark_counters_tabular=true
// peak_rss_MB is the process's peak resident set (getrusage) after the run.
#include <benchmark/benchmark.h>

#include <string>

#include "sessionwatch/session.hpp"

#ifndef _WIN32
#include <sys/resource.h>
#endif

namespace {

using namespace sw;

constexpr int kHosts = 1000;
constexpr int kSessions = 100'000;
constexpr int kStepsPerSession = 10;  // events per session
constexpr int kBatch = 100;           // sessions in flight at once

class CountingSink : public TrackerSink {
 public:
  void on_event(Event&) override { ++events; }
  void on_derived(Event&, const std::vector<EvidenceRef>&) override { ++derived; }
  std::uint64_t events = 0, derived = 0;
};

const std::string kLsmChannel =
    "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational";
const std::string kLsmProvider = "Microsoft-Windows-TerminalServices-LocalSessionManager";

// Writes event `step` of session `n` into `e`.
void make_event(int n, int step, Ticks base, Event& e, std::uint64_t& record) {
  const int host = n % kHosts;
  const int session_id = 2 + n / kHosts;
  const bool never_ends = n % 10 == 9;
  char computer[32], user[32], sid[16], logon_id[24], address[24];
  std::snprintf(computer, sizeof computer, "ws-%04d.corp.example", host);
  std::snprintf(user, sizeof user, "CORP\\user%05d", n % 5000);
  std::snprintf(sid, sizeof sid, "%d", session_id);
  std::snprintf(logon_id, sizeof logon_id, "0x%x", 0x10000 + n);
  std::snprintf(address, sizeof address, "10.%d.%d.%d", (n >> 16) & 255, (n >> 8) & 255, n & 255);
  const std::string_view user_name = std::string_view(user).substr(5);
  e.clear();
  e.set_computer(computer);
  e.time_created = base + step * 60 * kTicksPerSecond + (n % kBatch) * (kTicksPerSecond / 100);
  e.record_id = ++record;
  auto lsm_event = [&](std::uint32_t id, bool with_address) {
    e.set_channel(kLsmChannel);
    e.set_provider_name(kLsmProvider);
    e.event_id = id;
    e.add_field("User", user, FieldOrigin::kUserData);
    e.add_field("SessionID", sid, FieldOrigin::kUserData);
    if (with_address) e.add_field("Address", address, FieldOrigin::kUserData);
  };
  auto security_event = [&](std::uint32_t id) {
    e.set_channel("Security");
    e.set_provider_name("Microsoft-Windows-Security-Auditing");
    e.event_id = id;
    e.add_field("TargetUserSid", "S-1-5-21-1-2-3-1104");
    e.add_field("TargetUserName", user_name);
    e.add_field("TargetDomainName", "CORP");
    e.add_field("TargetLogonId", logon_id);
  };
  switch (step) {
    case 0:
      security_event(4624);
      e.add_field("LogonType", "10");
      e.add_field("IpAddress", address);
      break;
    case 1:
      lsm_event(21, true);
      break;
    case 2:
      lsm_event(22, true);
      break;
    case 3:
      security_event(4800);
      e.add_field("SessionId", sid);
      break;
    case 4:
      security_event(4801);
      e.add_field("SessionId", sid);
      break;
    case 5:
      lsm_event(24, true);
      break;
    case 6:
      lsm_event(25, true);
      break;
    case 7:
      security_event(4672);  // special privileges: read, not tracked
      break;
    case 8:
      if (never_ends) {
        security_event(4673);
      } else {
        lsm_event(23, false);
      }
      break;
    default:
      if (never_ends) {
        security_event(4673);
      } else {
        security_event(4634);
        e.add_field("LogonType", "10");
      }
      break;
  }
}

// Feeds the whole synthetic log; sessions run in batches, events of a batch interleaved in time.
void run_log(SessionTracker& tracker) {
  Event e;
  std::uint64_t record = 0;
  const Ticks start = parse_time("2026-11-01T00:00:00Z").value();
  for (int batch = 0; batch < kSessions / kBatch; ++batch) {
    const Ticks base = start + static_cast<Ticks>(batch) * 11 * 60 * kTicksPerSecond;
    for (int step = 0; step < kStepsPerSession; ++step) {
      for (int i = 0; i < kBatch; ++i) {
        make_event(batch * kBatch + i, step, base, e, record);
        tracker.push(e);
      }
    }
  }
  tracker.flush();
}

double peak_rss_mb() {
#ifndef _WIN32
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
#else
  return 0;
#endif
}

void report(benchmark::State& state, const SessionTracker& tracker, const CountingSink& sink) {
  state.counters["derived"] = static_cast<double>(sink.derived);
  state.counters["hosts"] = static_cast<double>(tracker.hosts().size());
  state.counters["expired"] = static_cast<double>(tracker.stats().sessions_expired);
  state.counters["evicted"] = static_cast<double>(tracker.stats().sessions_evicted);
  state.counters["held_peak"] = static_cast<double>(tracker.stats().buffered_peak);
  state.counters["peak_rss_MB"] = peak_rss_mb();
}

// The agent's defaults: 5 s reorder window, timeline kept for `scan --sessions`.
void BM_TrackerDefaults(benchmark::State& state) {
  for (auto _ : state) {
    CountingSink sink;
    TrackerOptions options;
    options.stale_after = 24 * 3600 * kTicksPerSecond;
    SessionTracker tracker(options, sink);
    run_log(tracker);
    benchmark::DoNotOptimize(sink.events);
    state.PauseTiming();
    report(state, tracker, sink);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kSessions *
                          kStepsPerSession);
}
BENCHMARK(BM_TrackerDefaults)->Unit(benchmark::kMillisecond)->Iterations(1);

// The daemon's shape: no timeline, events processed on arrival.
void BM_TrackerNoReorderNoTimeline(benchmark::State& state) {
  for (auto _ : state) {
    CountingSink sink;
    TrackerOptions options;
    options.reorder_window = 0;
    options.max_timeline_per_host = 0;
    options.stale_after = 24 * 3600 * kTicksPerSecond;
    SessionTracker tracker(options, sink);
    run_log(tracker);
    benchmark::DoNotOptimize(sink.events);
    state.PauseTiming();
    report(state, tracker, sink);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kSessions *
                          kStepsPerSession);
}
BENCHMARK(BM_TrackerNoReorderNoTimeline)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
