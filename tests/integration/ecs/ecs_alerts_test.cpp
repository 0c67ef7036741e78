// Every alert the real binary raises on the repo's test data (and on the shared corpus when it
// is present), checked against ECS's field definitions: types, arrays, allowed values, names
// inside ECS field sets, and the fields ECS-based detections need.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ecs_check/ecs_check.hpp"
#include "integration/shell_run.hpp"

namespace {

namespace fs = std::filesystem;

std::string run_stdout(const std::string& args) {
  return sw_test::run_shell(std::string(SW_BINARY_DIR) + "/agent/cli/sessionwatch " + args +
                            " 2>/dev/null")
      .out;
}

// The alerts of a command's output, each with the command that raised it.
std::vector<nlohmann::json> alerts_of(const std::string& args) {
  std::vector<nlohmann::json> out;
  std::istringstream in(run_stdout(args));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() != '{') continue;
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::string files_under(const fs::path& dir, std::initializer_list<const char*> extensions) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    for (const char* ext : extensions) {
      if (entry.is_regular_file() && entry.path().extension() == ext)
        files.push_back("'" + entry.path().string() + "'");
    }
  }
  std::sort(files.begin(), files.end());
  std::string joined;
  for (const std::string& f : files) joined += " " + f;
  return joined;
}

// Checks each alert; returns how many there were.
std::size_t expect_clean(const std::vector<nlohmann::json>& alerts, const std::string& what) {
  const sw::test::EcsChecker checker(SW_ECS_FIELDS);
  for (const nlohmann::json& alert : alerts) {
    const std::vector<std::string> problems = checker.check(alert);
    std::string all;
    for (const std::string& p : problems) all += "\n  " + p;
    EXPECT_TRUE(problems.empty()) << what << ": alert " << alert.value("rule", nlohmann::json())
                                  << all;
  }
  return alerts.size();
}

const std::string kData = SW_TEST_DATA_DIR;
const std::string kRules = std::string(SW_SOURCE_DIR) + "/rules";

TEST(EcsAlerts, DemoAlertsAreCleanEcs) {
  EXPECT_GT(expect_clean(alerts_of("demo --format json"), "demo"), 0u);
}

TEST(EcsAlerts, BuiltinAndShippedRuleAlertsOnTestDataAreCleanEcs) {
  const std::string files = files_under(kData, {".evtx", ".xml", ".jsonl", ".txt"}) + " " +
                            std::string(SW_SOURCE_DIR) + "/agent/cli/sample/sample_events.xml";
  const std::size_t builtin = expect_clean(alerts_of("scan" + files), "scan (built-in)");
  const std::size_t rules =
      expect_clean(alerts_of("scan --rules " + kRules + files), "scan --rules");
  EXPECT_GT(builtin + rules, 0u);
}

TEST(EcsAlerts, ShippedRuleAlertsOnTheCorpusAreCleanEcs) {
  const fs::path corpus = fs::path(SW_SHARED_DIR) / "corpus" / "evtx";
  if (!fs::is_directory(corpus)) GTEST_SKIP() << "no shared corpus at " << corpus;
  EXPECT_GT(
      expect_clean(alerts_of("scan --rules " + kRules + files_under(corpus, {".evtx"})), "corpus"),
      0u);
}

}  // namespace
