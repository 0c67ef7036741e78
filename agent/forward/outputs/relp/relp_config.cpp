// The relp output's keys.
#if defined(SW_HAVE_RELP)

#include <array>

#include "forward/outputs/relp/relp_output.hpp"

namespace sw::forward::detail {

namespace {

constexpr std::array<std::string_view, 4> kRelpKeys = {"url", "urls", "connect_timeout",
                                                       "io_timeout"};

}  // namespace

const PluginEntry kRelpOutput = {"relp", kRelpKeys, &parse_relp_options, &make_relp_output, true};

std::shared_ptr<const OutputOptions> parse_relp_options(ConfigReader& reader,
                                                        const YAML::Node& node,
                                                        const OutputConfig&) {
  auto options = std::make_shared<RelpOptions>();
  parse_endpoints(reader, node, "relp", {"relp"}, false, options->endpoints);
  return options;
}

}  // namespace sw::forward::detail

#endif  // SW_HAVE_RELP
