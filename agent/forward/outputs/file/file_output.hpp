#pragma once
#include "forward/output_plugin.hpp"
namespace sw::forward::detail {
std::unique_ptr<OutputPlugin> make_file_output(const OutputConfig& config, std::string& error);
}
