// The `file` input: a FileFollower over the input's globs.
#include "daemon/inputs/file/file_input.hpp"

#include "daemon/inputs/file/file_follower.hpp"
#include "daemon/inputs/file/line_decoder.hpp"
#include "daemon/timers.hpp"

namespace sw::daemon {

namespace {

using namespace std::chrono_literals;

FileFollower::Options follower_options(const InputConfig& config, std::size_t index) {
  FileFollower::Options o;
  o.input_name = config.name;
  o.input_index = index;
  o.globs = config.paths;
  o.format = config.format;
  o.rotate_wait = scaled_timer(30s);
  return o;
}

class FileInput : public Input {
 public:
  FileInput(const InputConfig& config, std::size_t index)
      : name_(config.name),
        follower_(follower_options(config, index)),
        decoder_(config, platform::host_name()) {}

  bool init(const AgentState& state, std::vector<WorkItem>& out, std::string&) override {
    if (auto it = state.files.find(name_); it != state.files.end()) {
      std::vector<FileCheckpoint> restored;
      for (const auto& [id, cp] : it->second) restored.push_back(cp);
      follower_.restore(std::move(restored));
    }
    const std::size_t first = out.size();
    follower_.rescan(out);
    decode(out, first);
    return true;
  }
  bool collect(bool rescan, std::vector<WorkItem>& out) override {
    const std::size_t first = out.size();
    if (rescan) follower_.rescan(out);
    const bool more = follower_.collect(out);
    decode(out, first);
    return more;
  }
  std::vector<std::string> directories() const override { return follower_.directories(); }
  bool lingering() const override { return follower_.lingering(); }
  void positions(AgentState& state) const override {
    auto& entries = state.files[name_];
    for (const FileCheckpoint& cp : follower_.positions()) entries.emplace(cp.id, cp);
  }

 private:
  void decode(std::vector<WorkItem>& out, std::size_t first) {
    for (std::size_t i = first; i < out.size(); ++i) {
      if (out[i].lines) decoder_.decode(*out[i].lines);
    }
  }

  std::string name_;
  FileFollower follower_;
  LineDecoder decoder_;
};

}  // namespace

std::unique_ptr<Input> make_file_input(const InputConfig& config, std::size_t index) {
  return std::make_unique<FileInput>(config, index);
}

}  // namespace sw::daemon
