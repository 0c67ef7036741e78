// The file output's keys.
#include <array>

#include "forward/config_reader.hpp"
#include "forward/outputs/file/file_output.hpp"

namespace sw::forward::detail {

namespace {

constexpr std::array<std::string_view, 2> kFileKeys = {"path", "rotate"};
constexpr std::array<std::string_view, 2> kRotateKeys = {"max_bytes", "max_files"};

}  // namespace

const PluginEntry kFileOutput = {"file", kFileKeys, &parse_file_options, &make_file_output, false};

std::shared_ptr<const OutputOptions> parse_file_options(ConfigReader& reader,
                                                        const YAML::Node& node,
                                                        const OutputConfig&) {
  auto options = std::make_shared<FileOptions>();
  if (!node["path"]) reader.error(node, "path", "file output needs 'path'");
  reader.file_path(node, "path", options->path);
  if (const YAML::Node r = reader.section(node, "rotate")) {
    reader.check_keys(r, kRotateKeys, "rotate", "rotate");
    reader.size(r, "rotate.max_bytes", options->max_bytes);
    if (std::int64_t v; reader.integer(r, "rotate.max_files", 1, 1000, v)) {
      options->max_files = static_cast<int>(v);
    }
  }
  return options;
}

}  // namespace sw::forward::detail
