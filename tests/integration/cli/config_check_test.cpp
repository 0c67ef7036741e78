// `sessionwatch check` and `run --once` on configurations with problems, run as an operator
// would: the real binary, its messages and exit codes.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "integration/shell_run.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kBinary = std::string(SW_BINARY_DIR) + "/agent/cli/sessionwatch";

class ConfigCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sw_check_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_config(const std::string& text) {
    const fs::path p = dir_ / "sessionwatch.yaml";
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  struct Result {
    int exit_code;
    std::string out, err;
  };
  Result run(const std::string& args) {
    const fs::path err = dir_ / "stderr.txt";
    const auto r = sw_test::run_shell(kBinary + " " + args + " 2>" + err.string());
    std::ifstream in(err);
    return {r.exit_code, r.out, std::string(std::istreambuf_iterator<char>(in), {})};
  }
  // A config whose data_dir and output stay in the test's folder.
  std::string config(const std::string& inputs, const std::string& outputs) const {
    return "agent:\n  data_dir: " + (dir_ / "data").string() + "\ninputs:\n" + inputs +
           "outputs:\n" + outputs;
  }
  fs::path dir_;
};

// Every problem in one run, each at its file:line:column with its key (before: the bad port came
// out only after the other problems were fixed, the range error named no key, and a syslog
// output with a file path, an HTTP body and rotation passed as valid).
TEST_F(ConfigCheck, ReportsEveryProblemAtOnceWithItsKeyAndPlace) {
  const fs::path file =
      write_config(config("  - type: file\n    paths: " + (dir_ / "*.log").string() + "\n",
                          R"(  - type: syslog
    url: tcp://127.0.0.1:notaport
    path: /tmp/x
    http: {body: bulk}
    rotate: {max_files: 3}
    batch: {records: 0}
    format: foo
)"));
  const Result r = run("check -c " + file.string());
  EXPECT_EQ(r.exit_code, 2);
  const std::string at = file.string() + ":";
  for (const std::string& expected :
       {at + "8:10: outputs[1].url: 'tcp://127.0.0.1:notaport': port 'notaport' is not a number",
        at + "9:5: outputs[1].path: unknown key in a syslog output",
        at + "10:5: outputs[1].http: unknown key in a syslog output",
        at + "11:5: outputs[1].rotate: unknown key in a syslog output",
        at + "12:22: outputs[1].batch.records: must be between 1 and 100000",
        at + "13:13: outputs[1].format: unknown format 'foo'", std::string("6 problem(s)")}) {
    EXPECT_NE(r.err.find(expected), std::string::npos) << expected << "\n" << r.err;
  }
}

TEST_F(ConfigCheck, ADirectoryIsNamedAsOne) {
  const Result r = run("check -c " + dir_.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(dir_.string() + ": is a directory, not a config file"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("empty"), std::string::npos) << r.err;
}

// An input whose folder does not exist: `check` warns (still valid), `run --once` refuses to
// report a backfill that read nothing as a success.
TEST_F(ConfigCheck, AnInputThatMatchesNothingIsWarnedAndFailsOnce) {
  const fs::path missing = dir_ / "not-yet" / "*.jsonl";
  const fs::path file =
      write_config(config("  - type: file\n    name: tools\n    paths: " + missing.string() + "\n",
                          "  - type: file\n    path: alerts.jsonl\n"));
  const Result check = run("check -c " + file.string());
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.err.find(file.string() + ":4: warning: input tools: " + missing.string() +
                           " matches no file now (the folder " + (dir_ / "not-yet").string() +
                           " does not exist)"),
            std::string::npos)
      << check.err;

  const Result once = run("run --once -c " + file.string());
  EXPECT_EQ(once.exit_code, 1) << once.err;
  EXPECT_NE(once.err.find("input tools matches no file"), std::string::npos) << once.err;

  fs::create_directories(dir_ / "not-yet");
  std::ofstream(dir_ / "not-yet" / "a.jsonl") << "";
  const Result check_again = run("check -c " + file.string());
  EXPECT_EQ(check_again.err.find("matches no file"), std::string::npos) << check_again.err;
  EXPECT_EQ(run("run --once -c " + file.string()).exit_code, 0);
}

}  // namespace
