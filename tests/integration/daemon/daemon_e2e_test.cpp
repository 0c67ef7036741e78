// `sessionwatch run` end to end: a file input, a file output, the real binary, real signals.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string binary() {
  return std::string(SW_BINARY_DIR) + "/agent/cli/sessionwatch";
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A Winlogbeat-shaped line: a network logon, or (every `every_7063`th) a refused console
// reclaim carrying Win32 error 7063, which the built-in detections alert on.
std::string event_line(std::uint64_t n, bool refused) {
  const std::string host = "ws-" + std::to_string(n % 7) + ".contoso.local";
  const std::string record = std::to_string(100000 + n);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "2026-11-02T08:%02u:%02u.%03uZ",
                static_cast<unsigned>((n / 60000) % 60), static_cast<unsigned>((n / 1000) % 60),
                static_cast<unsigned>(n % 1000));
  nlohmann::json j;
  j["@timestamp"] = stamp;
  j["host"]["name"] = host;
  if (refused) {
    j["event"] = {{"code", "1001"}, {"kind", "event"}};
    j["winlog"] = {{"channel", "Application"},
                   {"provider_name", "Contoso-SeatReclaimer"},
                   {"event_id", "1001"},
                   {"record_id", record},
                   {"computer_name", host},
                   {"event_data",
                    {{"TargetUserName", "user" + std::to_string(n % 13)},
                     {"TargetDomainName", "CONTOSO"},
                     {"ConsoleUserName", "holder"},
                     {"ConsoleDomainName", "CONTOSO"},
                     {"Win32Status", "7063"}}}};
    j["message"] =
        "Reclaiming the console failed with error 7063 (0x1B97): The user CONTOSO\\holder is "
        "already logged on to the console of this computer. You do not have permission to log in "
        "at this time. To resolve this issue, contact CONTOSO\\holder and have them log off.";
  } else {
    j["event"] = {{"code", "4624"}, {"kind", "event"}};
    j["winlog"] = {{"channel", "Security"},
                   {"provider_name", "Microsoft-Windows-Security-Auditing"},
                   {"event_id", "4624"},
                   {"record_id", record},
                   {"computer_name", host},
                   {"event_data",
                    {{"TargetUserName", "user" + std::to_string(n % 13)},
                     {"TargetDomainName", "CONTOSO"},
                     {"TargetLogonId", "0x" + std::to_string(4096 + n)},
                     {"LogonType", "3"},
                     {"IpAddress", "10.0.0." + std::to_string(n % 250)}}}};
    j["message"] = "An account was successfully logged on.";
  }
  return j.dump() + "\n";
}

std::string event_lines(std::uint64_t from, std::uint64_t count, std::uint64_t every = 50) {
  std::string out;
  for (std::uint64_t n = from; n < from + count; ++n) out += event_line(n, n % every == every - 1);
  return out;
}

// Alert ids in a JSON-lines alerts file, with their counts.
std::map<std::string, int> alert_ids(const fs::path& file, const std::string& rule_filter = "") {
  std::map<std::string, int> ids;
  std::istringstream in(read_file(file));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded()) {
      ADD_FAILURE() << "not JSON in alerts: " << line;
      continue;
    }
    const std::string rule = doc["rule"].value("id", std::string());
    if (!rule_filter.empty() && rule != rule_filter) continue;
    ++ids[doc["event"]["id"].get<std::string>()];
  }
  return ids;
}

