// A stand-in daemon for the service tests: `service run --config DIR\probe` runs under the SCM,
// writes probe.running when its run() starts and probe.drained when stop() made it return.
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "sessionwatch/winservice.hpp"

namespace {

struct ProbeDaemon {
  std::string marker;
  std::mutex mutex;
  std::condition_variable cv;
  bool stop_requested = false;
};

void touch(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args.front() == "service") args.erase(args.begin());
  static ProbeDaemon probe;
  return sw::winsvc::run_command(args, [](const std::string& config_path) {
    probe.marker = config_path;
    sw::winsvc::Daemon daemon;
    daemon.run = [] {
      touch(probe.marker + ".running", "running\n");
      std::unique_lock lock(probe.mutex);
      const bool stopped =
          probe.cv.wait_for(lock, std::chrono::seconds(120), [] { return probe.stop_requested; });
      touch(probe.marker + ".drained", stopped ? "stop\n" : "timeout\n");
      return stopped ? 0 : 3;
    };
    daemon.stop = [] {
      {
        std::lock_guard lock(probe.mutex);
        probe.stop_requested = true;
      }
      probe.cv.notify_all();
    };
    return daemon;
  });
}
