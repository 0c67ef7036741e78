// stdout: one record per line. It has no keys of its own.
#pragma once
#include "forward/output_plugin.hpp"
namespace sw::forward::detail {

struct StdoutOptions final : OutputOptions {
  // "": the default name stays "stdout-", which names its spool folder.
  std::string target() const override { return {}; }
};

extern const PluginEntry kStdoutOutput;

std::unique_ptr<OutputPlugin> make_stdout_output(const OutputConfig& config, std::string& error);

}  // namespace sw::forward::detail
