// `sessionwatch run` killed with SIGKILL at random points while it reads 100,000 events, then
// run once to the end: every alert an uninterrupted run raises is there, by event.id, correlation
// alerts included (their state is checkpointed with the positions), and duplicates stay bounded
// by what the checkpoints leave to read again. Kill points follow the agent's progress (its
// alerts file growing), not the clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "agent_process.hpp"

namespace {

using namespace sw_test;

constexpr int kEvents = 100000;
constexpr int kKills = 20;
constexpr int kHosts = 200;
constexpr int kRefusalRecords = 700000;  // record id of refusal n: this + n
const std::string kRepeatedRefusals = "5f0d7a52-7063-4c1e-9e0a-7063a1e7c004";

// Session traffic on kHosts computers (logons with their SIDs, so the tracker keeps state per
// computer) and, one event in ten, a refused console reclaim (Win32 7063) by one of 40
// requesters: the shipped correlation rules count those per requester and computer, and keep
// thousands of groups open, so the state grows to megabytes as in a busy deployment.
std::string event_line(int n) {
  const int host_index = static_cast<int>((n * 7919LL) % kHosts);
  const std::string host = "srv-" + std::to_string(host_index) + ".contoso.local";
  const long long ms = 1793606400000LL + n * 10LL;  // 10 ms apart: 1,000 s of events
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "2026-11-02T%02lld:%02lld:%02lld.%03lldZ", (ms / 3600000) % 24,
                (ms / 60000) % 60, (ms / 1000) % 60, ms % 1000);
  nlohmann::json j;
  j["@timestamp"] = stamp;
  j["host"]["name"] = host;
  const std::string user = "user" + std::to_string((n * 31 / 7) % 40);
  if (n % 10 == 9) {
    j["winlog"] = {{"channel", "Application"},
                   {"provider_name", "Contoso-SeatReclaimer"},
                   {"event_id", "1001"},
                   {"record_id", std::to_string(kRefusalRecords + n)},
                   {"computer_name", host},
                   {"event_data",
                    {{"TargetUserName", user},
                     {"TargetDomainName", "CONTOSO"},
                     {"ConsoleUserName", "holder" + std::to_string(host_index % 3)},
                     {"ConsoleDomainName", "CONTOSO"},
                     {"Win32Status", "7063"}}}};
  } else {
    j["winlog"] = {{"channel", "Security"},
                   {"provider_name", "Microsoft-Windows-Security-Auditing"},
                   {"event_id", "4624"},
                   {"record_id", std::to_string(3000000 + n)},
                   {"computer_name", host},
                   {"event_data",
                    {{"TargetUserName", "u" + std::to_string(n % 211)},
                     {"TargetDomainName", "CONTOSO"},
                     {"TargetUserSid", "S-1-5-21-7-7-7-" + std::to_string(1000 + n % 211)},
                     {"TargetLogonId", "0x" + std::to_string(100000 + n)},
                     {"LogonType", "3"},
                     {"IpAddress", "10.1.0." + std::to_string(n % 250)}}}};
  }
  return j.dump() + "\n";
}

class CrashConsistency : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(binary())) GTEST_SKIP() << "sessionwatch binary not built: " << binary();
    dir_ = fs::temp_directory_path() / ("sw_crash_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    std::string events;
    for (int n = 0; n < kEvents; ++n) events += event_line(n);
    for (const char* run : {"reference", "crashed"}) {
      fs::create_directories(dir_ / run / "in");
      std::ofstream(dir_ / run / "in" / "events.jsonl", std::ios::binary) << events;
      std::ofstream config(dir_ / run / "sessionwatch.yaml");
      config << "agent:\n  data_dir: " << (dir_ / run / "data").string() << "\n"
             << "inputs:\n  - type: file\n    name: events\n    paths: [\""
             << (dir_ / run / "in").string() << "/*.jsonl\"]\n    format: jsonl\n"
             << "rules:\n  paths: [\"" << SW_SOURCE_DIR << "/rules\"]\n"
             << "outputs:\n  - type: file\n    path: " << alerts(run).string() << "\n"
             << "    rotate:\n      max_bytes: 4GiB\n";  // one file holds every copy
    }
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "agent log:\n%s\n", read_file(log("crashed")).c_str());
    if (!std::getenv("KEEP")) fs::remove_all(dir_);
  }
  fs::path config(const std::string& run) const { return dir_ / run / "sessionwatch.yaml"; }
  fs::path alerts(const std::string& run) const { return dir_ / run / "alerts.jsonl"; }
  fs::path log(const std::string& run) const { return dir_ / run / "agent.log"; }
  int run_once(const std::string& run) {
    Agent agent(config(run), log(run), {"--once"});
    return agent.started() ? agent.wait_exit(120s) : -1;
  }
  // How far the agent got: the input event behind the newest alert in its output (alerts the
  // restarts deliver again are older and do not count), -1 before the first.
  int progress(const std::string& run) const {
    std::ifstream in(alerts(run), std::ios::binary | std::ios::ate);
    if (!in) return -1;
    const std::streamoff size = in.tellg();
    const std::streamoff tail = std::min<std::streamoff>(size, 64 * 1024);
    std::string text(static_cast<std::size_t>(tail), '\0');
    in.seekg(size - tail);
    in.read(text.data(), tail);
    const auto end = text.rfind('\n');
    if (end == std::string::npos) return -1;
    const auto start = text.rfind('\n', end - 1);
    const auto doc = nlohmann::json::parse(
        text.substr(start == std::string::npos ? 0 : start + 1, end - start - 1), nullptr, false);
    if (doc.is_discarded() || !doc.contains("winlog")) return -1;
    const auto& record = doc["winlog"]["record_id"];
    const long long id =
        record.is_string() ? std::stoll(record.get<std::string>()) : record.get<long long>();
    return static_cast<int>(id % 100000);  // kRefusalRecords + n
  }
  fs::path dir_;
};

