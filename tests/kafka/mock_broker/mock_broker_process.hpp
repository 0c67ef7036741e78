// sw_kafka_mock_broker (main.cpp) run as a child process by a test: its bootstrap address, and its
// stdin commands (down/up/topic). The broker exits when this object closes its stdin. A test that
// includes this defines SW_KAFKA_MOCK_BROKER (the executable's path) in its CMakeLists.txt.
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

extern char** environ;

namespace sw_test {

class MockBroker {
 public:
  // `args`: the broker's options, e.g. {"--topic", "alerts:4"}. bootstrap() is empty on failure.
  explicit MockBroker(std::vector<std::string> args) {
    int to_child[2];
    int from_child[2];
    if (::pipe(to_child) != 0) return;
    if (::pipe(from_child) != 0) {
      close_pair(to_child);
      return;
    }
    args.insert(args.begin(), SW_KAFKA_MOCK_BROKER);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    posix_spawn_file_actions_addclose(&actions, to_child[1]);
    posix_spawn_file_actions_addclose(&actions, from_child[0]);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_ = to_child[1];
    stdout_ = from_child[0];
    if (pid_ > 0) bootstrap_ = read_line(std::chrono::seconds(30));
  }
  ~MockBroker() {
    if (stdin_ >= 0) ::close(stdin_);  // the broker's signal to exit
    if (pid_ > 0 && !exited_within(std::chrono::seconds(10))) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }
  MockBroker(const MockBroker&) = delete;
  MockBroker& operator=(const MockBroker&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }

  // Sends one command line and returns the broker's answer ("ok" or "error: ...").
  std::string command(const std::string& line) {
    const std::string text = line + "\n";
    if (::write(stdin_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return "error: broker stdin closed";
    }
    return read_line(std::chrono::seconds(30));
  }

 private:
  static void close_pair(int fds[2]) {
    ::close(fds[0]);
    ::close(fds[1]);
  }

  std::string read_line(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(stdout_, buf, sizeof buf);
      if (n <= 0) return {};
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
  }

  bool exited_within(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return true;
      pollfd none{-1, 0, 0};
      ::poll(&none, 0, 20);
    }
    return false;
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string buffer_;
  std::string bootstrap_;
};

}  // namespace sw_test
