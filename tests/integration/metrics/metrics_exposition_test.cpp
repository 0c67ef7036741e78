// The agent's /metrics page as Prometheus reads it: `sessionwatch run` with two outputs serves its
// exposition, and Prometheus' own checker (`promtool check metrics`, Debian's prometheus package)
// must find no problem in it: every family once, with its HELP and TYPE, its samples together.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "integration/daemon/agent_process.hpp"
#include "integration/loopback.hpp"
#include "integration/shell_run.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sw_test::Agent;

class MetricsExposition : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sw-metrics-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    port_ = sw_test::free_port();
    std::ofstream(dir_ / "agent.yaml")
        << "agent:\n  data_dir: " << (dir_ / "data").string() << "\n"
        << "inputs:\n  - type: file\n    name: sample\n    paths: [\"" << (dir_ / "in").string()
        << "/*.xml\"]\n    format: xml\n"
        << "outputs:\n"
        << "  - type: file\n    name: first\n    path: " << (dir_ / "a.jsonl").string() << "\n"
        << "  - type: file\n    name: second\n    path: " << (dir_ / "b.jsonl").string() << "\n"
        << "metrics:\n  listen: 127.0.0.1:" << port_ << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The page once both outputs delivered the sample's alerts.
  std::string page_after_alerts(Agent& agent) {
    fs::copy_file(fs::path(SW_SOURCE_DIR) / "agent/cli/sample/sample_events.xml",
                  dir_ / "in" / "sample.xml");
    const auto until = std::chrono::steady_clock::now() + 30s;
    std::string page;
    while (std::chrono::steady_clock::now() < until) {
      page = sw_test::http_get(port_, "/metrics").body;
      if (page.find("sessionwatch_output_sent_total{output=\"second\",type=\"file\"} 0") ==
              std::string::npos &&
          page.find("sessionwatch_output_sent_total{output=\"second\"") != std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(agent.started());
    return page;
  }

  fs::path dir_;
  unsigned short port_ = 0;
};

TEST_F(MetricsExposition, PromtoolFindsNoProblemWithTwoOutputs) {
  if (sw_test::run_shell("command -v promtool").exit_code != 0) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus; scripts/deps.sh test "
                    "installs it)";
  }
  Agent agent(dir_ / "agent.yaml", dir_ / "agent.log");
  const std::string page = page_after_alerts(agent);
  ASSERT_NE(page.find("sessionwatch_output_sent_total{output=\"first\""), std::string::npos)
      << page;
  std::ofstream(dir_ / "page.txt") << page;
  const auto checked =
      sw_test::run_shell("promtool check metrics < " + (dir_ / "page.txt").string() + " 2>&1");
  EXPECT_EQ(checked.exit_code, 0) << checked.out << "\n" << page;
  EXPECT_EQ(checked.out.find("problem"), std::string::npos) << checked.out;
}

// What promtool does not insist on: each family's samples are contiguous, after one HELP and one
// TYPE line (with two outputs, the output families used to interleave).
TEST_F(MetricsExposition, EachFamilyAppearsOnceWithItsSamplesTogether) {
  Agent agent(dir_ / "agent.yaml", dir_ / "agent.log");
  const std::string page = page_after_alerts(agent);
  std::map<std::string, int> help_lines;
  std::map<std::string, int> blocks;  // runs of consecutive samples per family
  std::string current;
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# HELP ", 0) == 0) {
      ++help_lines[line.substr(7, line.find(' ', 7) - 7)];
      current.clear();
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const std::string family = line.substr(0, line.find_first_of("{ "));
    if (family != current) ++blocks[family];
    current = family;
  }
  ASSERT_GT(blocks.size(), 10u) << page;
  for (const auto& [family, count] : blocks) {
    EXPECT_EQ(count, 1) << family << " is split into " << count << " runs";
    EXPECT_EQ(help_lines[family], 1) << family << " has no (or several) HELP lines";
  }
}

}  // namespace
