// The syslog output's keys.
#include <algorithm>
#include <array>

#include "forward/outputs/syslog/syslog_output.hpp"

namespace sw::forward::detail {

namespace {

constexpr std::array<std::string_view, 8> kSyslogKeys = {
    "url", "urls",    "connect_timeout", "io_timeout",
    "tls", "framing", "confirm_delay",   "failback_interval"};

}  // namespace

const PluginEntry kSyslogOutput = {"syslog", kSyslogKeys, &parse_syslog_options,
                                   &make_syslog_output, true};

std::shared_ptr<const OutputOptions> parse_syslog_options(ConfigReader& reader,
                                                          const YAML::Node& node,
                                                          const OutputConfig&) {
  auto options = std::make_shared<SyslogOptions>();
  parse_endpoints(reader, node, "syslog", {"udp", "tcp", "tls"}, false, options->endpoints);
  parse_tls(reader, node, options->tls);
  const auto& urls = options->endpoints.urls;
  const auto is_udp = [](const std::string& url) { return url.rfind("udp://", 0) == 0; };
  if (std::any_of(urls.begin(), urls.end(), is_udp) &&
      !std::all_of(urls.begin(), urls.end(), is_udp)) {
    reader.error(node["urls"], "urls",
                 "cannot mix udp:// with tcp:// or tls:// collectors in one output");
  }
  if (std::string f; reader.string(node, "framing", f)) {
    if (f == "octet-counting" || f == "octet_counting")
      options->framing = TcpFraming::kOctetCounting;
    else if (f == "lf")
      options->framing = TcpFraming::kLineFeed;
    else
      reader.error(node["framing"], "framing", "must be octet-counting or lf");
  }
  reader.duration(node, "confirm_delay", options->confirm_delay);
  reader.duration(node, "failback_interval", options->failback_interval);
  return options;
}

}  // namespace sw::forward::detail
