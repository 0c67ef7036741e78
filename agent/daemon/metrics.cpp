#include "daemon/metrics.hpp"

#include <cassert>
#include <charconv>
#include <chrono>

#include <openssl/crypto.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sw::daemon {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A Prometheus label value: backslash, double quote and newline escaped.
std::string label_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// "Authorization: Bearer <token>", compared in constant time: how long the comparison takes
// says nothing of how much of a guess was right.
bool authorized(std::string_view header, const std::string& token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty()) return true;
  if (header.size() != kScheme.size() + token.size() ||
      header.substr(0, kScheme.size()) != kScheme) {
    return false;
  }
  return CRYPTO_memcmp(header.data() + kScheme.size(), token.data(), token.size()) == 0;
}

std::string json_error(std::string_view message) {
  return "{\"error\":\"" + std::string(message) + "\"}\n";
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const MetricsServer::Handlers& handlers, const std::string& token)
      : stream_(std::move(socket)), handlers_(handlers), token_(token) {}

  void start() {
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->respond();
                     });
  }

 private:
  void reply(http::status status, const char* content_type, std::string body) {
    response_.result(status);
    response_.set(http::field::content_type, content_type);
    response_.body() = std::move(body);
  }

  void route() {
    const std::string_view target(request_.target().data(), request_.target().size());
    const auto authorization = request_[http::field::authorization];
    if (!authorized(std::string_view(authorization.data(), authorization.size()), token_)) {
      response_.set(http::field::www_authenticate, "Bearer realm=\"sessionwatch\"");
      reply(http::status::unauthorized, "application/json",
            json_error("this agent wants a bearer token (Authorization: Bearer <metrics.token>)"));
    } else if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      reply(http::status::method_not_allowed, "application/json", json_error("GET only"));
    } else if (target == "/metrics") {
      reply(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", handlers_.render());
    } else if (target == "/healthz") {
      const bool ok = handlers_.healthy();
      reply(ok ? http::status::ok : http::status::service_unavailable, "text/plain",
            ok ? "ok\n" : "stalled\n");
    } else if (target.substr(0, 4) == "/v1/" && handlers_.api) {
      HttpReply answer = handlers_.api(target);
      reply(static_cast<http::status>(answer.status), "application/json", std::move(answer.body));
    } else {
      reply(http::status::not_found, "application/json",
            json_error("try /metrics, /healthz or /v1/hosts"));
    }
  }

  void respond() {
    response_.version(request_.version());
    response_.keep_alive(false);
    response_.set(http::field::server, "sessionwatch");
    route();
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  const MetricsServer::Handlers& handlers_;
  const std::string& token_;
};

class BeastMetricsServer : public MetricsServer {
 public:
  BeastMetricsServer(asio::io_context& io, Handlers handlers, std::string token)
      : acceptor_(io), handlers_(std::move(handlers)), token_(std::move(token)) {}

  bool listen(const std::string& address, std::uint16_t port, std::string& error) {
    beast::error_code ec;
    const auto ip = asio::ip::make_address(address, ec);
    if (ec) {
      error = "metrics.listen: '" + address + "' is not an IP address";
      return false;
    }
    const tcp::endpoint endpoint(ip, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      error =
          "metrics: cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message();
      return false;
    }
    accept();
    return true;
  }

  void stop() override {
    stopped_ = true;
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || stopped_) return;
      if (!ec) std::make_shared<Session>(std::move(socket), handlers_, token_)->start();
      accept();
    });
  }

  tcp::acceptor acceptor_;
  Handlers handlers_;
  std::string token_;
  bool stopped_ = false;
};

}  // namespace

Exposition::Family& Exposition::family(std::string_view name, Type type, std::string_view help) {
  for (Family& f : families_) {
    if (f.name != name) continue;
    assert(f.type == type && f.help == help && "one family, one HELP and TYPE");
    return f;
  }
  families_.push_back(Family{std::string(name), type, std::string(help), {}});
  return families_.back();
}

void Exposition::declare(std::string_view name, Type type, std::string_view help) {
  family(name, type, help);
}

