// The agent's durable state: where each source stands, and the detector's state, kept so that
// the two always agree after a crash. Two files in data_dir:
//   state.json     a full checkpoint (positions and every detector part), with a checksum;
//   state.journal  checkpoints since then, appended: positions and the detector parts changed
//                  since the previous checkpoint, each record framed with its length and CRC32C.
// A checkpoint costs what changed since the last one; when the journal outgrows the full state
// it is folded into a new state.json (the previous one and its journal kept as *.prev, the
// fallback when the new one turns out damaged).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/work.hpp"
#include "sessionwatch/event.hpp"
#include "sessionwatch/state_parts.hpp"

namespace sw::daemon {

struct AgentState {
  // input name -> stream -> the input's own checkpoint, opaque here (a followed file's position,
  // a Windows Event Log channel's bookmark XML, a Kafka partition's offset)
  std::map<std::string, std::map<std::string, std::string>> streams;
  // The detector's state and the record-id streams of followed files ("record_ids/..."), part
  // by part.
  StatePartMap parts;
  std::string detector_snapshot;  // the detector's state in a version 1 file (one text)
  Ticks saved_at = 0;             // when this state was written (for the downtime on restart)
};

// The full state as one JSON document (no checksum); parse_state reads versions 1 to 3.
std::string serialize_state(const AgentState& state);
bool parse_state(std::string_view text, AgentState& state, std::string& error);

class StateStore {
 public:
  explicit StateStore(std::string path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& path() const { return path_; }
  // False with `error` empty when there is no state yet (first start). Damage it recovered from
  // (a bad checksum, a damaged journal record) is described in `notes`: what may be read again.
  bool load(AgentState& state, std::string& error, std::vector<std::string>& notes);
  // Writes a full checkpoint and starts an empty journal after it.
  bool save(const AgentState& state, std::string& error);
  // The same with `positions`' streams and `parts` (their keys unique) as its parts.
  bool save(const AgentState& positions, const StateParts& parts, std::string& error);
  // Appends a checkpoint: `state`'s positions and the parts changed since the last one.
  // Only after a successful save() with no failed append() since (see needs_full()).
  bool append(const AgentState& state, const StateParts& changes, std::string& error);
  // Bytes of the last full checkpoint and of the journal after it.
  std::uint64_t full_bytes() const { return full_bytes_; }
  std::uint64_t journal_bytes() const { return journal_bytes_; }
  bool needs_full() const { return needs_full_; }

 private:
  std::uint64_t next_generation() const;
  // Writes a full checkpoint of this generation through `write` as it makes it; returns the bytes
  // written (0: failed).
  using FullWriter =
      std::function<std::uint64_t(std::uint64_t generation, const platform::WriteChunk& write)>;
  bool write_full(const FullWriter& write_text, std::string& error);

  std::string path_;
  std::string journal_path_;
  std::uint64_t generation_ = 0;
  bool needs_full_ = true;
  std::uint64_t full_bytes_ = 0;
  std::uint64_t journal_bytes_ = 0;
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> journal_;
};

}  // namespace sw::daemon
