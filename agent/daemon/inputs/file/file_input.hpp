// The `file` input: follows growing files of JSON lines, Event XML or text. Its keys:
// file_config.cpp.
#pragma once

#include <string>
#include <vector>

#include "daemon/input.hpp"
#include "daemon/input_plugin.hpp"
#include "sessionwatch/decode.hpp"

namespace sw::daemon {

struct FileInputOptions final : InputOptions {
  std::vector<std::string> paths;  // absolute globs (wildcards in the file name only)
  InputFormat format = InputFormat::kAuto;
  std::string computer;               // text: computer for lines without one
  std::string channel;                // text: channel for lines without one
  int nxlog_time_offset_minutes = 0;  // `nxlog_time_zone` (DecodeOptions)
  std::vector<std::string> globs() const override { return paths; }
  std::string summary() const override { return ", format " + std::string(to_string(format)); }
};

extern const InputPlugin kFileInput;

std::unique_ptr<Input> make_file_input(const InputConfig& config, std::size_t index,
                                       const EventInterest& needed, std::string& error);

}  // namespace sw::daemon