class Agent {
 public:
  Agent(const fs::path& config, const fs::path& log) {
    std::vector<std::string> args = {binary(), "run", "-c", config.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Agent() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  void signal(int sig) { ::kill(pid_, sig); }
  // Exit status, or -1 when it did not exit in time (then it is killed).
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  void kill9() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

class DaemonE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(binary())) GTEST_SKIP() << "sessionwatch binary not built: " << binary();
    dir_ = fs::temp_directory_path() /
           ("sw_e2e_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    fs::create_directories(dir_ / "rules");
  }
  void TearDown() override {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "agent log:\n%s\n", read_file(log()).c_str());
    }
    fs::remove_all(dir_);
  }

  fs::path config() const { return dir_ / "sessionwatch.yaml"; }
  fs::path alerts() const { return dir_ / "out" / "alerts.jsonl"; }
  fs::path log() const { return dir_ / "agent.log"; }
  fs::path input(const std::string& name = "events.jsonl") const { return dir_ / "in" / name; }

  void write_config(const std::string& rules = "") {
    std::ofstream out(config());
    out << "agent:\n  data_dir: " << (dir_ / "data").string() << "\n  log_level: info\n"
        << "inputs:\n  - type: file\n    name: winlogbeat\n    paths: [\"" << (dir_ / "in").string()
        << "/*.jsonl\"]\n    format: jsonl\n"
        << rules << "outputs:\n  - type: file\n    path: " << alerts().string() << "\n";
  }
  void append(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::app | std::ios::binary);
    out << text;
  }

  // What `sessionwatch scan` raises over the same events: the expected alert ids.
  std::set<std::string> expected_ids(const std::string& all_events, const std::string& extra = "") {
    const fs::path copy = dir_ / "expected-input.jsonl";
    {
      std::ofstream out(copy, std::ios::binary);
      out << all_events;
    }
    const fs::path out = dir_ / "expected-alerts.jsonl";
    const std::string cmd =
        binary() + " scan " + extra + " " + copy.string() + " > " + out.string() + " 2>/dev/null";
    EXPECT_NE(std::system(cmd.c_str()), -1);
    std::set<std::string> ids;
    for (const auto& [id, n] : alert_ids(out)) ids.insert(id);
    return ids;
  }

  // Waits until the alerts file holds every expected id (or the timeout).
  bool wait_for_ids(const std::set<std::string>& want, std::chrono::seconds timeout,
                    const std::string& rule = "") {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      const auto got = alert_ids(alerts(), rule);
      if (std::all_of(want.begin(), want.end(), [&](const auto& id) { return got.count(id); })) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  fs::path dir_;
};

TEST_F(DaemonE2E, AppendedEventsBecomeAlertsAndSigtermExitsCleanly) {
  write_config();
  const std::string first = event_lines(0, 200);
  append(input(), first);
  Agent agent(config(), log());
  ASSERT_TRUE(agent.started());
  const std::string second = event_lines(200, 300);
  append(input(), second);
  const auto want = expected_ids(first + second);
  ASSERT_EQ(want.size(), 10u) << "the built-in detections should alert on each 7063 event";
  ASSERT_TRUE(wait_for_ids(want, 20s));
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(20s), 0);
  const auto got = alert_ids(alerts());
  for (const auto& [id, n] : got) {
    EXPECT_TRUE(want.count(id)) << "unexpected alert " << id;
    EXPECT_EQ(n, 1) << "duplicate alert " << id;
  }
  // The checkpoint was written: a restart reads nothing again.
  Agent again(config(), log());
  append(input(), event_lines(500, 50));
  const auto want_more = expected_ids(first + second + event_lines(500, 50));
  ASSERT_TRUE(wait_for_ids(want_more, 20s));
  again.signal(SIGINT);
  EXPECT_EQ(again.wait_exit(20s), 0);
  for (const auto& [id, n] : alert_ids(alerts()))
    EXPECT_EQ(n, 1) << "re-read after restart: " << id;
}

TEST_F(DaemonE2E, RotationByRenameAndByCopyTruncateLosesAndRepeatsNothing) {
  write_config();
  Agent agent(config(), log());
  ASSERT_TRUE(agent.started());
  std::string all;
  auto add = [&](const fs::path& file, std::uint64_t from, std::uint64_t count) {
    const std::string lines = event_lines(from, count, 10);
    append(file, lines);
    all += lines;
  };
  add(input(), 0, 100);
  std::this_thread::sleep_for(200ms);
  // Rename rotation with a late write to the old file, then the new file.
  fs::rename(input(), input("events.jsonl.1"));
  add(input("events.jsonl.1"), 100, 50);
  add(input(), 150, 100);
  std::this_thread::sleep_for(200ms);
  // copytruncate: copy, a write lands before the truncate, truncate, new writes.
  add(input(), 250, 30);
  fs::copy_file(input(), input("events.jsonl.2"));
  fs::resize_file(input(), 0);
  add(input(), 280, 100);
  const auto want = expected_ids(all);
  ASSERT_EQ(want.size(), 38u);
  ASSERT_TRUE(wait_for_ids(want, 30s));
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(20s), 0);
  const auto got = alert_ids(alerts());
  for (const auto& [id, n] : got) {
    EXPECT_TRUE(want.count(id)) << "unexpected alert " << id;
    EXPECT_EQ(n, 1) << "duplicate alert " << id;
  }
}

