// The agent's local query API (docs/query.md), served beside /metrics:
//   GET /v1/hosts                              known computers, their console holder and state
//   GET /v1/hosts/{computer}/console           the holder, since when, the events that said so
//   GET /v1/hosts/{computer}/sessions          open sessions
//   GET /v1/hosts/{computer}/refusals?since=T  recent alerts (a bounded ring per computer)
// A computer is named by FQDN or short name, in any case. Every answer is JSON; errors are
// {"error": "..."} with 400 (malformed), 404 (unknown computer or path) or 405.
#pragma once

#include <string>
#include <string_view>

#include "daemon/metrics.hpp"
#include "daemon/query.hpp"

namespace sw::daemon {

// `target` is the request target (path and query); `now` stamps the answer.
HttpReply answer_query(const LiveState& state, std::string_view target, Ticks now);

// The commands that show and end a console holder's session, as the alert's remediation writes
// them ("quser /server:HOST", "logoff ID /server:HOST").
std::string quser_command(std::string_view host);
std::string logoff_command(std::string_view host, const ConsoleInfo& console);

}  // namespace sw::daemon
