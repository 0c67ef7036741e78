// `sessionwatch check` and `sessionwatch run`: the agent as a long-running service.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace sw {

// Exit codes shared with the CLI.
inline constexpr int kDaemonExitOk = 0;
inline constexpr int kDaemonExitFailed = 1;  // could not start or keep running
inline constexpr int kDaemonExitConfig = 2;  // usage error, invalid config or refused rules

// Validates the config and its rules and prints what would run to `out` (problems, each with
// file:line:column, to `err`). 0 when valid, 2 when not.
int run_check(const std::string& config_path, std::FILE* out, std::FILE* err);

// Runs the agent until SIGTERM/SIGINT (0 after draining and flushing), reloading on SIGHUP.
// 2 when the config is invalid at start, 1 when it cannot start.
int run_daemon(const std::string& config_path);

// The subcommands with their own options (-c/--config FILE, -h/--help); `args` are the words after
// the command name.
int check_command(const std::vector<std::string>& args);
int run_command(const std::vector<std::string>& args);

}  // namespace sw