TEST_F(CrashConsistency, TwentyKillNinesLoseNoAlertAndRepeatFew) {
  ASSERT_EQ(run_once("reference"), 0);
  const auto want = alert_ids(alerts("reference"));
  const auto correlations = alert_ids(alerts("reference"), kRepeatedRefusals);
  ASSERT_GT(correlations.size(), 500u) << "the input should make the correlation fire often";

  // Kill points: random events, in order; the agent is killed as soon as it raised an alert on
  // an event past the next one.
  std::mt19937 random(::testing::UnitTest::GetInstance()->random_seed());
  std::vector<int> points;
  for (int k = 0; k < kKills; ++k)
    points.push_back(static_cast<int>(random() % (kEvents * 9 / 10)));
  std::sort(points.begin(), points.end());
  int kills = 0;
  for (const int point : points) {
    Agent agent(config("crashed"), log("crashed"));
    ASSERT_TRUE(agent.started());
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (progress("crashed") <= point && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(2ms);
    }
    ASSERT_GT(progress("crashed"), point) << "no progress after " << kills << " kill -9";
    agent.kill9();
    ++kills;
  }
  ASSERT_EQ(run_once("crashed"), 0);

  // A kill in the middle of the file output's write leaves a torn line; its alert is delivered
  // again after the restart (the output's spool did not see it confirmed).
  std::size_t torn = 0;
  const auto got = alert_ids(alerts("crashed"), "", &torn);
  std::size_t missing = 0, missing_correlations = 0, unexpected = 0, duplicates = 0;
  int most_copies = 0;
  for (const auto& [id, n] : want) {
    if (got.count(id)) continue;
    ++missing;
    missing_correlations += correlations.count(id);
  }
  for (const auto& [id, n] : got) {
    unexpected += !want.count(id);
    duplicates += static_cast<std::size_t>(n - 1);
    most_copies = std::max(most_copies, n);
  }
  std::fprintf(stderr,
               "%d kill -9: %zu alerts expected (%zu correlations), %zu missing (%zu "
               "correlations), %zu unexpected, %zu duplicates (%.2fx), at most %d copies, %zu "
               "torn lines\n",
               kills, want.size(), correlations.size(), missing, missing_correlations, unexpected,
               duplicates, static_cast<double>(want.size() + duplicates) / want.size(), most_copies,
               torn);
  RecordProperty("duplicates", static_cast<int>(duplicates));
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(missing_correlations, 0u);
  EXPECT_EQ(unexpected, 0u) << "a correlation rebuilt after a crash fired on other events";
  // Each restart reads again what its last checkpoint left, up to the checkpoint interval of
  // events: measured on a 2-core machine with a load of 20, 2.05x alerts delivered in all and at
  // most 4 copies of one (before the journal, when every checkpoint rewrote the whole state:
  // 5.44x and 11 copies). Since the file input decodes on its own thread, more events are
  // processed per checkpoint interval: 2.06x-2.51x on a quiet machine, 3.01x once under load.
  // How many copies one alert gets depends on how many kills land before the next checkpoint (on
  // a quiet machine a restart can be killed before its first one: 8 copies seen), so the bound is
  // at-least-once with progress, not the measured figure.
  EXPECT_LT(duplicates, want.size() * 3);
  EXPECT_LE(most_copies, kills / 2);
}

}  // namespace