void Exposition::add(std::string_view name, Type type, std::string_view help, const Labels& labels,
                     double value) {
  std::string& out = family(name, type, help).samples;
  out += name;
  if (!labels.empty()) {
    out += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out += ',';
      out += labels[i].first;
      out += "=\"";
      out += label_value(labels[i].second);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  // Shortest round-trip form: integers print without a fraction, as Prometheus writes them.
  char number[32];
  const auto [end, ec] = std::to_chars(number, number + sizeof number, value);
  out.append(number, ec == std::errc() ? end : number);
  out += '\n';
}

std::string Exposition::text() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP " + f.name + " " + f.help + "\n";
    out += "# TYPE " + f.name + (f.type == Type::kCounter ? " counter\n" : " gauge\n");
    out += f.samples;
  }
  return out;
}

void EngineMetrics::render(Exposition& out) const {
  using T = Exposition::Type;
  struct Family {
    const char* name;
    const char* help;
    T type;
    double (*value)(const InputMetrics&);
  };
  static constexpr Family kInputFamilies[] = {
      {"sessionwatch_input_events_read_total", "Records read from the input.", T::kCounter,
       [](const InputMetrics& m) { return double(m.events_read.load()); }},
      {"sessionwatch_input_events_decoded_total", "Records decoded into events.", T::kCounter,
       [](const InputMetrics& m) { return double(m.events_decoded.load()); }},
      {"sessionwatch_input_events_bad_total", "Records that could not be decoded.", T::kCounter,
       [](const InputMetrics& m) { return double(m.events_bad.load()); }},
      {"sessionwatch_input_bytes_read_total", "Bytes read from the input.", T::kCounter,
       [](const InputMetrics& m) { return double(m.bytes_read.load()); }},
      {"sessionwatch_input_collection_gaps_total", "Collection gaps raised for the input.",
       T::kCounter, [](const InputMetrics& m) { return double(m.gaps.load()); }},
      {"sessionwatch_input_files_refused_total",
       "Files the input matched but does not read (binary, compressed, EVTX in a file input).",
       T::kCounter, [](const InputMetrics& m) { return double(m.files_refused.load()); }},
      {"sessionwatch_input_lag_seconds", "Time between the last event's creation and its reading.",
       T::kGauge, [](const InputMetrics& m) { return m.lag_seconds.load(); }},
  };
  for (const Family& f : kInputFamilies) {
    out.declare(f.name, f.type, f.help);
    for (const auto& input : inputs) {
      out.add(f.name, f.type, f.help, {{"input", input->name}, {"type", input->type}},
              f.value(*input));
    }
  }
  constexpr const char* kMatches = "sessionwatch_rule_matches_total";
  out.declare(kMatches, T::kCounter, "Matches per rule.");
  {
    std::lock_guard lock(mutex_);
    for (const auto& [rule, count] : rule_matches_) {
      out.add(kMatches, T::kCounter, "Matches per rule.", {{"rule", rule}}, double(count));
    }
  }
  const auto single = [&out](const char* name, T type, const char* help, double value) {
    out.add(name, type, help, {}, value);
  };
  single("sessionwatch_alerts_total", T::kCounter, "Alerts raised (collection gaps included).",
         double(alerts.load()));
  single("sessionwatch_pipeline_queue_bytes", T::kGauge,
         "Bytes waiting between reading and detection.", double(queue_bytes.load()));
  single("sessionwatch_checkpoints_written_total", T::kCounter, "State files written.",
         double(checkpoints_written.load()));
  single("sessionwatch_tracker_hosts_evicted_total", T::kCounter,
         "Computers whose session state was let go at the tracker's cap of computers.",
         double(hosts_evicted.load()));
  single("sessionwatch_tracker_sessions_evicted_total", T::kCounter,
         "Sessions let go at the tracker's cap of sessions per computer.",
         double(sessions_evicted.load()));
  single("sessionwatch_reloads_total", T::kCounter, "Reloads applied.", double(reloads.load()));
  single("sessionwatch_reload_failures_total", T::kCounter, "Reloads rejected.",
         double(reload_failures.load()));
  single("sessionwatch_start_time_seconds", T::kGauge, "When the agent started (Unix time).",
         double(started_unix.load()));
}

std::unique_ptr<MetricsServer> MetricsServer::start(asio::io_context& io,
                                                    const std::string& address, std::uint16_t port,
                                                    Handlers handlers, std::string token,
                                                    std::string& error) {
  auto server = std::make_unique<BeastMetricsServer>(io, std::move(handlers), std::move(token));
  if (!server->listen(address, port, error)) return nullptr;
  return server;
}

}  // namespace sw::daemon
