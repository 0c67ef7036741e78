// What a checkpoint costs as the detector's state grows: the daemon's state after the first N
// events of a generated input (../shared/bench/gen_jsonl.py, e.g. 100000 lines from 200 hosts
// with --rate 10 so that the correlation rules keep state), with the shipped rules.
//
//   python3 ../shared/bench/gen_jsonl.py 100000 /tmp/in.jsonl --rate 10 --hosts 200
//   SW_STATE_BENCH_INPUT=/tmp/in.jsonl build/<dir>/bench/state_bench
//
// BM_WholeStateCheckpoint: what every checkpoint wrote before the journal (the whole detector
// snapshot as one text in state.json, written atomically). BM_FullCheckpoint: the full
// checkpoint the journal is folded into. BM_JournalCheckpoint: a checkpoint after 200 more
// events (the parts they changed appended to the journal and flushed to disk).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "daemon/state.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/pipeline.hpp"
#include "sessionwatch/platform.hpp"

namespace {

using namespace sw;
namespace fs = std::filesystem;

constexpr int kEventsBetweenCheckpoints = 200;

struct Loaded {
  std::unique_ptr<Detector> detector;
  std::ifstream input;
  JsonLineDecoder decoder;
  Event event;
  std::int64_t events = 0;

  void feed(std::int64_t n) {
    std::string line, error;
    for (std::int64_t i = 0; i < n && std::getline(input, line); ++i) {
      event.clear();
      if (!decoder.decode(line, event, error)) continue;
      detector->process(event, [](Alert&&) {});
      ++events;
    }
  }
};

// The detector after `events` events, kept across benchmarks (inputs are read in order).
Loaded* loaded(std::int64_t events) {
  static std::unique_ptr<Loaded> state;
  const char* path = std::getenv("SW_STATE_BENCH_INPUT");
  if (!path) return nullptr;
  if (!state || state->events > events) {
    state = std::make_unique<Loaded>();
    DetectorOptions options;
    options.rule_paths = {std::string(SW_TEST_DATA_DIR) + "/../../rules"};  // the shipped rules
    if (const char* rules = std::getenv("SW_STATE_BENCH_RULES")) options.rule_paths = {rules};
    options.tracker.reorder_window = 0;
    options.tracker.max_timeline_per_host = 0;
    std::vector<std::string> problems;
    state->detector = Detector::create(options, problems);
    state->input.open(path);
    if (!state->detector || !state->input) return nullptr;
  }
  state->feed(events - state->events);
  return state.get();
}

fs::path bench_dir() {
  const fs::path dir = fs::temp_directory_path() / "sw_state_bench";
  fs::create_directories(dir);
  return dir;
}

void BM_WholeStateCheckpoint(benchmark::State& st) {
  Loaded* l = loaded(st.range(0));
  if (!l) return st.SkipWithError("set SW_STATE_BENCH_INPUT to a gen_jsonl.py file");
  const std::string path = (bench_dir() / "whole.json").string();
  std::size_t bytes = 0;
  for (auto _ : st) {
    const std::string text =
        nlohmann::json{{"version", 1}, {"detector", l->detector->snapshot()}}.dump(1);
    std::string error;
    if (!platform::write_file_atomically(path, text, error)) st.SkipWithError(error.c_str());
    bytes = text.size();
  }
  st.counters["state_MB"] = static_cast<double>(bytes) / 1e6;
}

void BM_FullCheckpoint(benchmark::State& st) {
  Loaded* l = loaded(st.range(0));
  if (!l) return st.SkipWithError("set SW_STATE_BENCH_INPUT to a gen_jsonl.py file");
  daemon::StateStore store((bench_dir() / "state.json").string());
  for (auto _ : st) {
    StateParts parts;
    l->detector->snapshot_parts(false, parts);
    daemon::AgentState full;
    for (StatePart& p : parts) full.parts.emplace(std::move(p.key), std::move(*p.value));
    std::string error;
    if (!store.save(full, error)) st.SkipWithError(error.c_str());
  }
  st.counters["state_MB"] = static_cast<double>(store.full_bytes()) / 1e6;
}

void BM_JournalCheckpoint(benchmark::State& st) {
  Loaded* l = loaded(st.range(0));
  if (!l) return st.SkipWithError("set SW_STATE_BENCH_INPUT to a gen_jsonl.py file");
  daemon::StateStore store((bench_dir() / "state.json").string());
  daemon::AgentState positions;
  std::string error;
  StateParts parts;
  l->detector->snapshot_parts(false, parts);  // as after the last checkpoint
  if (!store.save(positions, error)) return st.SkipWithError(error.c_str());
  std::uint64_t records = 0;
  for (auto _ : st) {
    st.PauseTiming();
    l->feed(kEventsBetweenCheckpoints);
    st.ResumeTiming();
    StateParts changes;
    l->detector->snapshot_parts(true, changes);
    if (!store.append(positions, changes, error)) st.SkipWithError(error.c_str());
    ++records;
  }
  st.counters["record_KB"] =
      static_cast<double>(store.journal_bytes()) / 1e3 / static_cast<double>(records ? records : 1);
}

BENCHMARK(BM_WholeStateCheckpoint)
    ->Arg(10000)
    ->Arg(50000)
    ->Arg(90000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FullCheckpoint)->Arg(10000)->Arg(50000)->Arg(90000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JournalCheckpoint)
    ->Arg(10000)
    ->Arg(50000)
    ->Arg(90000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(20);

}  // namespace

BENCHMARK_MAIN();
