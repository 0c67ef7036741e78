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

TEST(Cli, DemoNamesOneMachineOnceAndKeepsGuessesOutOfTheRequester) {
  const CliRun r = run("demo --format json");
  ASSERT_EQ(r.exit_code, 0);
  const auto alerts = json_lines(r.out);
  ASSERT_EQ(alerts.size(), 6u) << r.out;
  for (const auto& a : alerts) {
    // The tool output says WS-FIN-07, the machine's own events WS-FIN-07.corp.example.
    EXPECT_EQ(a["host"]["name"], "WS-FIN-07.corp.example") << a.dump();
    EXPECT_EQ(a["host"]["hostname"], "WS-FIN-07") << a.dump();
    // bob is named by his own refused logons; the script's lines name nobody.
    const bool bob = a.contains("user") && a["user"]["name"] == "bob";
    EXPECT_EQ(bob, a["sessionwatch"]["detection"] == "inferred") << a.dump();
  }
}

TEST(Cli, ScanOfATextLineWithoutAComputerNamesNone) {
  const fs::path file = fs::temp_directory_path() / "sw_cli_no_host.log";
  std::ofstream(file) << "2026-11-20 13:03:30 tscon 1 -> Error [7063]:The user CORP\\alice is "
                         "already logged on to the console of this computer. You do not have "
                         "permission to log in at this time. To resolve this issue, contact "
                         "CORP\\alice and have them log off.\n";
  const CliRun r = run("scan " + file.string());
  fs::remove(file);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto alerts = json_lines(r.out);
  ASSERT_EQ(alerts.size(), 1u) << r.out;
  EXPECT_FALSE(alerts[0].contains("host")) << alerts[0]["host"].dump();
  const std::string remediation = alerts[0]["sessionwatch"]["remediation"];
  EXPECT_EQ(remediation.find("console of ."), std::string::npos) << remediation;
  EXPECT_EQ(remediation.find("/server: "), std::string::npos) << remediation;
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
  for (const char* word : {"demo", "scan", "rules check", "rules test", "rules xpath", "run",
                           "check", "service", "version", "Examples", "Files"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word;
  }
  // Every command listed has its own help (the man page and shell completion are made from it).
  for (const char* command : {"demo", "scan", "run", "check", "service", "rules", "version"}) {
    const CliRun sub = run(std::string("help ") + command);
    EXPECT_EQ(sub.exit_code, 0) << command;
    EXPECT_NE(sub.out.find("sessionwatch " + std::string(command)), std::string::npos) << command;
  }
  EXPECT_EQ(run("help no-such-command").exit_code, 2);
}

TEST(Cli, VersionNamesTheLibrariesItWasBuiltWith) {
  const CliRun text = run("version");
  ASSERT_EQ(text.exit_code, 0);
  for (const char* library : {"spdlog", "yaml-cpp", "re2", "pugixml", "simdjson", "openssl", "zlib"}) {
    EXPECT_NE(text.out.find(std::string("  ") + library + " "), std::string::npos) << library;
  }
  const CliRun json = run("version --json");
  ASSERT_EQ(json.exit_code, 0);
  const auto v = nlohmann::json::parse(json.out);
  EXPECT_FALSE(v["version"].get<std::string>().empty());
  EXPECT_TRUE(v["libraries"].contains("openssl"));
  EXPECT_TRUE(v["runtime"].contains("zlib"));
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

// The Select of one channel in `rules xpath` output.
std::string select_of(const std::string& xml, const std::string& channel) {
  const std::string open = "<Select Path=\"" + channel + "\">";
  const std::size_t at = xml.find(open);
  if (at == std::string::npos) return "";
  const std::size_t from = at + open.size();
  return xml.substr(from, xml.find("</Select>", from) - from);
}

TEST(Cli, RulesXpathAsksForWhatTheRulesAndTrackerRead) {
  const CliRun shipped = run("rules xpath --rules " + std::string(SW_SOURCE_DIR) + "/rules");
  ASSERT_EQ(shipped.exit_code, 0);
  ASSERT_EQ(shipped.out.rfind("<QueryList>", 0), 0u) << shipped.out;
  const std::string security = select_of(shipped.out, "Security");
  for (const char* id : {"EventID=1102", "EventID=4634", "EventID=4647", "EventID=4688",
                         "EventID=4825", "EventID&gt;=4624 and EventID&lt;=4625"}) {
    EXPECT_NE(security.find(id), std::string::npos) << id << " in " << security;
  }
  EXPECT_EQ(security.find("5156"), std::string::npos) << security;
  EXPECT_EQ(select_of(shipped.out, "System"), "*");

  // A rule of one's own on another Security event widens the query by that event.
  const fs::path dir = fs::temp_directory_path() / "sw_cli_xpath_rules";
  fs::create_directories(dir);
  std::ofstream(dir / "account.yml") << "title: Account created\nid: x1\nlogsource:\n"
                                        "  product: windows\n  service: security\n"
                                        "detection:\n  sel:\n    EventID: 4720\n"
                                        "  condition: sel\n";
  const CliRun own = run("rules xpath --channel Security --rules " + dir.string());
  fs::remove_all(dir);
  ASSERT_EQ(own.exit_code, 0);
  EXPECT_NE(select_of(own.out, "Security").find("EventID=4720"), std::string::npos) << own.out;
  EXPECT_EQ(select_of(own.out, "Security").find("4688"), std::string::npos) << own.out;
  EXPECT_EQ(select_of(own.out, "System"), "") << "only the channels asked for";
  EXPECT_EQ(run("rules xpath stray-argument").exit_code, 2);
}

}  // namespace
