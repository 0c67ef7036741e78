// Reading one EVTX file from its checkpoint to its end, on the detection thread (the native
// reader hands events to a sink synchronously). The evtx input queues one job per file that
// appeared or changed; the file's checkpoint is a JSON object in the agent's state.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "daemon/inputs/evtx/evtx_input.hpp"
#include "daemon/work.hpp"
#include "sessionwatch/evtx_native.hpp"

namespace sw::daemon {

struct EvtxCheckpoint {
  std::string path;
  platform::FileId id;
  // Record header id of the last record handed on. Only resumes from it when there is no
  // position (a state written before positions were kept) or the file changed under it.
  std::uint64_t record_id = 0;
  std::optional<EvtxPosition> position;  // where reading carries on
  friend bool operator==(const EvtxCheckpoint&, const EvtxCheckpoint&) = default;
};
std::string checkpoint_text(const EvtxCheckpoint& checkpoint);
bool parse_checkpoint(std::string_view text, EvtxCheckpoint& out, std::string& error);

// The versions of the files the jobs of one input read (touched on the detection thread only).
using EvtxVersionsRead = std::map<std::string, EvtxFileVersion>;

class EvtxJob final : public InputJob {
 public:
  // `started`: told when the job begins (the input offers the file again after that).
  EvtxJob(std::size_t input_index, std::string input_name, std::string path,
          std::shared_ptr<EvtxVersionsRead> read, std::function<void(const std::string&)> started);
  std::optional<std::string> run(Context& context) override;

 private:
  EvtxCheckpoint resume_point(const Context& context, const platform::FileId& id) const;

  std::string input_name_;
  std::shared_ptr<EvtxVersionsRead> read_;
  std::function<void(const std::string&)> started_;
};

}  // namespace sw::daemon
