#pragma once
#include "forward/output_plugin.hpp"
namespace sw::forward::detail {
// relp:// via librelp (POSIX builds with librelp only; see SW_HAVE_RELP).
std::unique_ptr<OutputPlugin> make_relp_output(const OutputConfig& config, std::string& error);
}  // namespace sw::forward::detail
