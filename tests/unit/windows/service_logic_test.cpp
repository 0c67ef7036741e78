// The portable part of the Windows service: `service ...` arguments, ImagePath quoting and the
// stop sequence reported to the SCM.
#include <gtest/gtest.h>

#include <sstream>

#include <string>
#include <vector>

#include "sessionwatch/winservice.hpp"

namespace sw::winsvc {
namespace {

TEST(WinServiceArgs, InstallWithConfigAndAccount) {
  Command c;
  std::string error;
  ASSERT_TRUE(parse_command({"install", "--config", "C:\\ProgramData\\sessionwatch\\sw.yaml",
                             "--account=CORP\\svc-sw", "--password", "p w"},
                            c, error))
      << error;
  EXPECT_EQ(c.action, Action::kInstall);
  EXPECT_EQ(c.name, "sessionwatch");
  EXPECT_EQ(c.config_path, "C:\\ProgramData\\sessionwatch\\sw.yaml");
  EXPECT_EQ(c.account, "CORP\\svc-sw");
  EXPECT_EQ(c.password, "p w");
}

// A password on the command line lands in 4688/Sysmon 1 events; --password-stdin keeps it out.
TEST(WinServiceArgs, PasswordFromStandardInput) {
  Command c;
  std::string error;
  ASSERT_TRUE(parse_command({"install", "--account", "CORP\\svc-sw", "--password-stdin"}, c, error))
      << error;
  EXPECT_TRUE(c.password_from_stdin);
  EXPECT_TRUE(c.password.empty());
  std::istringstream in("s3cret word\r\nnext line\n");
  ASSERT_TRUE(read_password(in, c, error)) << error;
  EXPECT_EQ(c.password, "s3cret word");
  std::istringstream empty;
  EXPECT_FALSE(read_password(empty, c, error));
  EXPECT_FALSE(parse_command({"install", "--password-stdin"}, c, error));
  EXPECT_NE(error.find("needs --account"), std::string::npos) << error;
  EXPECT_FALSE(parse_command({"install", "--account", "a", "--password-stdin", "--password", "x"},
                             c, error));
}

// Least privilege: the service's own virtual account, not the shared LocalService (issue 14,
// item 7).
TEST(WinServiceArgs, DefaultAccountIsTheServicesVirtualAccount) {
  EXPECT_EQ(default_account("sessionwatch"), "NT SERVICE\\sessionwatch");
  EXPECT_EQ(default_account("sw-dc2"), "NT SERVICE\\sw-dc2");
}

TEST(WinServiceArgs, EveryActionWithAName) {
  const std::vector<std::pair<std::string, Action>> actions{
      {"configure", Action::kConfigure}, {"uninstall", Action::kUninstall},
      {"start", Action::kStart},         {"stop", Action::kStop},
      {"status", Action::kStatus},       {"run", Action::kRun}};
  for (const auto& [word, action] : actions) {
    Command c;
    std::string error;
    ASSERT_TRUE(parse_command({word, "--name", "sw-test"}, c, error)) << word << ": " << error;
    EXPECT_EQ(c.action, action);
    EXPECT_EQ(c.name, "sw-test");
  }
}

TEST(WinServiceArgs, RefusesWhatItCannotHonour) {
  Command c;
  std::string error;
  EXPECT_FALSE(parse_command({}, c, error));
  EXPECT_NE(error.find("missing action"), std::string::npos) << error;
  EXPECT_FALSE(parse_command({"restart"}, c, error));
  EXPECT_NE(error.find("unknown action 'restart'"), std::string::npos) << error;
  EXPECT_FALSE(parse_command({"start", "--config", "x.yaml"}, c, error));
  EXPECT_NE(error.find("unexpected argument '--config'"), std::string::npos) << error;
  EXPECT_FALSE(parse_command({"install", "--config"}, c, error));
  EXPECT_NE(error.find("--config needs a value"), std::string::npos) << error;
  EXPECT_FALSE(parse_command({"install", "--password", "x"}, c, error));
  EXPECT_NE(error.find("--password needs --account"), std::string::npos) << error;
  EXPECT_FALSE(parse_command({"install", "--name="}, c, error));
  EXPECT_FALSE(parse_command({"configure", "--account", "CORP\\svc"}, c, error));
  EXPECT_NE(error.find("unexpected argument '--account'"), std::string::npos) << error;
}

TEST(WinServiceQuoting, PlainArgumentsStayAsTheyAre) {
  EXPECT_EQ(quote_argument("C:\\sw\\sessionwatch.exe"), "C:\\sw\\sessionwatch.exe");
  EXPECT_EQ(quote_argument(""), "\"\"");
}

TEST(WinServiceQuoting, SpacesQuotesAndTrailingBackslashes) {
  EXPECT_EQ(quote_argument("C:\\Program Files\\sessionwatch\\sessionwatch.exe"),
            "\"C:\\Program Files\\sessionwatch\\sessionwatch.exe\"");
  // A trailing backslash would escape the closing quote unless doubled.
  EXPECT_EQ(quote_argument("C:\\Program Files\\"), "\"C:\\Program Files\\\\\"");
  // Quotes are escaped, and the backslashes in front of them doubled.
  EXPECT_EQ(quote_argument("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(quote_argument("a\\\"b"), "\"a\\\\\\\"b\"");
}

TEST(WinServiceQuoting, ImagePathRunsTheServiceWithItsOptions) {
  Command install;
  install.config_path = "C:\\ProgramData\\sessionwatch\\sessionwatch.yaml";
  EXPECT_EQ(service_command_line("C:\\Program Files\\sessionwatch\\sessionwatch.exe", install),
            "\"C:\\Program Files\\sessionwatch\\sessionwatch.exe\" service run --config "
            "C:\\ProgramData\\sessionwatch\\sessionwatch.yaml");
  install.name = "sw two";
  install.config_path.clear();
  EXPECT_EQ(service_command_line("C:\\sw.exe", install),
            "C:\\sw.exe service run --name \"sw two\"");
}

TEST(WinServiceLifecycle, StartThenRunAcceptsStop) {
  Lifecycle life(std::chrono::seconds(20));
  const StatusReport starting = life.starting();
  EXPECT_EQ(starting.state, State::kStartPending);
  EXPECT_FALSE(starting.accept_stop);
  EXPECT_EQ(starting.checkpoint, 1u);
  EXPECT_EQ(starting.wait_hint, std::chrono::seconds(20));
  const StatusReport running = life.running();
  EXPECT_EQ(running.state, State::kRunning);
  EXPECT_TRUE(running.accept_stop);
  EXPECT_EQ(running.checkpoint, 0u);
  EXPECT_EQ(running.wait_hint, std::chrono::milliseconds(0));
}

TEST(WinServiceLifecycle, EachStopKindDrainsOnceWithRisingCheckpoints) {
  for (const std::uint32_t code : {control::kStop, control::kShutdown, control::kPreshutdown}) {
    Lifecycle life;
    life.starting();
    life.running();
    const auto first = life.on_control(code);
    EXPECT_TRUE(first.handled);
    EXPECT_TRUE(first.request_stop) << code;
    ASSERT_TRUE(first.report.has_value());
    EXPECT_EQ(first.report->state, State::kStopPending);
    EXPECT_EQ(first.report->checkpoint, 1u);
    EXPECT_EQ(first.report->wait_hint, life.wait_hint());
    EXPECT_FALSE(first.report->accept_stop);

    EXPECT_EQ(life.still_stopping().checkpoint, 2u);
    // A shutdown arriving during a stop must not start a second drain.
    const auto again = life.on_control(control::kShutdown);
    EXPECT_TRUE(again.handled);
    EXPECT_FALSE(again.request_stop);
    ASSERT_TRUE(again.report.has_value());
    EXPECT_EQ(again.report->checkpoint, 3u);

    const StatusReport done = life.stopped(0);
    EXPECT_EQ(done.state, State::kStopped);
    EXPECT_EQ(done.checkpoint, 0u);
    EXPECT_FALSE(life.on_control(control::kStop).request_stop);
  }
}

TEST(WinServiceLifecycle, StoppedReportsTheExitCode) {
  Lifecycle life;
  life.starting();
  EXPECT_EQ(life.stopped(1067).exit_code, 1067u);  // ERROR_PROCESS_ABORTED
  EXPECT_EQ(to_string(life.state()), "stopped");
}

TEST(WinServiceLifecycle, UnknownControlsAreNotHandled) {
  Lifecycle life;
  life.running();
  EXPECT_FALSE(life.on_control(0x2 /* PAUSE */).handled);
  EXPECT_TRUE(life.on_control(control::kInterrogate).handled);
  EXPECT_EQ(life.state(), State::kRunning);
}

}  // namespace
}  // namespace sw::winsvc
