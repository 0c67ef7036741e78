#include "daemon/metrics.hpp"

#include <chrono>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sw::daemon {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

void counter(std::string& out, const char* name, const char* help, const char* type) {
  out += "# HELP ";
  out += name;
  out += " ";
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += " ";
  out += type;
  out += "\n";
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, MetricsServer::Render& render, MetricsServer::Healthy& healthy)
      : stream_(std::move(socket)), render_(render), healthy_(healthy) {}

  void start() {
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->respond();
                     });
  }

 private:
  void respond() {
    response_.version(request_.version());
    response_.keep_alive(false);
    response_.set(http::field::server, "sessionwatch");
    const auto target = request_.target();
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      response_.result(http::status::method_not_allowed);
      response_.body() = "GET only\n";
    } else if (target == "/metrics") {
      response_.result(http::status::ok);
      response_.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      response_.body() = render_();
    } else if (target == "/healthz") {
      const bool ok = healthy_();
      response_.result(ok ? http::status::ok : http::status::service_unavailable);
      response_.set(http::field::content_type, "text/plain");
      response_.body() = ok ? "ok\n" : "stalled\n";
    } else {
      response_.result(http::status::not_found);
      response_.body() = "try /metrics or /healthz\n";
    }
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
  MetricsServer::Render& render_;
  MetricsServer::Healthy& healthy_;
};

class BeastMetricsServer : public MetricsServer {
 public:
  BeastMetricsServer(asio::io_context& io, Render render, Healthy healthy)
      : acceptor_(io), render_(std::move(render)), healthy_(std::move(healthy)) {}

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
      if (!ec) std::make_shared<Session>(std::move(socket), render_, healthy_)->start();
      accept();
    });
  }

  tcp::acceptor acceptor_;
  Render render_;
  Healthy healthy_;
  bool stopped_ = false;
};

}  // namespace

std::string label_value(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string EngineMetrics::render(const std::function<void(std::string&)>& extra) const {
  std::string out;
  out.reserve(4096);
  struct Family {
    const char* name;
    const char* help;
    const char* type;
    std::function<std::string(const InputMetrics&)> value;
  };
  const Family families[] = {
      {"sessionwatch_input_events_read_total", "Records read from the input.", "counter",
       [](const InputMetrics& m) { return std::to_string(m.events_read.load()); }},
      {"sessionwatch_input_events_decoded_total", "Records decoded into events.", "counter",
       [](const InputMetrics& m) { return std::to_string(m.events_decoded.load()); }},
      {"sessionwatch_input_events_bad_total", "Records that could not be decoded.", "counter",
       [](const InputMetrics& m) { return std::to_string(m.events_bad.load()); }},
      {"sessionwatch_input_bytes_read_total", "Bytes read from the input.", "counter",
       [](const InputMetrics& m) { return std::to_string(m.bytes_read.load()); }},
      {"sessionwatch_input_collection_gaps_total", "Collection gaps raised for the input.",
       "counter", [](const InputMetrics& m) { return std::to_string(m.gaps.load()); }},
      {"sessionwatch_input_files_refused_total",
       "Files the input matched but does not read (binary, compressed, EVTX in a file input).",
       "counter", [](const InputMetrics& m) { return std::to_string(m.files_refused.load()); }},
      {"sessionwatch_input_lag_seconds", "Time between the last event's creation and its reading.",
       "gauge", [](const InputMetrics& m) { return std::to_string(m.lag_seconds.load()); }},
  };
  for (const Family& f : families) {
    counter(out, f.name, f.help, f.type);
    for (const auto& input : inputs) {
      out += f.name;
      out += "{input=\"" + label_value(input->name) + "\",type=\"" + input->type + "\"} ";
      out += f.value(*input);
      out += "\n";
    }
  }
  counter(out, "sessionwatch_rule_matches_total", "Matches per rule.", "counter");
  {
    std::lock_guard lock(mutex_);
    for (const auto& [rule, count] : rule_matches_) {
      out += "sessionwatch_rule_matches_total{rule=\"" + label_value(rule) + "\"} " +
             std::to_string(count) + "\n";
    }
  }
  counter(out, "sessionwatch_alerts_total", "Alerts raised (collection gaps included).", "counter");
  out += "sessionwatch_alerts_total " + std::to_string(alerts.load()) + "\n";
  counter(out, "sessionwatch_pipeline_queue_bytes", "Bytes waiting between reading and detection.",
          "gauge");
  out += "sessionwatch_pipeline_queue_bytes " + std::to_string(queue_bytes.load()) + "\n";
  counter(out, "sessionwatch_checkpoints_written_total", "State files written.", "counter");
  out +=
      "sessionwatch_checkpoints_written_total " + std::to_string(checkpoints_written.load()) + "\n";
  counter(out, "sessionwatch_reloads_total", "Reloads applied.", "counter");
  out += "sessionwatch_reloads_total " + std::to_string(reloads.load()) + "\n";
  counter(out, "sessionwatch_reload_failures_total", "Reloads rejected.", "counter");
  out += "sessionwatch_reload_failures_total " + std::to_string(reload_failures.load()) + "\n";
  counter(out, "sessionwatch_start_time_seconds", "When the agent started (Unix time).", "gauge");
  out += "sessionwatch_start_time_seconds " + std::to_string(started_unix.load()) + "\n";
  counter(out, "sessionwatch_output_sent_total", "Alerts delivered per output.", "counter");
  if (extra) extra(out);
  return out;
}

std::unique_ptr<MetricsServer> MetricsServer::start(asio::io_context& io,
                                                    const std::string& address, std::uint16_t port,
                                                    Render render, Healthy healthy,
                                                    std::string& error) {
  auto server = std::make_unique<BeastMetricsServer>(io, std::move(render), std::move(healthy));
  if (!server->listen(address, port, error)) return nullptr;
  return server;
}

}  // namespace sw::daemon
