#include "daemon/metrics.hpp"

#include <cassert>
#include <charconv>
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
  single("sessionwatch_reloads_total", T::kCounter, "Reloads applied.", double(reloads.load()));
  single("sessionwatch_reload_failures_total", T::kCounter, "Reloads rejected.",
         double(reload_failures.load()));
  single("sessionwatch_start_time_seconds", T::kGauge, "When the agent started (Unix time).",
         double(started_unix.load()));
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
