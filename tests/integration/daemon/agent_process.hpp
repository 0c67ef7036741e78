// The real `sessionwatch` binary run as a child process, and the alerts its file output wrote,
// for the integration tests of `sessionwatch run` (POSIX: posix_spawn, signals).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace sw_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// SW_TEST_BINARY runs the tests against another build (to compare with a previous version).
inline std::string binary() {
  if (const char* other = std::getenv("SW_TEST_BINARY")) return other;
  return std::string(SW_BINARY_DIR) + "/agent/cli/sessionwatch";
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<nlohmann::json> alert_docs(const fs::path& file) {
  std::vector<nlohmann::json> docs;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) docs.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return docs;
}

// The complete lines of a file the agent may be writing: a last line without its newline is
// still being written and is left out.
inline std::string complete_lines(const fs::path& file) {
  std::string text = read_file(file);
  text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  return text;
}

// Alert ids in a JSON-lines alerts file, with their counts. A line that is not JSON fails the
// test, unless `torn` counts them (a file output killed in the middle of a line).
inline std::map<std::string, int> alert_ids(const fs::path& file,
                                            const std::string& rule_filter = "",
                                            std::size_t* torn = nullptr) {
  std::map<std::string, int> ids;
  std::istringstream in(complete_lines(file));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded()) {
      if (torn) {
        ++*torn;
      } else {
        ADD_FAILURE() << "not JSON in alerts: " << line;
      }
      continue;
    }
    const std::string rule = doc["rule"].value("id", std::string());
    if (!rule_filter.empty() && rule != rule_filter) continue;
    ++ids[doc["event"]["id"].get<std::string>()];
  }
  return ids;
}

class Agent {
 public:
  Agent(const fs::path& config, const fs::path& log, const std::vector<std::string>& extra = {})
      : Agent(log, command(config, extra)) {}
  // Runs `args` (args[0] found on PATH), e.g. the agent behind a wrapper.
  Agent(const fs::path& log, std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Agent() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  static std::vector<std::string> command(const fs::path& config,
                                          const std::vector<std::string>& extra) {
    std::vector<std::string> args = {binary(), "run", "-c", config.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void signal(int sig) { ::kill(pid_, sig); }
  // Exit status, or -1 when it did not exit in time (then it is killed).
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    print_stacks();
    return -1;
  }
  // Every thread's stack (gdb, when installed), for a test log that says where an agent hung.
  void print_stacks() const {
    if (std::system("command -v gdb >/dev/null 2>&1") != 0) return;
    std::fprintf(stderr, "agent %d did not exit in time; its threads:\n", static_cast<int>(pid_));
    const std::string command =
        "gdb -p " + std::to_string(pid_) +
        " -batch -nx -ex 'thread apply all bt' 2>&1 | grep -E '^(Thread|#)' >&2";
    [[maybe_unused]] const int status = std::system(command.c_str());
  }
  void kill9() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace sw_test
