// The command line, run as a user would: the real binary, its output and its exit codes.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code;
  std::string out;
};

CliRun run(const std::string& args) {
  const std::string cmd =
      std::string(SW_BINARY_DIR) + "/agent/cli/sessionwatch " + args + " 2>/dev/null";
  CliRun r{-1, {}};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

const std::string kSample = std::string(SW_SOURCE_DIR) + "/agent/cli/sample/sample_events.xml";

TEST(Cli, DemoRaisesInferredAndObservedAlertsNamingTheConsoleHolder) {
  const CliRun r = run("demo --format json");
  ASSERT_EQ(r.exit_code, 0);
  const auto alerts = json_lines(r.out);
  int inferred = 0, observed = 0;
  for (const auto& a : alerts) {
    EXPECT_EQ(a["error"]["code"], "7063");
    EXPECT_EQ(a["sessionwatch"]["console"]["user"], "alice");
    const std::string detection = a["sessionwatch"]["detection"];
    inferred += detection == "inferred";
    observed += detection == "observed";
  }
  EXPECT_EQ(inferred, 2) << r.out;  // bob's two refused RDP logons
  EXPECT_EQ(observed, 4) << r.out;  // helpdesk event, HRESULT, two tool-output lines
}

TEST(Cli, StatsCountsEveryEventOfTheSample) {
  const CliRun r = run("scan --stats " + kSample);
  ASSERT_EQ(r.exit_code, 0);
  const auto stats = nlohmann::json::parse(r.out);
  EXPECT_EQ(stats["records_read"], 24);
  EXPECT_EQ(stats["records_bad"], 0);
  EXPECT_EQ(stats["channels"]["Security"]["4624"], 3);
}

TEST(Cli, EventsPrintedReadBackUnchanged) {
  const CliRun first = run("scan --events " + kSample);
  ASSERT_EQ(first.exit_code, 0);
  const fs::path copy = fs::temp_directory_path() / "sw_cli_events.jsonl";
  std::ofstream(copy) << first.out;
  const CliRun second = run("scan --events " + copy.string());
  ASSERT_EQ(second.exit_code, 0);
  EXPECT_EQ(first.out, second.out);
  fs::remove(copy);
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("scan").exit_code, 2);
  EXPECT_EQ(run("scan --no-such-option x").exit_code, 2);
  EXPECT_EQ(run("no-such-command").exit_code, 2);
  EXPECT_EQ(run("scan /nonexistent/file.evtx").exit_code, 2);
}

TEST(Cli, HelpTeachesEveryCommand) {
  const CliRun r = run("help");
  ASSERT_EQ(r.exit_code, 0);
  for (const char* word : {"demo", "scan", "rules check", "run", "check", "Examples"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word;
  }
  EXPECT_EQ(run("help scan").exit_code, 0);
}

TEST(Cli, RulesCheckAcceptsTheShippedRulesAndLocatesABrokenOne) {
  EXPECT_EQ(run("rules check " + std::string(SW_SOURCE_DIR) + "/rules").exit_code, 0);
  const fs::path dir = fs::temp_directory_path() / "sw_cli_broken_rules";
  fs::create_directories(dir);
  std::ofstream(dir / "broken.yml") << "title: Broken\nid: 1\nlogsource:\n  product: windows\n"
                                       "detection:\n  sel:\n    EventID|nosuchmod: 1\n"
                                       "  condition: sel\n";
  const CliRun r = run("rules check " + dir.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("broken.yml:7:"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(Cli, ShippedRulesFireOnTheSample) {
  const CliRun r = run("rules test --rules " + std::string(SW_SOURCE_DIR) + "/rules " + kSample);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Console Arbitration Refused"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(">> "), std::string::npos) << "matched fields are shown";
}

}  // namespace
