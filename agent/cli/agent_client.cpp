#include "cli/agent_client.hpp"

#include <cstdlib>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "forward/output_plugin.hpp"
#include "sessionwatch/yaml_guard.hpp"

namespace sw::cli {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxTokenFile = 4096;

bool read_token(const std::optional<std::string>& token_file, std::string& token,
                std::string& error) {
  if (!token_file) {
    const char* env = std::getenv("SESSIONWATCH_TOKEN");
    token = env ? env : "";
    return true;
  }
  if (!yaml::read_bounded_file(*token_file, kMaxTokenFile, token, error)) {
    error = "--token-file " + *token_file + ": " + error;
    return false;
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) {
    error = "--token-file " + *token_file + " is empty";
    return false;
  }
  return true;
}

// One GET, every step bounded by the endpoint's timeout.
class Request {
 public:
  Request(const AgentEndpoint& agent, std::string_view target) : agent_(agent), stream_(io_) {
    request_.method(http::verb::get);
    request_.target(std::string(target));
    request_.version(11);
    request_.set(http::field::host, agent.host + ":" + agent.port);
    request_.set(http::field::user_agent, "sessionwatch");
    if (!agent.authorization.empty()) request_.set(http::field::authorization, agent.authorization);
  }

  beast::error_code run(http::response<http::string_body>& response) {
    tcp::resolver resolver(io_);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(agent_.host, agent_.port, ec);
    if (ec) return ec;
    stream_.expires_after(agent_.timeout);
    stream_.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
      if (e) {
        ec = e;
        return;
      }
      http::async_write(stream_, request_, [&](beast::error_code e2, std::size_t) {
        if (e2) {
          ec = e2;
          return;
        }
        http::async_read(stream_, buffer_, response,
                         [&](beast::error_code e3, std::size_t) { ec = e3; });
      });
    });
    io_.run();
    return ec;
  }

 private:
  const AgentEndpoint& agent_;
  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
};

}  // namespace

bool make_agent_endpoint(const std::string& url, const std::optional<std::string>& token_file,
                         AgentEndpoint& out, std::string& error) {
  forward::detail::Url parsed;
  if (!forward::detail::parse_url(url, parsed, error)) {
    error = "--agent " + error;
    return false;
  }
  if (parsed.scheme != "http") {
    error = "--agent " + url + ": the agent's API speaks http:// (e.g. " + kDefaultAgentUrl + ")";
    return false;
  }
  out.url = url;
  out.host = parsed.host;
  out.port = parsed.port;
  std::string token;
  if (!read_token(token_file, token, error)) return false;
  out.authorization = token.empty() ? "" : "Bearer " + token;
  return true;
}

bool agent_get(const AgentEndpoint& agent, std::string_view target, AgentAnswer& answer,
               std::string& error) {
  http::response<http::string_body> response;
  Request request(agent, target);
  if (const beast::error_code ec = request.run(response)) {
    error = "cannot reach the agent at " + agent.url + ": " +
            (ec == beast::error::timeout ? std::string("no answer in time") : ec.message()) +
            " (is `sessionwatch run` running with metrics.listen set to this address?)";
    return false;
  }
  answer.status = static_cast<int>(response.result_int());
  answer.body = nlohmann::json::parse(response.body(), nullptr, false);
  if (answer.body.is_discarded() && answer.status != 401) {
    error = "the agent at " + agent.url + " answered " + std::to_string(answer.status) +
            " without JSON: is it a sessionwatch agent of this version?";
    return false;
  }
  return true;
}

std::string agent_error(const AgentAnswer& answer) {
  if (answer.status == 401) {
    return "the agent wants a bearer token: --token-file FILE or SESSIONWATCH_TOKEN (the "
           "agent's metrics.token)";
  }
  if (answer.body.is_object() && answer.body.contains("error") &&
      answer.body["error"].is_string()) {
    return answer.body["error"].get<std::string>();
  }
  return "the agent answered HTTP " + std::to_string(answer.status);
}

std::string url_path_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace sw::cli
