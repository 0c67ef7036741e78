#include "daemon/inputs/evtx/evtx_input.hpp"

#include <filesystem>
#include <mutex>
#include <set>

namespace sw::daemon {

namespace {

bool wildcard(std::string_view pattern, std::string_view name) {
  std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

class EvtxInput : public Input {
 public:
  EvtxInput(const InputConfig& config, std::size_t index) : index_(index), globs_(config.paths) {}

  bool init(const AgentState&, std::vector<WorkItem>& out, std::string&) override {
    collect(true, out);
    return true;
  }

  // Every matching file is offered to the detection thread, which reads only records after its
  // checkpoint; a file already waiting in the queue is not queued twice.
  bool collect(bool, std::vector<WorkItem>& out) override {
    for (const std::string& glob : globs_) {
      const std::filesystem::path g(glob);
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(g.parent_path(), ec)) {
        if (!wildcard(g.filename().string(), entry.path().filename().string())) continue;
        if (!entry.is_regular_file(ec)) continue;
        const std::string path = entry.path().string();
        {
          std::lock_guard lock(mutex_);
          if (!queued_.insert(path).second) continue;
        }
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
  }

  std::vector<std::string> directories() const override {
    std::vector<std::string> dirs;
    for (const std::string& glob : globs_) {
      dirs.push_back(std::filesystem::path(glob).parent_path().string());
    }
    return dirs;
  }

 private:
  std::size_t index_;
  std::vector<std::string> globs_;
  std::mutex mutex_;
  std::set<std::string> queued_;
};

}  // namespace

std::unique_ptr<Input> make_evtx_input(const InputConfig& config, std::size_t index) {
  return std::make_unique<EvtxInput>(config, index);
}

}  // namespace sw::daemon
