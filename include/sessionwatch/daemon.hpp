// `sessionwatch check` and `sessionwatch run`: the agent as a long-running service.
#pragma once

#include <chrono>
#include <cstdint>
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

// How `run` runs. The defaults are the service: follow the inputs until stopped.
struct RunOptions {
  // Read every input to its end (what is there when it is read; a last line without its newline
  // is left for the next run), deliver every alert, save the checkpoints and exit: a one-shot
  // backfill, or the demo. The next run carries on from the checkpoints.
  bool once = false;
  // With `once`: hold events up to this long (in event time) so that the events of all inputs are
  // processed in time order, as `scan` does when it reads one file after another. 0 processes
  // them in the order each input delivers them (the service's behaviour). While events are held,
  // checkpoints are only written at the end: an interrupted backfill starts again from where it
  // started (duplicates only, with the same event.id).
  std::int64_t reorder_window_seconds = 0;
  // With `once`: how long to wait for the outputs to confirm delivery of everything spooled.
  std::chrono::seconds delivery_timeout{120};
};

// What a run did (filled when the engine stops).
struct RunSummary {
  std::uint64_t events_read = 0;
  std::uint64_t events_decoded = 0;
  std::uint64_t events_bad = 0;
  std::uint64_t alerts = 0;
  bool delivered = true;  // `once`: every alert confirmed by every output
};

// Runs the agent until SIGTERM/SIGINT (0 after draining and flushing), reloading on SIGHUP; with
// options.once until its inputs are drained and the alerts delivered (1 when they were not).
// 2 when the config is invalid at start, 1 when it cannot start.
int run_daemon(const std::string& config_path, const RunOptions& options = {},
               RunSummary* summary = nullptr);

// The subcommands with their own options (-c/--config FILE, -h/--help); `args` are the words after
// the command name.
int check_command(const std::vector<std::string>& args);
int run_command(const std::vector<std::string>& args);

}  // namespace sw
