// The report page in headless Chromium: one mark per alert `scan` prints for the same input, each
// linked to its row, the page's script ran without errors, nothing on the browser console (a
// fetch would be refused by the page's Content-Security-Policy and logged there), and a
// screenshot kept as an artifact.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "integration/shell_run.hpp"

namespace {

namespace fs = std::filesystem;

using CommandResult = sw_test::ShellRun;

CommandResult run(const std::string& cmd) {
  return sw_test::run_shell(cmd);
}

std::string sessionwatch() {
  return std::string(SW_BINARY_DIR) + "/agent/cli/sessionwatch";
}

std::string chromium() {
  if (const char* env = std::getenv("SW_CHROMIUM")) return env;
  for (const char* name : {"chromium", "chromium-browser"}) {
    if (run(std::string("command -v ") + name + " >/dev/null 2>&1").exit_code == 0) return name;
  }
  return {};
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count_lines(const std::string& text) {
  std::size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

std::vector<std::string> all(const std::string& text, const std::string& pattern) {
  std::vector<std::string> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

class ReportInBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    browser_ = chromium();
    if (browser_.empty()) {
      GTEST_SKIP() << "chromium is not installed (scripts/deps.sh test installs it; SW_CHROMIUM "
                      "names another): the report page is not checked in a browser";
    }
    fs::create_directories(SW_ARTIFACT_DIR);
  }

  // Writes the report of `inputs`, loads it in the browser; returns the DOM after its script ran.
  std::string load(const std::string& name, const std::string& inputs,
                   const std::string& options = "") {
    html_ = fs::path(SW_ARTIFACT_DIR) / (name + ".html");
    const CommandResult report =
        run(sessionwatch() + " report " + options + " -o " + html_.string() + " " + inputs);
    EXPECT_EQ(report.exit_code, 0);
    const std::string flags =
        " --headless --no-sandbox --disable-gpu --hide-scrollbars "
        "--window-size=1400,1000 --enable-logging=stderr --v=0 ";
    const fs::path log = fs::path(SW_ARTIFACT_DIR) / (name + ".console.log");
    const CommandResult dom = run("timeout 120 " + browser_ + flags + "--dump-dom file://" +
                                  html_.string() + " 2>" + log.string());
    EXPECT_EQ(dom.exit_code, 0) << read_file(log);
    console_ = read_file(log);
    const fs::path png = fs::path(SW_ARTIFACT_DIR) / (name + ".png");
    fs::remove(png);
    run("timeout 120 " + browser_ + flags + "--screenshot=" + png.string() + " file://" +
        html_.string() + " 2>/dev/null");
    EXPECT_TRUE(fs::exists(png) && fs::file_size(png) > 10000) << png;
    return dom.out;
  }

  // Every line the page wrote to the browser console (errors, refused fetches, logs).
  std::vector<std::string> console_messages() const {
    std::vector<std::string> out;
    std::istringstream in(console_);
    for (std::string line; std::getline(in, line);) {
      if (line.find(":CONSOLE") != std::string::npos) out.push_back(line);
    }
    return out;
  }

  std::string browser_;
  fs::path html_;
  std::string console_;
};

const std::string kSample = std::string(SW_SOURCE_DIR) + "/agent/cli/sample/sample_events.xml " +
                            SW_SOURCE_DIR + "/agent/cli/sample/sample_tool_output.txt";
// Five computers in four formats (text tool output is left out: a line without a time is given
// the time it is read, so its alert id changes from run to run).
const std::string kTestData = std::string(SW_SOURCE_DIR) + "/tests/data/jsonl/winlogbeat.jsonl " +
                              SW_SOURCE_DIR + "/tests/data/jsonl/nxlog.jsonl " + SW_SOURCE_DIR +
                              "/tests/data/xml/lsm_operational_events.xml " + SW_SOURCE_DIR +
                              "/tests/data/xml/security_session_wevtutil.xml";

void expect_one_linked_mark_per_alert(const std::string& dom, const std::string& inputs) {
  const CommandResult scan = run(sessionwatch() + " scan " + inputs + " 2>/dev/null");
  const std::size_t alerts = count_lines(scan.out);
  ASSERT_GT(alerts, 0u) << "the input raises no alert: nothing to check";
  const auto marks = all(dom, "data-alert-id=\"([0-9a-f]+)\"");
  EXPECT_EQ(marks.size(), alerts) << dom;
  EXPECT_NE(dom.find("data-marks=\"" + std::to_string(alerts) + "\""), std::string::npos)
      << "the page's script did not run to its end";
  EXPECT_NE(dom.find("data-ready=\"1\""), std::string::npos);
  EXPECT_EQ(dom.find("data-error="), std::string::npos);
  // Each mark links to a row of the alerts table, and each row is that alert's.
  const auto rows = all(dom, "<tr id=\"alert-([0-9a-f]+)\"");
  EXPECT_EQ(rows.size(), alerts);
  const std::set<std::string> row_ids(rows.begin(), rows.end());
  for (const std::string& id : marks) {
    EXPECT_TRUE(row_ids.count(id)) << "mark " << id << " has no row";
    EXPECT_NE(dom.find("href=\"#alert-" + id + "\""), std::string::npos);
    EXPECT_NE(scan.out.find("\"id\":\"" + id + "\""), std::string::npos)
        << "mark " << id << " is not an alert scan printed";
  }
}

TEST_F(ReportInBrowser, EmbeddedSampleHasOneLinkedMarkPerAlertAndNoConsoleErrors) {
  const std::string dom = load("report-sample", kSample);
  expect_one_linked_mark_per_alert(dom, kSample);
  EXPECT_TRUE(console_messages().empty()) << console_;
  // alice's console: active, then locked for the afternoon (the refusals' context).
  EXPECT_NE(dom.find("CORP\\alice locked 2026-11-20 12:15:00"), std::string::npos) << dom;
  // bob's two refused remote sessions, as a lane beneath.
  EXPECT_NE(dom.find("<path class=\"ractive\""), std::string::npos);
}

TEST_F(ReportInBrowser, SeveralComputersAndFormatsHaveOneLinkedMarkPerAlert) {
  const std::string dom = load("report-testdata", kTestData);
  expect_one_linked_mark_per_alert(dom, kTestData);
  EXPECT_TRUE(console_messages().empty()) << console_;
}

TEST_F(ReportInBrowser, ComputerAndTimeFiltersLeaveOnlyTheirMarks) {
  // Only the afternoon's refusals after 13:10: the inferred one at 13:20:43, the observed ones at
  // 13:21:12 and 14:05.
  const std::string dom = load("report-filtered", kSample,
                               "--computer ws-fin-07 --from 2026-11-20T13:10:00Z "
                               "--to 2026-11-20T23:59:59Z");
  EXPECT_EQ(all(dom, "data-alert-id=\"([0-9a-f]+)\"").size(), 3u) << dom;
  const std::string other = load("report-other-host", kSample, "--computer WS-OTHER");
  EXPECT_EQ(all(other, "data-alert-id=\"([0-9a-f]+)\"").size(), 0u);
  EXPECT_NE(other.find("data-ready=\"1\""), std::string::npos);
}

TEST_F(ReportInBrowser, AConsoleErrorIsSeen) {
  // The check above can fail: a page whose script throws is caught by the same means.
  html_ = fs::path(SW_ARTIFACT_DIR) / "broken.html";
  std::ofstream(html_) << "<html><body><script>notAFunction();</script></body></html>";
  console_ = run("timeout 120 " + browser_ +
                 " --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 "
                 "--dump-dom file://" +
                 html_.string() + " 2>&1 >/dev/null")
                 .out;
  EXPECT_FALSE(console_messages().empty()) << console_;
}

}  // namespace
