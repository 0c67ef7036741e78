// Formatting real alerts (tests/data/alerts: 7063 refusals and rule matches from the corpus) in
// every output format: time per alert and heap allocations per alert. The allocation count comes
// from a replaced global operator new (this program only).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/forward.hpp"

namespace {

std::atomic<std::uint64_t> g_allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
// GCC pairs the malloc above with this free and, not seeing they are one replacement, warns.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop

namespace {

std::vector<sw::Alert> corpus_alerts() {
  std::vector<sw::Alert> alerts;
  std::ifstream in(SW_TEST_DATA_DIR "/alerts/corpus_alerts.jsonl");
  for (std::string line; std::getline(in, line);) {
    if (auto alert = sw::parse_alert_json(line)) alerts.push_back(std::move(*alert));
  }
  return alerts;
}

// Arg: the format (json, rfc5424, rfc3164, cef). Counters: ns and allocations per alert.
void BM_FormatCorpusAlerts(benchmark::State& state) {
  const std::vector<sw::Alert> alerts = corpus_alerts();
  if (alerts.empty()) {
    state.SkipWithError("no alerts in tests/data/alerts/corpus_alerts.jsonl");
    return;
  }
  sw::forward::FormatOptions options;
  options.format = static_cast<sw::forward::Format>(state.range(0));
  state.SetLabel(std::string(sw::forward::to_string(options.format)));
  std::string out;
  std::size_t i = 0;
  std::uint64_t allocations = 0;
  for (auto _ : state) {
    out.clear();
    const std::uint64_t before = g_allocations.load(std::memory_order_relaxed);
    sw::forward::format_alert(alerts[i++ % alerts.size()], options, out);
    allocations += g_allocations.load(std::memory_order_relaxed) - before;
    benchmark::DoNotOptimize(out.data());
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["allocs_per_alert"] = static_cast<double>(allocations) / n;
  state.counters["bytes_per_alert"] =
      benchmark::Counter(static_cast<double>(out.size()), benchmark::Counter::kDefaults);
}
BENCHMARK(BM_FormatCorpusAlerts)->DenseRange(0, 3)->Iterations(100'000);

}  // namespace

BENCHMARK_MAIN();
