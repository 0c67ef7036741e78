#include "daemon/inputs/evtx/evtx_input.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include <spdlog/spdlog.h>

#include "daemon/glob.hpp"
#include "daemon/inputs/evtx/evtx_job.hpp"
#include "daemon/timers.hpp"

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

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kFileHeaderSize = 4096;
constexpr std::uint64_t kChunkSize = 65536;
// A file still changing or incomplete after this many settle times is read anyway: it is a live
// log, or damaged, not a copy still arriving.
constexpr int kMaxWaitSettles = 15;

// False while the file holds fewer chunks than its header claims: a copy still in progress.
bool looks_complete(const std::string& path, std::uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[44] = {};
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return false;
  const std::uint64_t chunks = header[42] | (header[43] << 8);
  return size >= kFileHeaderSize + chunks * kChunkSize;
}

class EvtxInput : public Input {
 public:
  EvtxInput(const InputConfig& config, const EvtxInputOptions& options, std::size_t index)
      : name_(config.name), index_(index), globs_(options.paths), settle_(scaled_timer(2s)) {}

  bool init(const AgentState&, std::vector<WorkItem>& out, std::string&) override {
    collect(true, out);
    return true;
  }

  // A file is offered to the detection thread when it is new or changed since it was last
  // offered, once it has settled (see settled()), and not while it waits in the queue; the thread
  // reads only records after its checkpoint. Unchanged files are not offered again, so a drained
  // input stays quiet.
  bool collect(bool, std::vector<WorkItem>& out) override {
    std::lock_guard lock(mutex_);
    std::set<std::string> present;
    for (const std::string& glob : globs_) {
      for (const std::string& path : list_glob(glob)) {
        present.insert(path);
        if (queued_.count(path)) continue;
        const auto version = evtx_file_version(path);
        if (!version) continue;
        if (auto it = offered_.find(path); it != offered_.end() && it->second == *version) {
          settling_.erase(path);
          continue;
        }
        if (!settled(path, *version)) continue;
        settling_.erase(path);
        offered_[path] = *version;
        queued_.insert(path);
        WorkItem item;
        item.job = std::make_shared<EvtxJob>(index_, name_, path, versions_read_,
                                             [this](const std::string& p) { job_started(p); });
        out.push_back(std::move(item));
      }
    }
    std::erase_if(settling_, [&](const auto& entry) { return !present.count(entry.first); });
    return false;
  }

  std::vector<std::string> directories() const override { return glob_directories(globs_); }
  bool lingering() const override {
    std::lock_guard lock(mutex_);
    return !settling_.empty();
  }
  bool settling() const override { return lingering(); }

 private:
  // On the detection thread, when a job this input queued begins.
  void job_started(const std::string& path) {
    std::lock_guard lock(mutex_);
    queued_.erase(path);
    // What the job is about to read is the version to compare the next notification with.
    if (const auto version = evtx_file_version(path)) offered_[path] = *version;
  }

  struct Settling {
    EvtxFileVersion version;
    Clock::time_point changed;  // when this version was first seen
    Clock::time_point first;    // when the file was first seen changing, this time round
    bool announced = false;
  };

  // A file copied in is read once it stopped changing for the settle time (by its modification
  // time, or watched for as long when that is in the future) and holds as many chunks as its
  // header claims, so a half-copied file is not read and reported as damaged. A file that keeps
  // changing (a live log) or stays incomplete (damaged) is read anyway after kMaxWaitSettles
  // settle times, and again as often after that.
  bool settled(const std::string& path, const EvtxFileVersion& version) {
    const auto now = Clock::now();
    auto [it, fresh] = settling_.try_emplace(path, Settling{version, now, now});
    Settling& s = it->second;
    if (!fresh && !(s.version == version)) {
      s.version = version;
      s.changed = now;
    }
    if (now - s.first >= settle_ * kMaxWaitSettles) return true;
    const auto unchanged_for = std::max<Clock::duration>(now - s.changed, age(path));
    if (unchanged_for < settle_) return false;
    if (looks_complete(path, version.size)) return true;
    if (!s.announced) {
      spdlog::info(
          "input {}: {} holds fewer chunks than its header claims; waiting for the rest "
          "of it",
          name_, path);
      s.announced = true;
    }
    return false;
  }

  // How long ago the file was last modified (0 when that is in the future or unknown).
  static Clock::duration age(const std::string& path) {
    std::error_code ec;
    const auto modified = std::filesystem::last_write_time(path, ec);
    if (ec) return Clock::duration::zero();
    const auto ago = std::filesystem::file_time_type::clock::now() - modified;
    if (ago <= decltype(ago)::zero()) return Clock::duration::zero();
    return std::chrono::duration_cast<Clock::duration>(ago);
  }

  std::string name_;
  std::size_t index_;
  std::vector<std::string> globs_;
  std::chrono::milliseconds settle_;
  mutable std::mutex mutex_;  // collect() runs on the io thread, job_started() on the detection
  std::set<std::string> queued_;
  std::map<std::string, EvtxFileVersion> offered_;
  std::map<std::string, Settling> settling_;
  std::shared_ptr<EvtxVersionsRead> versions_read_ = std::make_shared<EvtxVersionsRead>();
};

}  // namespace

std::unique_ptr<Input> make_evtx_input(const InputConfig& config, std::size_t index,
                                       const EventInterest&, std::string& error) {
  const auto* options = options_of<EvtxInputOptions>(config, error);
  if (!options) return nullptr;
  return std::make_unique<EvtxInput>(config, *options, index);
}

}  // namespace sw::daemon
