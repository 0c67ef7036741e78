// The file input's keys.
#include <array>

#include "daemon/inputs/file/file_input.hpp"

namespace sw::daemon {

namespace {

constexpr std::array<std::string_view, 5> kFileKeys = {"paths", "format", "computer", "channel",
                                                       "nxlog_time_zone"};

void parse_format(const YAML::Node& item, const InputParseContext& context,
                  FileInputOptions& options) {
  std::string value;
  if (!item["format"] || !context.reader.scalar(item["format"], context.where + ".format", value))
    return;
  if (!parse_input_format(value, options.format) || options.format == InputFormat::kEvtx) {
    context.reader.error(item["format"].Mark(),
                         context.where + ".format '" + value +
                             "' is not one of auto, jsonl, xml, text (EVTX files take an input "
                             "of type evtx)");
  }
}

void parse_time_zone(const YAML::Node& item, const InputParseContext& context,
                     FileInputOptions& options) {
  const YAML::Node zone = item["nxlog_time_zone"];
  std::string value;
  if (!zone || !context.reader.scalar(zone, context.where + ".nxlog_time_zone", value)) return;
  if (!parse_utc_offset(value, options.nxlog_time_offset_minutes)) {
    context.reader.error(zone.Mark(), context.where + ".nxlog_time_zone '" + value +
                                          "' is not UTC or an offset such as +01:00");
  }
}

std::shared_ptr<const InputOptions> parse_file_options(const YAML::Node& item,
                                                       const InputParseContext& context) {
  auto options = std::make_shared<FileInputOptions>();
  YamlReader& reader = context.reader;
  reader.globs(item, context.where, options->paths);
  parse_format(item, context, *options);
  if (item["computer"]) {
    reader.nonempty_scalar(item["computer"], context.where + ".computer", options->computer);
  }
  if (item["channel"]) {
    reader.nonempty_scalar(item["channel"], context.where + ".channel", options->channel);
  }
  parse_time_zone(item, context, *options);
  return options;
}

}  // namespace

const InputPlugin kFileInput = {"file", kFileKeys, &parse_file_options, &make_file_input};

}  // namespace sw::daemon
