#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/input.hpp"
#include "daemon/input_plugin.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::daemon {

struct EvtxInputOptions final : InputOptions {
  std::vector<std::string> paths;  // absolute globs (wildcards in the file name only)
  std::vector<std::string> globs() const override { return paths; }
};

// Its keys: evtx_config.cpp.
extern const InputPlugin kEvtxInput;

// Queues a job per EVTX file that appears or changes; the detection thread reads it from its
// checkpoint on with the native parser (see Engine).
std::unique_ptr<Input> make_evtx_input(const InputConfig& config, std::size_t index,
                                       const EventInterest& needed, std::string& error);

// What tells one state of an EVTX file from the next. The modification time is part of it:
// Windows adds records inside a chunk already allocated, so the size alone stays the same.
struct EvtxFileVersion {
  platform::FileId id;
  std::uint64_t size = 0;
  std::int64_t modified = 0;  // file clock ticks
  friend bool operator==(const EvtxFileVersion&, const EvtxFileVersion&) = default;
};
std::optional<EvtxFileVersion> evtx_file_version(const std::string& path);

}  // namespace sw::daemon
