// The command line, run as a user would: the real binary, its output and its exit codes.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/shell_run.hpp"
#include "sanitized.hpp"

namespace {

namespace fs = std::filesystem;

using CliRun = sw_test::ShellRun;
using sw_test::run_shell;

const std::string kBinary = std::string(SW_BINARY_DIR) + "/agent/cli/sessionwatch";

CliRun run(const std::string& args) {
  return run_shell(kBinary + " " + args + " 2>/dev/null");
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
const std::string kEvtx = std::string(SW_TEST_DATA_DIR) + "/evtx/";
const std::string kRules = std::string(SW_SOURCE_DIR) + "/rules";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A folder of its own per test, removed after it.
class CliFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    // The pid keeps two test runs on one machine (two checkouts) out of each other's files.
    dir_ =
        fs::temp_directory_path() /
        ("sw_cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
         "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
    return dir_ / name;
  }
  // Exit status, standard output and standard error of a scan.
  struct Full {
    int exit_code;
    std::string out, err;
  };
  Full run_full(const std::string& args) {
    const fs::path err = dir_ / "stderr.txt";
    const CliRun r = run_shell(kBinary + " " + args + " 2>" + err.string());
    return {r.exit_code, r.out, slurp(err)};
  }
  fs::path dir_;
};

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
  for (const char* library :
       {"spdlog", "yaml-cpp", "re2", "pugixml", "simdjson", "openssl", "zlib"}) {
    EXPECT_NE(text.out.find(std::string("  ") + library + " "), std::string::npos) << library;
  }
  const CliRun json = run("version --json");
  ASSERT_EQ(json.exit_code, 0);
  const auto v = nlohmann::json::parse(json.out);
  EXPECT_FALSE(v["version"].get<std::string>().empty());
  EXPECT_TRUE(v["libraries"].contains("openssl"));
  EXPECT_TRUE(v["runtime"].contains("zlib"));
}

