// Asks a running agent's query API (docs/query.md) over HTTP: `sessionwatch who` and
// `sessionwatch report --from-agent`.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sw::cli {

// Where the agent listens and how to prove who asks.
struct AgentEndpoint {
  std::string url;  // as given, for messages
  std::string host, port;
  std::string authorization;  // "Bearer <token>", or empty
  std::chrono::milliseconds timeout{5000};
};

inline constexpr const char* kDefaultAgentUrl = "http://127.0.0.1:9464";

// http://host:port (a path after it is ignored); the token from `token_file` when given, else
// from the SESSIONWATCH_TOKEN environment variable. False with the reason in `error`.
bool make_agent_endpoint(const std::string& url, const std::optional<std::string>& token_file,
                         AgentEndpoint& out, std::string& error);

struct AgentAnswer {
  int status = 0;
  nlohmann::json body;  // the JSON the agent sent (discarded when it sent none)
};

// GET `target` ("/v1/hosts"). False with a sentence for a person in `error` when the agent
// could not be asked (not listening, timed out, not JSON).
bool agent_get(const AgentEndpoint& agent, std::string_view target, AgentAnswer& answer,
               std::string& error);

// The agent's own message of an error answer ({"error": "..."}), else the HTTP status.
std::string agent_error(const AgentAnswer& answer);

// A computer name as a path segment.
std::string url_path_segment(std::string_view text);

}  // namespace sw::cli
