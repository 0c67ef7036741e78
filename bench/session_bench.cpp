// Session tracker throughput and memory on a synthetic log: 1,000,000 events, 100,000 sessions
// over 1,000 computers, each session logging on, locking, unlocking, disconnecting,
// reconnecting and logging off through Security and TS-LSM; one session in ten never logs off
// (the agent must expire it, not keep it forever).
//
//   build/<dir>/bench/session_bench --benchmark_counters_tabular=true
// peak_rss_MB is the process's peak resident set (getrusage) after the run.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

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

// More computers than the tracker keeps (its `max_hosts` cap, scaled down here): every event of
// a new computer evicts the quietest one. What a relay owning too many computers does all day.
void BM_TrackerOverHostCap(benchmark::State& state) {
  constexpr int kCap = 2000;
  constexpr int kComputers = 3 * kCap;
  constexpr int kEvents = 200'000;
  for (auto _ : state) {
    CountingSink sink;
    TrackerOptions options;
    options.reorder_window = 0;
    options.max_timeline_per_host = 0;
    options.max_hosts = kCap;
    SessionTracker tracker(options, sink);
    Event e;
    char computer[32];
    for (int n = 0; n < kEvents; ++n) {
      std::snprintf(computer, sizeof computer, "ws-%05d.corp.example", n % kComputers);
      e.clear();
      e.set_computer(computer);
      e.set_channel(kLsmChannel);
      e.set_provider_name(kLsmProvider);
      e.event_id = 21;
      e.time_created = 16'000'000'000'000'000 + n * kTicksPerSecond;
      e.record_id = static_cast<std::uint64_t>(n) + 1;
      e.add_field("User", "CORP\\user", FieldOrigin::kUserData);
      e.add_field("SessionID", "1", FieldOrigin::kUserData);
      e.add_field("Address", "LOCAL", FieldOrigin::kUserData);
      tracker.push(e);
    }
    tracker.flush();
    state.counters["hosts_evicted"] = static_cast<double>(tracker.stats().hosts_evicted);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kEvents);
}
BENCHMARK(BM_TrackerOverHostCap)->Unit(benchmark::kMillisecond)->Iterations(1);

// A stream shaped like bench/gen_jsonl.py's Winlogbeat output (200 hosts, RDS hosts busier):
// network logon pairs, RDP and console logons with TS-LSM 21, disconnects, reconnects that log
// a fresh type-10 logon which never gets a session or a logoff, and logoffs; ~4.5 ms per event.
// Those unanswered RDP logons are what made the per-event cost grow with the input.
class JsonlLikeLog {
 public:
  explicit JsonlLikeLog(int hosts) : hosts_(static_cast<std::size_t>(hosts)) {
    for (std::size_t i = 0; i < hosts_.size(); ++i) {
      HostState& h = hosts_[i];
      const char* kind = i % 10 == 0 ? "rds" : (i % 4 == 0 ? "srv" : "ws");
      h.rds = i % 10 == 0;
      h.weight = h.rds ? 8 : (i % 4 == 0 ? 3 : 1);
      total_weight_ += h.weight;
      char name[48];
      std::snprintf(name, sizeof name, "%s-%04zu.contoso.local", kind, i);
      h.name = name;
    }
  }

  // Feeds events until `count` were pushed.
  void run(SessionTracker& tracker, std::uint64_t count) {
    while (pushed_ < count) step(tracker);
    tracker.flush();
  }

 private:
  struct Live {
    int user = 0;
    std::uint32_t session_id = 0;
    std::uint64_t logon_id = 0;
    bool console = false, connected = true;
  };
  struct HostState {
    std::string name;
    bool rds = false;
    int weight = 1;
    std::uint32_t next_session = 2;
    bool console_taken = false;
    std::vector<Live> live;
  };

  std::uint64_t next(std::uint64_t bound) { return rng_() % bound; }

  Event& begin(const HostState& h, std::string_view channel, std::string_view provider,
               std::uint32_t id) {
    e_.clear();
    t_ += static_cast<Ticks>(next(10)) * (kTicksPerSecond / 1000);
    e_.time_created = t_;
    e_.set_computer(h.name);
    e_.set_channel(channel);
    e_.set_provider_name(provider);
    e_.event_id = id;
    e_.record_id = ++record_;
    return e_;
  }
  void push(SessionTracker& tracker) {
    tracker.push(e_);
    ++pushed_;
  }
  static std::string user_name(int user) { return "user." + std::to_string(user); }
  static std::string hex(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
  }

  void logon(SessionTracker& tracker, const HostState& h, int user, std::uint64_t logon_id,
             int type) {
    Event& e = begin(h, "Security", "Microsoft-Windows-Security-Auditing", 4624);
    e.add_field("TargetUserSid", "S-1-5-21-1-2-3-" + std::to_string(1100 + user));
    e.add_field("TargetUserName", user_name(user));
    e.add_field("TargetDomainName", "CONTOSO");
    e.add_field("TargetLogonId", hex(logon_id));
    e.add_field("LogonType", std::to_string(type));
    e.add_field("IpAddress", type == 2 ? "127.0.0.1" : "10.1.2.3");
    push(tracker);
  }
  void logoff(SessionTracker& tracker, const HostState& h, int user, std::uint64_t logon_id,
              std::uint32_t id) {
    Event& e = begin(h, "Security", "Microsoft-Windows-Security-Auditing", id);
    e.add_field("TargetUserName", user_name(user));
    e.add_field("TargetDomainName", "CONTOSO");
    e.add_field("TargetLogonId", hex(logon_id));
    push(tracker);
  }
  void lsm(SessionTracker& tracker, const HostState& h, const Live& s, std::uint32_t id) {
    Event& e = begin(h, kLsmChannel, kLsmProvider, id);
    e.add_field("User", "CONTOSO\\" + user_name(s.user), FieldOrigin::kUserData);
    e.add_field("SessionID", std::to_string(s.session_id), FieldOrigin::kUserData);
    if (id != 23) e.add_field("Address", s.console ? "LOCAL" : "10.1.2.3", FieldOrigin::kUserData);
    push(tracker);
  }
  void connection(SessionTracker& tracker, const HostState& h, const Live& s, std::uint32_t id) {
    Event& e = begin(h, "Security", "Microsoft-Windows-Security-Auditing", id);
    e.add_field("AccountName", user_name(s.user));
    e.add_field("AccountDomain", "CONTOSO");
    e.add_field("LogonID", hex(s.logon_id));
    e.add_field("SessionName",
                s.console ? std::string("Console") : "RDP-Tcp#" + std::to_string(s.session_id));
    e.add_field("ClientAddress", s.console ? "127.0.0.1" : "10.1.2.3");
    push(tracker);
  }

