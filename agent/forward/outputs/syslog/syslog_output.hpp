#pragma once
#include "forward/output_plugin.hpp"
namespace sw::forward::detail {
// udp:// (one datagram per record), tcp:// and tls:// (RFC 6587 octet counting or LF framing;
// RFC 5425 over TLS).
std::unique_ptr<OutputPlugin> make_syslog_output(const OutputConfig& config, std::string& error);
}  // namespace sw::forward::detail
