// relp:// via librelp (POSIX builds with librelp only; see SW_HAVE_RELP). Its keys:
// relp_config.cpp.
#pragma once
#include "forward/net/endpoints.hpp"
#include "forward/output_plugin.hpp"
namespace sw::forward::detail {

struct RelpOptions final : OutputOptions {
  Endpoints endpoints;
  std::string target() const override { return first_url(endpoints); }
};

extern const PluginEntry kRelpOutput;

std::shared_ptr<const OutputOptions> parse_relp_options(ConfigReader& reader,
                                                        const YAML::Node& node,
                                                        const OutputConfig& shared);
std::unique_ptr<OutputPlugin> make_relp_output(const OutputConfig& config, std::string& error);

}  // namespace sw::forward::detail
