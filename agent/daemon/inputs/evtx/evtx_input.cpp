#include "daemon/inputs/evtx/evtx_input.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "daemon/glob.hpp"

namespace sw::daemon {

std::optional<EvtxFileVersion> evtx_file_version(const std::string& path) {
  const auto info = platform::stat_path(path);
  if (!info || !info->regular) return std::nullopt;
  std::error_code ec;
  const auto modified = std::filesystem::last_write_time(path, ec);
  EvtxFileVersion v;
  v.id = info->id;
  v.size = info->size;
  v.modified = ec ? 0 : static_cast<std::int64_t>(modified.time_since_epoch().count());
  return v;
}

namespace {

class EvtxInput : public Input {
 public:
  EvtxInput(const InputConfig& config, std::size_t index) : index_(index), globs_(config.paths) {}

  bool init(const AgentState&, std::vector<WorkItem>& out, std::string&) override {
    collect(true, out);
    return true;
  }

  // A file is offered to the detection thread when it is new or changed since it was last
  // offered, and not while it waits in the queue; the thread reads only records after its
  // checkpoint. Unchanged files are not offered again, so a drained input stays quiet.
  bool collect(bool, std::vector<WorkItem>& out) override {
    std::lock_guard lock(mutex_);
    for (const std::string& glob : globs_) {
      for (const std::string& path : list_glob(glob)) {
        if (queued_.count(path)) continue;
        const auto version = evtx_file_version(path);
        if (!version) continue;
        if (auto it = offered_.find(path); it != offered_.end() && it->second == *version) continue;
        offered_[path] = *version;
        queued_.insert(path);
        WorkItem item;
        item.evtx = EvtxJob{index_, path};
        out.push_back(std::move(item));
      }
    }
    return false;
  }

  void job_started(const std::string& path) override {
    std::lock_guard lock(mutex_);
    queued_.erase(path);
    // What the job is about to read is the version to compare the next notification with.
    if (const auto version = evtx_file_version(path)) offered_[path] = *version;
  }

  std::vector<std::string> directories() const override { return glob_directories(globs_); }

 private:
  std::size_t index_;
  std::vector<std::string> globs_;
  std::mutex mutex_;  // collect() runs on the io thread, job_started() on the detection thread
  std::set<std::string> queued_;
  std::map<std::string, EvtxFileVersion> offered_;
};

}  // namespace

std::unique_ptr<Input> make_evtx_input(const InputConfig& config, std::size_t index) {
  return std::make_unique<EvtxInput>(config, index);
}

}  // namespace sw::daemon