TEST_F(DaemonE2E, KillNineAtRandomPointsLosesNothing) {
  write_config();
  constexpr std::uint64_t kTotal = 100000;
  constexpr std::uint64_t kChunk = 5000;
  std::mt19937 random(::testing::UnitTest::GetInstance()->random_seed());
  std::string all;
  std::uint64_t written = 0;
  int kills = 0;
  while (written < kTotal) {
    Agent agent(config(), log());
    ASSERT_TRUE(agent.started());
    // Feed a few chunks while it runs, then kill it at a random moment.
    const int chunks = 1 + static_cast<int>(random() % 4);
    for (int c = 0; c < chunks && written < kTotal; ++c) {
      const std::string lines = event_lines(written, kChunk, 97);
      append(input(), lines);
      all += lines;
      written += kChunk;
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 60));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 150));
    if (written < kTotal) {
      agent.kill9();
      ++kills;
      continue;
    }
    const auto want = expected_ids(all);
    ASSERT_GT(want.size(), 1000u);
    ASSERT_TRUE(wait_for_ids(want, 60s)) << "after " << kills << " kill -9";
    agent.signal(SIGTERM);
    EXPECT_EQ(agent.wait_exit(20s), 0);
    for (const auto& [id, n] : alert_ids(alerts())) {
      EXPECT_TRUE(want.count(id)) << "unexpected alert " << id;
    }
  }
  EXPECT_GE(kills, 3);
}

TEST_F(DaemonE2E, SighupWithABrokenRuleKeepsTheOldRules) {
  {
    std::ofstream rule(dir_ / "rules" / "refused_console.yml");
    rule << "title: Console reclaim refused with 7063\n"
            "id: 6d0f3e3a-8d4b-4a57-9a0e-7063aaaa0001\n"
            "status: test\n"
            "logsource:\n  product: windows\n  service: application\n"
            "detection:\n  selection:\n    EventID: 1001\n    Win32Status: '7063'\n"
            "  condition: selection\n"
            "level: high\n";
  }
  write_config("rules:\n  paths: [\"" + (dir_ / "rules").string() + "\"]\n  on_error: refuse\n");
  Agent agent(config(), log());
  ASSERT_TRUE(agent.started());
  const std::string rule_id = "6d0f3e3a-8d4b-4a57-9a0e-7063aaaa0001";
  std::string all = event_lines(0, 100, 10);
  append(input(), all);
  const auto want = expected_ids(all, "--rules " + (dir_ / "rules").string());
  ASSERT_EQ(want.size(), 10u);
  ASSERT_TRUE(wait_for_ids(want, 20s, rule_id));
  {
    std::ofstream broken(dir_ / "rules" / "broken.yml");
    broken << "title: broken\ndetection:\n  selection:\n    EventID: [\n";
  }
  agent.signal(SIGHUP);
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (read_file(log()).find("reload rejected") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(read_file(log()).find("reload rejected"), std::string::npos);
  EXPECT_NE(read_file(log()).find("broken.yml"), std::string::npos) << "the error names the file";
  const std::string more = event_lines(100, 100, 10);
  append(input(), more);
  fs::remove(dir_ / "rules" / "broken.yml");
  const auto want_all = expected_ids(all + more, "--rules " + (dir_ / "rules").string());
  ASSERT_EQ(want_all.size(), 20u);
  EXPECT_TRUE(wait_for_ids(want_all, 20s, rule_id)) << "the old rules kept matching";
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(20s), 0);
}

TEST_F(DaemonE2E, BadConfigGivesFileLineAndExitTwo) {
  {
    std::ofstream out(config());
    out << "agent:\n  data_dir: " << (dir_ / "data").string() << "\n"
        << "inputs:\n  - type: file\n    paths: [\"" << (dir_ / "in").string() << "/*.jsonl\"]\n"
        << "    formatt: jsonl\n"
        << "outputs:\n  - type: file\n    path: " << alerts().string() << "\n";
  }
  Agent agent(config(), log());
  ASSERT_TRUE(agent.started());
  EXPECT_EQ(agent.wait_exit(20s), 2);
  const std::string text = read_file(log());
  EXPECT_NE(text.find(config().string() + ":6:5:"), std::string::npos) << text;
  EXPECT_NE(text.find("formatt"), std::string::npos) << text;

  const std::string check = binary() + " check -c " + config().string() + " 2>" +
                            (dir_ / "check.err").string() + " >/dev/null";
  const int status = std::system(check.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(read_file(dir_ / "check.err").find(config().string() + ":6:5:"), std::string::npos);
}

TEST_F(DaemonE2E, CheckPrintsWhatWouldRun) {
  write_config();
  append(input(), event_lines(0, 3));
  const fs::path out = dir_ / "check.out";
  const std::string cmd = binary() + " check -c " + config().string() + " >" + out.string();
  const int status = std::system(cmd.c_str());
  ASSERT_EQ(WEXITSTATUS(status), 0);
  const std::string text = read_file(out);
  EXPECT_NE(text.find("input winlogbeat: type file, format jsonl"), std::string::npos) << text;
  EXPECT_NE(text.find("(1 file(s) now)"), std::string::npos) << text;
  EXPECT_NE(text.find("output "), std::string::npos) << text;
}

}  // namespace
