// Rule matching throughput against 10, 100 and 1,000 generated Sigma rules, for events that
// reach indexed rules (same channel and event id) and events that miss the index.
#include <benchmark/benchmark.h>

#include <string>

#include "sessionwatch/rules.hpp"

namespace {

// Rule i: a process_creation rule (Sysmon 1 / Security 4688) or a Security 4625 rule, with the
// modifiers SigmaHQ uses most (endswith, contains, contains|all, startswith, re).
std::string generated_rules(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (!out.empty()) out += "---\n";
    out += "title: Generated " + std::to_string(i) + "\nid: gen-" + std::to_string(i) + "\n";
    if (i % 4 == 3) {
      out +=
          "logsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n"
          "    EventID: 4625\n    TargetUserName|startswith: 'svc_" +
          std::to_string(i) +
          "'\n"
          "    IpAddress|cidr: 10." +
          std::to_string(i % 200) +
          ".0.0/16\n"
          "  condition: sel\n";
      continue;
    }
    out +=
        "logsource:\n  product: windows\n  category: process_creation\ndetection:\n"
        "  sel_img:\n    Image|endswith:\n      - '\\tool" +
        std::to_string(i) +
        ".exe'\n"
        "      - '\\alt" +
        std::to_string(i) +
        ".exe'\n"
        "  sel_cli:\n    CommandLine|contains|all:\n      - ' -flag" +
        std::to_string(i) +
        "'\n"
        "      - ' /x'\n"
        "  sel_re:\n    CommandLine|re: 'pattern" +
        std::to_string(i) +
        "[0-9]+'\n"
        "  filter:\n    ParentImage|startswith: 'C:\\Program Files\\Vendor" +
        std::to_string(i) +
        "\\'\n"
        "  condition: (sel_img and sel_cli or sel_re) and not filter\n";
  }
  return out;
}

sw::Event process_event() {
  sw::Event e;
  e.set_channel("Microsoft-Windows-Sysmon/Operational");
  e.event_id = 1;
  e.set_computer("ws1.corp");
  e.add_field("Image", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe");
  e.add_field("CommandLine",
              "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\scripts\\inventory.ps1");
  e.add_field("ParentImage", "C:\\Windows\\explorer.exe");
  e.add_field("User", "CORP\\alice");
  return e;
}

sw::Event unindexed_event() {
  sw::Event e;
  e.set_channel("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational");
  e.event_id = 21;
  e.set_computer("ws1.corp");
  e.add_field("User", "CORP\\alice");
  e.add_field("SessionID", "2");
  e.add_field("Address", "LOCAL");
  return e;
}

void run(benchmark::State& state, const sw::Event& event) {
  auto loaded = sw::RuleSet::load_text(generated_rules(static_cast<int>(state.range(0))), "bench");
  if (!loaded.ok()) {
    state.SkipWithError(sw::to_string(loaded.problems.front()).c_str());
    return;
  }
  std::size_t hits = 0;
  for (auto _ : state) {
    hits += loaded.rules->match(event, [](const sw::RuleMatch&) {});
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations());
}

void BM_IndexedChannelAndEventId(benchmark::State& state) {
  run(state, process_event());
}
void BM_MissesIndex(benchmark::State& state) {
  run(state, unindexed_event());
}

BENCHMARK(BM_IndexedChannelAndEventId)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_MissesIndex)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