  void step(SessionTracker& tracker) {
    std::uint64_t pick = next(static_cast<std::uint64_t>(total_weight_));
    std::size_t index = 0;
    while (pick >= static_cast<std::uint64_t>(hosts_[index].weight)) {
      pick -= static_cast<std::uint64_t>(hosts_[index].weight);
      ++index;
    }
    HostState& h = hosts_[index];
    const double x = static_cast<double>(next(1'000'000)) / 1e6;
    const int user = static_cast<int>(next(600));
    if (x < 0.40 || (h.live.empty() && x < 0.6)) {
      const std::uint64_t id = ++logon_id_;
      logon(tracker, h, user, id, 3);
      logoff(tracker, h, user, id, 4634);
      return;
    }
    if (x < 0.60 || h.live.empty()) {
      if (h.live.size() >= (h.rds ? 30u : 3u)) {
        const std::uint64_t id = ++logon_id_;
        logon(tracker, h, user, id, 3);
        logoff(tracker, h, user, id, 4634);
        return;
      }
      Live s;
      s.user = user;
      s.logon_id = ++logon_id_;
      s.console = !h.rds && !h.console_taken && next(10) < 7;
      s.session_id = s.console ? 1 : h.next_session++;
      if (s.console) h.console_taken = true;
      h.live.push_back(s);
      logon(tracker, h, user, s.logon_id, s.console ? 2 : 10);
      lsm(tracker, h, s, 21);
      return;
    }
    const std::size_t which = static_cast<std::size_t>(next(h.live.size()));
    Live& s = h.live[which];
    if (x < 0.75 || (x < 0.85 && !s.connected)) {
      if (s.connected) {
        s.connected = false;
        lsm(tracker, h, s, 24);
        connection(tracker, h, s, 4779);
      } else {
        s.connected = true;
        // A reconnect authenticates with a new logon that never gets a session of its own.
        logon(tracker, h, s.user, ++logon_id_, s.console ? 7 : 10);
        connection(tracker, h, s, 4778);
        lsm(tracker, h, s, 25);
      }
      return;
    }
    const Live gone = s;
    h.live.erase(h.live.begin() + static_cast<std::ptrdiff_t>(which));
    if (gone.console) h.console_taken = false;
    logoff(tracker, h, gone.user, gone.logon_id, 4647);
    lsm(tracker, h, gone, 23);
    logoff(tracker, h, gone.user, gone.logon_id, 4634);
  }

  std::vector<HostState> hosts_;
  int total_weight_ = 0;
  std::mt19937_64 rng_{42};
  Event e_;
  Ticks t_ = parse_time("2026-11-02T08:00:00Z").value();
  std::uint64_t record_ = 0, logon_id_ = 0x100000, pushed_ = 0;
};

// The daemon's shape on the Winlogbeat-like stream; range(0) events, so the per-event cost of
// 100k and 1M events can be compared (it must not grow with the input).
void BM_TrackerJsonlLike(benchmark::State& state) {
  const auto events = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    CountingSink sink;
    TrackerOptions options;
    options.reorder_window = 0;
    options.max_timeline_per_host = 0;
    SessionTracker tracker(options, sink);
    JsonlLikeLog log(200);
    log.run(tracker, events);
    benchmark::DoNotOptimize(sink.events);
    state.PauseTiming();
    report(state, tracker, sink);
    std::size_t held = 0;
    for (const std::string& host : tracker.hosts()) held += tracker.sessions(host).size();
    state.counters["held_records"] = static_cast<double>(held);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(events));
}
BENCHMARK(BM_TrackerJsonlLike)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// SessionTracker::sessions() of every host after the Winlogbeat-like stream, as the query API's
// LiveState asks for them: cost per held record (sessions and logons still open).
void BM_SessionsOfHeldRecords(benchmark::State& state) {
  CountingSink sink;
  TrackerOptions options;
  options.reorder_window = 0;
  options.max_timeline_per_host = 0;
  SessionTracker tracker(options, sink);
  JsonlLikeLog log(static_cast<int>(state.range(0)));
  log.run(tracker, 300'000);
  const std::vector<std::string> hosts = tracker.hosts();
  std::size_t held = 0;
  for (auto _ : state) {
    held = 0;
    for (const std::string& host : hosts) held += tracker.sessions(host).size();
    benchmark::DoNotOptimize(held);
  }
  state.counters["held_records"] = static_cast<double>(held);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * held));
}
BENCHMARK(BM_SessionsOfHeldRecords)->Arg(10)->Arg(200)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
