// A stand-in daemon for the service tests: `service run --config DIR\probe` runs under the SCM,
// writes probe.running when its run() starts (and says it is ready, as the agent does once its
// inputs run) and probe.drained when stop() made it return. A marker ending in "-refused" makes
// it exit with 2 before it is ready, as the agent does on a configuration it refuses.
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "sessionwatch/platform.hpp"
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
      const std::string refused = "-refused";
      if (probe.marker.size() > refused.size() &&
          probe.marker.compare(probe.marker.size() - refused.size(), refused.size(), refused) ==
              0) {
        return 2;
      }
      touch(probe.marker + ".running", "running\n");
      sw::platform::service::notify_ready("probe running");
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