// OpenSSL is opened on first use (platform/openssl_on_demand.hpp): a scan, which speaks no TLS,
// never maps it (linked, binding its symbols was a third of every start); `version` asks it for
// its version and maps it then. spdlog is compiled in (its header-only target): its shared
// library's relocations cost a start more than OpenSSL's loading did.
TEST(Cli, OpenSslIsMappedOnlyByWhatCallsIt) {
  const CliRun scan = run_shell("LD_DEBUG=files " + kBinary + " scan --rules " + kRules + " " +
                                kSample + " 2>&1 >/dev/null");
  ASSERT_NE(scan.out.find("libyaml-cpp"), std::string::npos) << "LD_DEBUG gave no list";
  EXPECT_EQ(scan.out.find("libssl"), std::string::npos);
  EXPECT_EQ(scan.out.find("libcrypto"), std::string::npos);
  EXPECT_EQ(scan.out.find("libspdlog"), std::string::npos);
  const CliRun version = run_shell("LD_DEBUG=files " + kBinary + " version 2>&1 >/dev/null");
  EXPECT_NE(version.out.find("libssl.so.3"), std::string::npos);
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

// A rule with three independent mistakes shows all three, each with its place, in one run.
TEST_F(CliFiles, RulesCheckReportsEveryProblemOfEveryRule) {
  write("bad.yml",
        "title: Bad\nid: r1\nlogsource: {product: windows, service: security}\nlevel: hihg\n"
        "detection:\n  sel:\n    EventID|nosuchmod: 1\n  other: {EventID: 2}\n"
        "  condition: sel and (\n");
  write("also_bad.yml",
        "title: Also bad\nid: r2\nlogsource: {product: windows, service: security}\n"
        "detection:\n  sel: {EventID: 1}\n  condition: sel or missing\n");
  const Full r = run_full("rules check " + dir_.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("bad.yml:4:8: [r1] unknown level 'hihg'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad.yml:7:5: [r1] unknown modifier 'nosuchmod'"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("bad.yml:9:23: [r1] condition: expression expected at the end"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("also_bad.yml:6:21: [r2] condition: 'missing' names no selection"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("0 rule(s) loaded, 2 rule(s) rejected"), std::string::npos) << r.err;
}

// A file that is not YAML, and files that cannot be opened, count as rejected and say why.
TEST_F(CliFiles, RulesCheckCountsEveryRejectedFileWithItsReason) {
  write("good.yml",
        "title: Good\nlogsource: {product: windows, service: security}\n"
        "detection:\n  sel: {EventID: 1}\n  condition: sel\n");
  write("syntax.yml", "title: [\n");
  fs::create_symlink(dir_ / "nowhere", dir_ / "dangling.yml");
  fs::create_symlink(dir_ / "loop.yml", dir_ / "loop.yml");
  const Full r = run_full("rules check " + dir_.string() + " " + (dir_ / "absent.yml").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("syntax.yml:2:1: YAML syntax:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dangling.yml:0:0: cannot open: No such file or directory"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("loop.yml:0:0: cannot open: Too many levels of symbolic links"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("absent.yml:0:0: cannot open: No such file or directory"), std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("5 file(s), 1 rule(s) loaded, 0 rule(s) rejected, 4 file(s) rejected"),
            std::string::npos)
      << r.err;
}

// Files are decoded while the rules load; rules that cannot load still end the scan with their
// error alone: no alert, no complaint about the files read meanwhile, exit 2.
TEST_F(CliFiles, ScanWithRulesThatCannotLoadReportsOnlyThem) {
  write("bad.yml",
        "title: Bad\nlogsource: {product: windows, service: security}\n"
        "detection:\n  sel: {EventID|nosuchmod: 1}\n  condition: sel\n");
  const std::string files =
      kEvtx + "RDPAuth_Security.evtx " + (dir_ / "absent.evtx").string() + " " + kSample;
  for (const char* mode : {"", "--sessions ", "--format table "}) {
    const Full r = run_full("scan " + std::string(mode) + "--rules " + dir_.string() + " " + files);
    EXPECT_EQ(r.exit_code, 2) << mode;
    EXPECT_EQ(r.out, "") << mode;
    EXPECT_NE(r.err.find("sessionwatch scan: cannot load rules:"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("absent.evtx"), std::string::npos) << r.err;
  }
  // Standard input is read only once the rules are known to load.
  const Full r = run_full("scan --rules " + dir_.string() + " - < " + kSample);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("cannot load rules:"), std::string::npos) << r.err;
}

// Permission is the usual reason a rule file cannot be read (root reads anything: skipped).
TEST_F(CliFiles, RulesCheckNamesPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "running as root, which can read a mode 000 file";
  const fs::path p = write("secret.yml", "title: t\n");
  fs::permissions(p, fs::perms::none);
  const Full r = run_full("rules check " + p.string());
  EXPECT_NE(r.out.find("secret.yml:0:0: cannot open: Permission denied"), std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("1 file(s) rejected"), std::string::npos) << r.err;
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

namespace {

// ---- Order of the files given (issue 12: "scan depends on file order") ----

// An older capture of the same host: the velociraptor Security and TS-LSM events 300 days
// earlier, with record ids of their own, as JSON lines.
std::string older_capture() {
  const CliRun events = run("scan --events " + kEvtx + "RDPAuth_LocalSessionManager.evtx " + kEvtx +
                            "RDPAuth_Security.evtx");
  EXPECT_EQ(events.exit_code, 0);
  std::string out;
  constexpr long long kShift = 300LL * 86400;
  for (nlohmann::json e : json_lines(events.out)) {
    std::tm tm{};
    const std::string stamp = e["@timestamp"];
    strptime(stamp.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    const std::time_t t = timegm(&tm) - kShift;
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&t));
    const std::string shifted = buf + stamp.substr(19);
    e["@timestamp"] = shifted;
    e["winlog"]["time_created"] = shifted;
    e["winlog"]["record_id"] =
        std::to_string(std::stoull(e["winlog"]["record_id"].get<std::string>()) + 500000);
    out += e.dump() + "\n";
  }
  return out;
}

class ScanOrder : public CliFiles {
 protected:
  // A rule that alerts on every session record of the captures: the alerts show the order the
  // events were processed in (the shipped rules raise none on these captures).
  std::string every_record_rule() {
    return write("every_record.yml",
                 "title: Every session manager or RDP authentication record\n"
                 "id: 6d0f3e3a-8d4b-4a57-9a0e-7063aaaa0003\n"
                 "status: test\n"
                 "logsource:\n  product: windows\n"
                 "detection:\n  selection:\n"
                 "    EventID: [21, 22, 23, 24, 25, 32, 40, 41, 42, 54, 1149, 4624, 4625]\n"
                 "  condition: selection\n"
                 "level: low\n")
        .string();
  }
};

TEST_F(ScanOrder, EveryOrderOfTheFilesGivesTheSameOutput) {
  const std::vector<std::string> files = {
      write("older.jsonl", older_capture()).string(), kEvtx + "RDPAuth_LocalSessionManager.evtx",
      kEvtx + "RDPAuth_RemoteConnectionManager.evtx", kEvtx + "RDPAuth_Security.evtx"};
  const std::string rules = every_record_rule();
  for (const std::string& mode :
       {"--rules " + kRules, "--rules " + rules, std::string("--sessions")}) {
    std::vector<std::size_t> order = {0, 1, 2, 3};
    std::string first;
    int permutations = 0;
    do {
      std::string args = "scan " + mode;
      for (std::size_t i : order) args += " " + files[i];
      const CliRun r = run(args);
      ASSERT_EQ(r.exit_code, 0) << args;
      if (permutations++ == 0) {
        first = r.out;
      } else {
        ASSERT_EQ(r.out, first) << "output depends on the order: " << args;
      }
    } while (std::next_permutation(order.begin(), order.end()));
    EXPECT_EQ(permutations, 24);
  }
  // Both captures are seen whole, whatever the order: as many alerts in each.
  const auto alerts = json_lines(
      run("scan --rules " + rules + " " + files[0] + " " + files[3] + " " + files[1]).out);
  int in_2020 = 0, in_2021 = 0;
  for (const auto& a : alerts) {
    const std::string t = a["@timestamp"];
    in_2020 += t.rfind("2020-", 0) == 0;
    in_2021 += t.rfind("2021-", 0) == 0;
  }
  EXPECT_EQ(in_2020, in_2021) << run("scan --format table --rules " + rules + " " + files[0] + " " +
                                     files[3] + " " + files[1])
                                     .out;
  EXPECT_GT(in_2021, 0);
}

TEST_F(ScanOrder, EventsOfSeveralFilesComeOutInTimeOrder) {
  const CliRun r = run("scan --events " + kEvtx + "RDPAuth_Security.evtx " + kEvtx +
                       "RDPAuth_LocalSessionManager.evtx");
  ASSERT_EQ(r.exit_code, 0);
  std::string last;
  std::set<std::string> channels;
  for (const auto& e : json_lines(r.out)) {
    const std::string t = e["@timestamp"];
    // RDPAuth_Security.evtx has one record 63 ms older than the one before it (the reorder
    // window puts it right); the LSM events fall in between the Security ones.
    EXPECT_GE(t, last);
    last = t;
    channels.insert(e["winlog"]["channel"].get<std::string>());
  }
  EXPECT_EQ(channels.size(), 2u);
}

TEST_F(ScanOrder, TableRowsAreSortedByTime) {
  // Captures years apart (2016-17, 2020, 2021): alerts used to come out in the order the files
  // were read and decided.
  const fs::path corpus = fs::path(SW_SHARED_DIR) / "corpus" / "evtx";
  if (!fs::exists(corpus / "omerbenamram-evtx" / "security.evtx")) {
    GTEST_SKIP() << "shared corpus not found at " << corpus;
  }
  std::string args = "scan --format table --rules " + kRules + " " +
                     (corpus / "omerbenamram-evtx" / "security.evtx").string();
  std::vector<std::string> files;  // in the order a shell's glob gives them
  for (const auto& entry : fs::directory_iterator(corpus / "evtx-to-mitre-attack")) {
    files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) args += " " + f;
  const CliRun r = run(args);
  ASSERT_EQ(r.exit_code, 0);
  std::istringstream in(r.out);
  std::string line, last;
  int rows = 0;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const std::string time = line.substr(0, line.find(' '));
    EXPECT_GE(time, last) << r.out;
    last = time;
    ++rows;
  }
  EXPECT_GE(rows, 4);
}

// ---- What is not a log (issue 12: "binary and compressed input become alerts") ----

class ScanInput : public CliFiles {};

// A scan opens every file it is given before reading any (the merge needs each one's first
// event): a read buffer held per open file was 128 KiB of each, 285 MB for 2,000 one-line files.
// The largest process this test waits for is the scan (peak RSS of the children it reaped).
TEST_F(ScanInput, ManySmallFilesAreReadWithoutABufferEach) {
#if defined(SW_SANITIZED)
  GTEST_SKIP() << "resident memory under a sanitizer counts its shadow memory (and quarantine)";
#else
  std::ifstream sample(std::string(SW_TEST_DATA_DIR) + "/jsonl/winlogbeat.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(sample, line));
  const fs::path folder = dir_ / "many";
  fs::create_directories(folder);
  for (int i = 0; i < 2000; ++i) {
    std::ofstream(folder / ("f" + std::to_string(i) + ".jsonl"), std::ios::binary) << line << '\n';
  }
  const Full r = run_full("scan --stats " + folder.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["records_read"], 2000);
  rusage children{};
  ASSERT_EQ(getrusage(RUSAGE_CHILDREN, &children), 0);
  EXPECT_LT(children.ru_maxrss, 96 * 1024) << "KiB at the peak";
#endif
}

TEST_F(ScanInput, TheAgentsOwnExecutableIsRefusedNotAlertedOn) {
  const Full r = run_full("scan " + kBinary);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "") << "no alert from an executable";
  EXPECT_NE(r.err.find(kBinary + " is not a log sessionwatch reads: an ELF executable"),
            std::string::npos)
      << r.err;
}

TEST_F(ScanInput, RandomBytesAreRefusedAndTheOtherFilesStillRead) {
  std::string noise(64 << 10, '\0');
  std::uint32_t x = 2463534242u;
  for (char& c : noise) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  const fs::path bin = write("noise.log", noise);
  const Full r = run_full("scan --stats " + bin.string() + " " + kSample);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(bin.string() + " is not a log sessionwatch reads: binary data"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["records_read"], 24) << "only the sample's events";
}

TEST_F(ScanInput, GzipIsReadAsItsContent) {
  const fs::path plain = write("sample.xml", slurp(kSample));
  ASSERT_EQ(std::system(("gzip -k -n " + plain.string()).c_str()), 0);
  const CliRun unpacked = run("scan --rules " + kRules + " " + plain.string());
  const CliRun packed = run("scan --rules " + kRules + " " + plain.string() + ".gz");
  ASSERT_EQ(packed.exit_code, 0);
  EXPECT_FALSE(packed.out.empty());
  // The same alerts; only where they were read from differs.
  std::string expected = unpacked.out, got = packed.out;
  for (std::string* s : {&expected, &got}) {
    for (std::size_t at; (at = s->find("sample.xml.gz")) != std::string::npos;)
      s->erase(at + 10, 3);
  }
  EXPECT_EQ(got, expected);
}

TEST_F(ScanInput, MissingFileIsOneClearError) {
  const Full r = run_full("scan /nonexistent/file.evtx");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "sessionwatch scan: cannot open /nonexistent/file.evtx: No such file or directory\n");
}

TEST_F(ScanInput, AFolderIsReadFileByFile) {
  fs::create_directories(dir_ / "logs");
  fs::copy_file(kSample, dir_ / "logs" / "sample.xml");
  fs::copy_file(kEvtx + "RDPAuth_LocalSessionManager.evtx", dir_ / "logs" / "lsm.evtx");
  const Full r = run_full("scan --stats " + (dir_ / "logs").string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["records_read"], 24 + 17) << r.err;
  EXPECT_EQ(r.err.find("directory"), std::string::npos) << r.err;

  fs::create_directories(dir_ / "empty");
  const Full empty = run_full("scan " + (dir_ / "empty").string());
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find((dir_ / "empty").string() + " is a directory"), std::string::npos)
      << empty.err;
}

TEST_F(ScanInput, BadRecordCountsAgreeWithStatsAndNameThePathOnce) {
  // One chunk header damaged (a notice: no record lost by it) and one record destroyed.
  std::string evtx = slurp(kEvtx + "RDPAuth_RemoteConnectionManager.evtx");
  ASSERT_GT(evtx.size(), 0x1000u + 0x300u);
  const std::size_t first_record = 0x1000 + 0x200;
  evtx[first_record] = 'X';  // the first record's signature
  const fs::path damaged = write("rcm-damaged.evtx", evtx);
  const Full stats = run_full("scan --stats " + damaged.string());
  const Full alerts = run_full("scan " + damaged.string());
  const auto bad = nlohmann::json::parse(stats.out)["records_bad"].get<int>();
  EXPECT_EQ(bad, 1);
  EXPECT_EQ(alerts.exit_code, 1);
  EXPECT_NE(alerts.err.find(std::to_string(bad) + " bad record(s)"), std::string::npos)
      << alerts.err;
  const std::string name = damaged.string();
  for (std::size_t at = alerts.err.find(name); at != std::string::npos;
       at = alerts.err.find(name, at + 1)) {
    const std::size_t line_end = alerts.err.find('\n', at);
    EXPECT_EQ(alerts.err.substr(at + 1, line_end - at - 1).find(name), std::string::npos)
        << "the path twice on one line: " << alerts.err;
  }
}

TEST_F(ScanInput, NxlogEventTimeTakesTheConfiguredZone) {
  const fs::path nx = write(
      "nxlog.json", R"({"EventTime":"2021-02-12 12:34:28","Hostname":"WS-1","EventID":4624,)"
                    R"("Channel":"Security","SourceName":"Microsoft-Windows-Security-Auditing"})"
                    "\n"
                    R"({"EventTime":"2021-02-12T12:34:28Z","Hostname":"WS-1","EventID":4634,)"
                    R"("Channel":"Security","SourceName":"Microsoft-Windows-Security-Auditing"})"
                    "\n");
  const auto utc = json_lines(run("scan --events " + nx.string()).out);
  const auto berlin = json_lines(run("scan --events --nxlog-time-zone +01:00 " + nx.string()).out);
  ASSERT_EQ(utc.size(), 2u);
  ASSERT_EQ(berlin.size(), 2u);
  EXPECT_EQ(utc[0]["@timestamp"], "2021-02-12T12:34:28.0000000Z");
  EXPECT_EQ(berlin[0]["@timestamp"], "2021-02-12T11:34:28.0000000Z") << "local time, one hour east";
  EXPECT_EQ(berlin[1]["@timestamp"], "2021-02-12T12:34:28.0000000Z") << "a time with a zone stays";
  EXPECT_EQ(run("scan --nxlog-time-zone Europe/Nowhere " + nx.string()).exit_code, 2);
}

TEST_F(ScanInput, EventsPastYear9999ReadBack) {
  const fs::path far =
      write("far.jsonl", R"({"@timestamp":"30828-09-14T02:48:05.4775807Z","host":{"name":"WS-1"},)"
                         R"("winlog":{"event_id":"4624","channel":"Security","record_id":"7"}})"
                         "\n");
  const Full first = run_full("scan --events " + far.string());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const fs::path copy = write("copy.jsonl", first.out);
  const Full second = run_full("scan --events " + copy.string());
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  EXPECT_NE(first.out.find("30828-09-14T02:48:05.4775807Z"), std::string::npos) << first.out;
}

}  // namespace
