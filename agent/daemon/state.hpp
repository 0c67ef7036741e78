// The agent's durable state: where each source stands, and the detector's tracker state, in one
// file replaced atomically so the two always agree.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/work.hpp"
#include "sessionwatch/event.hpp"
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

struct AgentState {
  // input name -> file identity -> position
  std::map<std::string, std::map<platform::FileId, FileCheckpoint>> files;
  // input name -> path -> position
  std::map<std::string, std::map<std::string, EvtxCheckpoint>> evtx;
  // input name -> channel -> bookmark XML (Windows Event Log)
  std::map<std::string, std::map<std::string, std::string>> eventlog;
  std::string detector_snapshot;
  Ticks saved_at = 0;  // when this state was written (for the downtime on restart)
};

std::string serialize_state(const AgentState& state);
bool parse_state(std::string_view text, AgentState& state, std::string& error);

class StateStore {
 public:
  explicit StateStore(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  // False with `error` empty when there is no state yet (first start).
  bool load(AgentState& state, std::string& error) const;
  bool save(const AgentState& state, std::string& error) const;

 private:
  std::string path_;
};

}  // namespace sw::daemon
