// What `event_ids: auto` saves the agent on a busy domain controller's Security log: the
// Event XML of 200,000 Security events (a DC mix: Kerberos, NTLM, network logons and logoffs,
// special privileges, WFP, directory access), decoded and run through the detector with the
// shipped rules, once whole (`event_ids: all`) and once as Windows delivers it with the
// detector's interest as the subscription query (`auto`).
//
// The Windows-side saving (EvtRender of each delivered event) comes on top and cannot be
// measured here; this is the agent's own share.
//
//   build/<dir>/bench/interest_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/pipeline.hpp"

namespace {

using namespace sw;

constexpr int kEvents = 200'000;
constexpr int kHosts = 50;

// (event id, share in percent) of a DC's Security log with WFP auditing on.
struct Share {
  std::uint32_t id;
  int percent;
};
constexpr Share kMix[] = {{4769, 25}, {4624, 15}, {4634, 15}, {5156, 15},
                          {4776, 10}, {4672, 10}, {4768, 5},  {4662, 5}};

std::string event_xml(std::uint32_t id, int n) {
  char buf[1536];
  const int host = n % kHosts;
  const int second = n / 20;
  std::snprintf(
      buf, sizeof buf,
      "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
      "<Provider Name='Microsoft-Windows-Security-Auditing' "
      "Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>%u</EventID><Version>2</Version>"
      "<Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords>"
      "<TimeCreated SystemTime='2026-11-25T%02d:%02d:%02d.%03dZ'/><EventRecordID>%d</EventRecordID>"
      "<Correlation/><Execution ProcessID='640' ThreadID='%d'/><Channel>Security</Channel>"
      "<Computer>dc%02d.corp.example</Computer><Security/></System><EventData>"
      "<Data Name='SubjectUserSid'>S-1-5-18</Data><Data Name='SubjectUserName'>DC%02d$</Data>"
      "<Data Name='SubjectDomainName'>CORP</Data><Data Name='SubjectLogonId'>0x3e7</Data>"
      "<Data Name='TargetUserSid'>S-1-5-21-1-2-3-%d</Data>"
      "<Data Name='TargetUserName'>user%04d</Data><Data Name='TargetDomainName'>CORP</Data>"
      "<Data Name='TargetLogonId'>0x%x</Data><Data Name='LogonType'>3</Data>"
      "<Data Name='LogonProcessName'>Kerberos</Data><Data Name='AuthenticationPackageName'>"
      "Kerberos</Data><Data Name='WorkstationName'>-</Data><Data Name='IpAddress'>10.1.%d.%d</Data>"
      "<Data Name='IpPort'>%d</Data><Data Name='Status'>0x0</Data></EventData></Event>\n",
      id, (second / 3600) % 24, (second / 60) % 60, second % 60, n % 1000, n + 1, 1000 + n % 64,
      host, host, 1000 + n % 4000, n % 4000, 0x10000 + n, (n >> 8) & 255, n & 255,
      49152 + n % 16000);
  return buf;
}

// The DC's log: ids drawn from the mix in a fixed rotation.
std::vector<std::uint32_t> event_ids() {
  std::vector<std::uint32_t> rotation;
  for (const Share& s : kMix) rotation.insert(rotation.end(), s.percent, s.id);
  std::vector<std::uint32_t> ids;
  ids.reserve(kEvents);
  for (int n = 0; n < kEvents; ++n) ids.push_back(rotation[(n * 37) % rotation.size()]);
  return ids;
}

std::unique_ptr<Detector> shipped_detector() {
  DetectorOptions options;
  options.rule_paths = {std::string(SW_TEST_DATA_DIR) + "/../../rules"};
  std::vector<std::string> problems;
  return Detector::create(options, problems);
}

class DetectSink : public EventSink {
 public:
  explicit DetectSink(Detector& d) : detector_(d) {}
  void on_event(Event& e) override {
    detector_.process(e, [this](Alert&&) { ++alerts; });
  }
  void on_error(const DecodeError&) override { ++errors; }
  std::uint64_t alerts = 0, errors = 0;

 private:
  Detector& detector_;
};

void run(benchmark::State& state, bool filtered) {
  auto probe = shipped_detector();
  if (!probe) {
    state.SkipWithError("shipped rules did not load");
    return;
  }
  const EventInterest interest = probe->interest();
  const std::vector<std::uint32_t> ids = event_ids();
  std::string delivered;
  std::size_t delivered_events = 0;
  for (int n = 0; n < kEvents; ++n) {
    if (filtered && !interest.accepts("Security", ids[n])) continue;
    delivered += event_xml(ids[n], n);
    ++delivered_events;
  }
  std::uint64_t errors = 0;
  for (auto _ : state) {
    auto detector = shipped_detector();
    DetectSink sink(*detector);
    decode_xml_stream(delivered, "bench", sink);
    detector->flush([&](Alert&&) { ++sink.alerts; });
    errors += sink.errors;
  }
  state.counters["delivered_pct"] = 100.0 * static_cast<double>(delivered_events) / kEvents;
  // Per event the DC logged, delivered or not: what the choice costs per 1M logged events.
  state.counters["logged_events_per_s"] =
      benchmark::Counter(static_cast<double>(kEvents) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["decode_errors"] = static_cast<double>(errors);
}

void BM_SecurityLog_EventIdsAll(benchmark::State& state) {
  run(state, false);
}
void BM_SecurityLog_EventIdsAuto(benchmark::State& state) {
  run(state, true);
}

BENCHMARK(BM_SecurityLog_EventIdsAll)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
BENCHMARK(BM_SecurityLog_EventIdsAuto)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
