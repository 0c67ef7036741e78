// The report's data from a running agent's query API (`sessionwatch report --from-agent URL`).
#pragma once

#include <string>

#include "cli/agent_client.hpp"
#include "cli/report_model.hpp"

namespace sw::cli {

// Every computer the agent knows (only `computer` when not empty, by FQDN or short name): its
// console holder, open remote sessions and recent refusals, as of the last event the agent saw.
// False with a sentence for a person in `error` when the agent could not be asked.
bool report_from_agent(const AgentEndpoint& agent, const std::string& computer, ReportData& out,
                       std::string& error);

}  // namespace sw::cli
