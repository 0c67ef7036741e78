// The alert table for `--format table`: time, host, requester, console holder, since,
// detection, rule. One header line, one line per alert.
#pragma once

#include <string>
#include <vector>

#include "sessionwatch/alert.hpp"

namespace sw {

std::string render_alert_table(const std::vector<Alert>& alerts);

}  // namespace sw
