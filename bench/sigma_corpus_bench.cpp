// The real SigmaHQ Windows rule set (SW_SHARED_DIR/corpus/sigma/rules/windows; the environment
// variable SW_SHARED_DIR overrides the built-in path): the time to load all of it, and the cost
// per event with the first 10, the first 100 and all of its rule files loaded, over the events
// of the Sigma regression EVTX files (a realistic mix of channels and event ids).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "sessionwatch/evtx_native.hpp"
#include "sessionwatch/rules.hpp"

namespace {

namespace fs = std::filesystem;

std::string shared_dir() {
  const char* env = std::getenv("SW_SHARED_DIR");
  return env ? env : SW_SHARED_DIR;
}

std::string windows_rules() {
  return shared_dir() + "/corpus/sigma/rules/windows";
}

std::vector<std::string> rule_files() {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(windows_rules(), ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".yml") files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Collect : public sw::EventSink {
 public:
  void on_event(sw::Event& e) override { events.push_back(e); }
  void on_error(const sw::DecodeError&) override {}
  std::vector<sw::Event> events;
};

const std::vector<sw::Event>& regression_events() {
  static const std::vector<sw::Event> events = [] {
    Collect sink;
    std::error_code ec;
    const std::string dir = shared_dir() + "/corpus/sigma/regression_data";
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().extension() != ".evtx") continue;
      std::string error;
      if (auto reader = sw::open_native_evtx(it->path().string(), error)) reader->read(sink);
    }
    return sink.events;
  }();
  return events;
}

void BM_LoadWindowsSet(benchmark::State& state) {
  if (!fs::exists(windows_rules())) {
    state.SkipWithError("SigmaHQ corpus not found: set SW_SHARED_DIR");
    return;
  }
  std::size_t loaded = 0;
  for (auto _ : state) loaded = sw::RuleSet::load({windows_rules()}).loaded;
  state.counters["rules"] = static_cast<double>(loaded);
}

// Arg: rule files loaded (0 = all).
void BM_MatchRegressionEvents(benchmark::State& state) {
  std::vector<std::string> files = rule_files();
  const auto& events = regression_events();
  if (files.empty() || events.empty()) {
    state.SkipWithError("SigmaHQ corpus not found: set SW_SHARED_DIR");
    return;
  }
  if (state.range(0) > 0) files.resize(std::min<std::size_t>(files.size(), state.range(0)));
  auto loaded = sw::RuleSet::load(files);
  std::size_t hits = 0, i = 0;
  for (auto _ : state) {
    hits += loaded.rules->match(events[i], [](const sw::RuleMatch&) {});
    i = i + 1 == events.size() ? 0 : i + 1;
  }
  benchmark::DoNotOptimize(hits);
  state.counters["rules"] = static_cast<double>(loaded.loaded);
  state.counters["events"] = static_cast<double>(events.size());
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_LoadWindowsSet)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatchRegressionEvents)->Arg(10)->Arg(100)->Arg(0);

}  // namespace

BENCHMARK_MAIN();
