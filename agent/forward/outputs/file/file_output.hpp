// file: one record per line, rotated by size. Its keys: file_config.cpp.
#pragma once
#include <filesystem>

#include "forward/output_plugin.hpp"
namespace sw::forward::detail {

struct FileOptions final : OutputOptions {
  std::filesystem::path path;
  std::uint64_t max_bytes = 100ULL << 20;  // rotate when the file would grow past this
  int max_files = 5;                       // path.1 .. path.N kept
  std::string target() const override { return path.string(); }
};

extern const PluginEntry kFileOutput;

std::shared_ptr<const OutputOptions> parse_file_options(ConfigReader& reader,
                                                        const YAML::Node& node,
                                                        const OutputConfig& shared);
std::unique_ptr<OutputPlugin> make_file_output(const OutputConfig& config, std::string& error);

}  // namespace sw::forward::detail
