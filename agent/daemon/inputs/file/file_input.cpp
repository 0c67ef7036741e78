// The `file` input: a FileFollower over the input's globs.
#include "daemon/inputs/file/file_input.hpp"

#include <spdlog/spdlog.h>

#include "daemon/inputs/file/file_checkpoint.hpp"
#include "daemon/inputs/file/file_follower.hpp"
#include "daemon/inputs/file/line_decoder.hpp"
#include "daemon/timers.hpp"

namespace sw::daemon {

namespace {

using namespace std::chrono_literals;

FileFollower::Options follower_options(const InputConfig& config, const FileInputOptions& options,
                                       std::size_t index) {
  FileFollower::Options o;
  o.input_name = config.name;
  o.input_index = index;
  o.globs = options.paths;
  o.format = options.format;
  o.rotate_wait = scaled_timer(30s);
  return o;
}

class FileInput : public Input {
 public:
  FileInput(const InputConfig& config, const FileInputOptions& options, std::size_t index)
      : name_(config.name),
        follower_(follower_options(config, options, index)),
        decoder_(options, platform::host_name()) {}

  bool init(const AgentState& state, std::vector<WorkItem>& out, std::string&) override {
    if (auto it = state.streams.find(name_); it != state.streams.end()) {
      follower_.restore(restored_checkpoints(it->second));
    }
    std::vector<FileWork> found;
    follower_.rescan(found);
    hand_on(found, out);
    return true;
  }
  bool collect(bool rescan, std::vector<WorkItem>& out) override {
    std::vector<FileWork> found;
    if (rescan) follower_.rescan(found);
    const bool more = follower_.collect(found);
    hand_on(found, out);
    return more;
  }
  std::vector<std::string> directories() const override { return follower_.directories(); }
  bool lingering() const override { return follower_.lingering(); }
  void positions(AgentState& state) const override {
    auto& entries = state.streams[name_];
    for (const FileCheckpoint& cp : follower_.positions()) {
      entries.emplace(file_stream_key(cp.id), checkpoint_text(cp));
    }
  }

 private:
  std::vector<FileCheckpoint> restored_checkpoints(
      const std::map<std::string, std::string>& streams) const {
    std::vector<FileCheckpoint> restored;
    std::string error;
    for (const auto& [key, text] : streams) {
      FileCheckpoint cp;
      if (parse_checkpoint(text, cp, error)) {
        restored.push_back(std::move(cp));
      } else {
        spdlog::warn("input {}: checkpoint {} is not a file position ({}); dropped", name_, key,
                     error);
      }
    }
    return restored;
  }

  // Records become events here, on the input's thread (the detection thread only tracks).
  void hand_on(std::vector<FileWork>& found, std::vector<WorkItem>& out) {
    for (FileWork& work : found) {
      WorkItem& item = out.emplace_back();
      item.gaps = std::move(work.gaps);
      item.refused = std::move(work.refused);
      if (!work.lines) continue;
      const LineBatch& lines = *work.lines;
      EventBatch& batch = item.events.emplace();
      batch.input_index = lines.input_index;
      batch.stream = file_stream_key(lines.checkpoint.id);
      batch.origin = lines.path;
      batch.forget = lines.closed;
      if (!lines.closed) batch.checkpoint = checkpoint_text(lines.checkpoint);
      batch.check_record_ids = true;
      decoder_.decode(lines, batch);
      follower_.recycle(std::move(work.lines->data));
    }
  }

  std::string name_;
  FileFollower follower_;
  LineDecoder decoder_;
};

}  // namespace

std::unique_ptr<Input> make_file_input(const InputConfig& config, std::size_t index,
                                       const EventInterest&, std::string& error) {
  const auto* options = options_of<FileInputOptions>(config, error);
  if (!options) return nullptr;
  return std::make_unique<FileInput>(config, *options, index);
}

}  // namespace sw::daemon
