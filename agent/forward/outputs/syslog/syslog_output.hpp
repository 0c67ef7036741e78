// syslog over udp:// (one datagram per record), tcp:// and tls:// (RFC 6587 octet counting or LF
// framing; RFC 5425 over TLS). Its keys: syslog_config.cpp.
#pragma once
#include "forward/net/endpoints.hpp"
#include "forward/output_plugin.hpp"
namespace sw::forward::detail {

enum class TcpFraming { kOctetCounting, kLineFeed };

struct SyslogOptions final : OutputOptions {
  Endpoints endpoints;
  TlsOptions tls;
  TcpFraming framing = TcpFraming::kOctetCounting;
  // TCP/TLS: a write counts as confirmed once the peer's TCP acknowledged it and the connection
  // is still up this long after the write.
  std::chrono::milliseconds confirm_delay{200};
  // While on a secondary collector, try the first one again this often.
  std::chrono::milliseconds failback_interval{30'000};
  std::string target() const override { return first_url(endpoints); }
};

extern const PluginEntry kSyslogOutput;

std::shared_ptr<const OutputOptions> parse_syslog_options(ConfigReader& reader,
                                                          const YAML::Node& node,
                                                          const OutputConfig& shared);
std::unique_ptr<OutputPlugin> make_syslog_output(const OutputConfig& config, std::string& error);

}  // namespace sw::forward::detail
