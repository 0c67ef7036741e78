// The evtx input's keys.
#include <array>

#include "daemon/inputs/evtx/evtx_input.hpp"

namespace sw::daemon {

namespace {

constexpr std::array<std::string_view, 1> kEvtxKeys = {"paths"};

std::shared_ptr<const InputOptions> parse_evtx_options(const YAML::Node& item,
                                                       const InputParseContext& context) {
  auto options = std::make_shared<EvtxInputOptions>();
  context.reader.globs(item, context.where, options->paths);
  return options;
}

}  // namespace

const InputPlugin kEvtxInput = {"evtx", kEvtxKeys, &parse_evtx_options, &make_evtx_input};

}  // namespace sw::daemon
