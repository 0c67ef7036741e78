// The HTTP output against a small Beast server run by the test: 2xx, 429/5xx, 4xx, bodies.
#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

#include "forward/outputs/http/http_output.hpp"
#include "forward_test_util.hpp"
#include "rsyslog_harness.hpp"
#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/forward.hpp"

namespace sw::forward {
namespace {

detail::HttpOptions& http_options(OutputConfig& c) {
  return detail::edit_options<detail::HttpOptions>(c);
}

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using testing::make_alert;
using testing::TempDir;

struct Reply {
  unsigned status = 200;
  std::string retry_after;
};

struct Seen {
  std::string target;
  std::string body;  // decompressed
  std::string authorization;
  std::string content_type;
  std::string content_encoding;
  std::chrono::steady_clock::time_point at;
};

// Answers requests in order from a script (then 200), recording each one.
class HttpCollector {
 public:
  explicit HttpCollector(std::deque<Reply> script)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        script_(std::move(script)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~HttpCollector() {
    stopping_ = true;
    boost::system::error_code ec;
    // Wake accept() with a connection of our own.
    tcp::socket s(ioc_);
    s.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url(const std::string& path = "/ingest") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  static std::string gunzip(const std::string& in) {
    z_stream zs{};
    inflateInit2(&zs, 15 + 16);
    std::string out(in.size() * 20 + 1024, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    inflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    inflateEnd(&zs);
    return out;
  }

  void serve() {
    while (!stopping_) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      boost::beast::flat_buffer buffer;
      while (true) {
        http::request<http::string_body> req;
        http::read(socket, buffer, req, ec);
        if (ec) break;
        Seen s;
        s.target = std::string(req.target());
        s.authorization = std::string(req[http::field::authorization]);
        s.content_type = std::string(req[http::field::content_type]);
        s.content_encoding = std::string(req[http::field::content_encoding]);
        s.body = s.content_encoding == "gzip" ? gunzip(req.body()) : req.body();
        s.at = std::chrono::steady_clock::now();
        Reply reply;
        {
          std::lock_guard lock(mu_);
          seen_.push_back(std::move(s));
          if (!script_.empty()) {
            reply = script_.front();
            script_.pop_front();
          }
        }
        http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
        if (!reply.retry_after.empty()) res.set(http::field::retry_after, reply.retry_after);
        res.body() = reply.status < 300 ? "{\"ok\":true}" : "{\"error\":\"scripted\"}";
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        http::write(socket, res, ec);
        if (ec || !req.keep_alive()) break;
      }
    }
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::deque<Reply> script_;
  std::mutex mu_;
  std::vector<Seen> seen_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

class HttpIntegration : public ::testing::Test {
 protected:
  OutputConfig config(const std::vector<std::string>& urls) {
    OutputConfig c;
    c.name = "http-it";
    c.type = "http";
    http_options(c).endpoints.urls = urls;
    c.spool.dir = dir_.path() / "spool";
    c.retry.initial = 20ms;
    c.retry.max = 200ms;
    http_options(c).endpoints.connect_timeout = 1s;
    http_options(c).endpoints.io_timeout = 5s;
    http_options(c).headers = {{"Authorization", "Splunk 00000000-1111-2222-3333-444444444444"}};
    return c;
  }
  std::unique_ptr<Output> run(const OutputConfig& c, const std::vector<Alert>& alerts) {
    auto made = make_output(c);
    EXPECT_TRUE(made.output) << made.error;
    EXPECT_TRUE(made.output->enqueue(alerts).ok);
    made.output->start();
    EXPECT_TRUE(made.output->wait_drained(20s)) << made.output->metrics().last_error;
    made.output->stop();
    return std::move(made.output);
  }
  static std::vector<Alert> alerts(int n) {
    std::vector<Alert> v;
    for (int i = 0; i < n; ++i) v.push_back(make_alert(i));
    return v;
  }
  static std::vector<std::string> lines(const std::string& body) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < body.size()) {
      std::size_t nl = body.find('\n', start);
      out.push_back(body.substr(start, nl - start));
      start = nl + 1;
    }
    return out;
  }
  TempDir dir_;
};

TEST_F(HttpIntegration, JsonLinesWithHeadersOn2xx) {
  HttpCollector server({});
  auto sent = alerts(30);
  auto out = run(config({server.url("/services/collector/raw")}), sent);
  auto seen = server.seen();
  std::vector<std::string> got;
  for (const auto& s : seen) {
    EXPECT_EQ(s.target, "/services/collector/raw");
    EXPECT_EQ(s.authorization, "Splunk 00000000-1111-2222-3333-444444444444");
    EXPECT_EQ(s.content_type, "application/x-ndjson");
    for (auto& l : lines(s.body)) got.push_back(l);
  }
  ASSERT_EQ(got.size(), 30U);
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(nlohmann::json::parse(got[i]), alert_to_json(sent[i]));
  EXPECT_EQ(out->metrics().sent, 30U);
}

TEST_F(HttpIntegration, JsonArrayGzipped) {
  HttpCollector server({});
  OutputConfig c = config({server.url()});
  http_options(c).body = detail::HttpBody::kJsonArray;
  http_options(c).gzip = true;
  auto sent = alerts(10);
  run(c, sent);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].content_encoding, "gzip");
  EXPECT_EQ(seen[0].content_type, "application/json");
  auto array = nlohmann::json::parse(seen[0].body);
  ASSERT_EQ(array.size(), 10U);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(array[i], alert_to_json(sent[i]));
}

TEST_F(HttpIntegration, ElasticsearchBulkUsesEventIdAsDocumentId) {
  HttpCollector server({});
  OutputConfig c = config({server.url("/_bulk")});
  http_options(c).body = detail::HttpBody::kElasticBulk;
  http_options(c).bulk_index = "sessionwatch-alerts";
  auto sent = alerts(5);
  run(c, sent);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1U);
  auto l = lines(seen[0].body);
  ASSERT_EQ(l.size(), 10U);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(
        nlohmann::json::parse(l[2 * i]),
        (nlohmann::json{{"create", {{"_index", "sessionwatch-alerts"}, {"_id", sent[i].id}}}}));
    EXPECT_EQ(nlohmann::json::parse(l[2 * i + 1]), alert_to_json(sent[i]));
  }
}

TEST_F(HttpIntegration, ServerErrorsAndTooManyRequestsAreRetriedHonouringRetryAfter) {
  HttpCollector server({{503, ""}, {429, "1"}, {200, ""}});
  auto sent = alerts(8);
  auto out = run(config({server.url()}), sent);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3U);
  for (const auto& s : seen) EXPECT_EQ(lines(s.body).size(), 8U);  // the same batch again
  EXPECT_GE(seen[2].at - seen[1].at, 900ms);                       // Retry-After: 1
  OutputMetrics m = out->metrics();
  EXPECT_EQ(m.sent, 8U);
  EXPECT_EQ(m.retried, 16U);
  EXPECT_EQ(m.dead_lettered, 0U);
}

TEST_F(HttpIntegration, ClientErrorIsPoisonDeadLetteredNotRetried) {
  HttpCollector server({{400, ""}});
  OutputConfig c = config({server.url()});
  c.batch_records = 4;
  auto sent = alerts(8);
  auto out = run(c, sent);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2U);  // the rejected batch once, then the next batch
  OutputMetrics m = out->metrics();
  EXPECT_EQ(m.dead_lettered, 4U);
  EXPECT_EQ(m.sent, 4U);
  EXPECT_EQ(m.spool_records, 0U);
  // Alerts name accounts and computers: the file is the owner's only, whatever the umask.
  EXPECT_EQ(std::filesystem::status(c.spool.dir / "dead-letter.jsonl").permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ifstream dead(c.spool.dir / "dead-letter.jsonl");
  std::string line;
  std::vector<nlohmann::json> dl;
  while (std::getline(dead, line)) dl.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(dl.size(), 4U);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(dl[i]["event_id"], sent[i].id);
    EXPECT_EQ(nlohmann::json::parse(dl[i]["record"].get<std::string>()), alert_to_json(sent[i]));
    EXPECT_NE(dl[i]["error"].get<std::string>().find("HTTP 400"), std::string::npos);
  }
}

// A password written in the URL is sent as basic authentication and shows nowhere: not in the
// retry log line, not in the metrics' last_error and active_url.
TEST_F(HttpIntegration, UrlPasswordIsBasicAuthAndNeverShown) {
  std::deque<Reply> failing(40, Reply{503, ""});
  HttpCollector server(failing);
  const std::string written = "http://admin:s3cret@" + server.url().substr(7);
  std::vector<ConfigError> errors;
  auto parsed =
      parse_output_config(YAML::Load("{type: http, name: basic, url: '" + written +
                                     "', retry: {initial: 10ms, max: 20ms}, http: {path: /}}"),
                          {dir_.path(), {}}, errors);
  ASSERT_TRUE(parsed) << errors[0].message;
  auto log = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*log);
  spdlog::default_logger()->sinks().push_back(sink);
  auto made = make_output(*parsed);
  ASSERT_TRUE(made.output) << made.error;
  ASSERT_TRUE(made.output->enqueue(alerts(2)).ok);
  made.output->start();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (made.output->metrics().retried < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  const OutputMetrics m = made.output->metrics();
  made.output->stop();
  spdlog::default_logger()->sinks().pop_back();
  ASSERT_GE(m.retried, 4U);
  EXPECT_NE(m.last_error.find("HTTP 503 from " + server.url()), std::string::npos) << m.last_error;
  const std::string logged = log->str();
  EXPECT_NE(logged.find("HTTP 503"), std::string::npos) << logged;
  for (const std::string& shown :
       {m.last_error, m.active_url, logged, made.output->config().name}) {
    EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
  }
  const auto seen = server.seen();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen[0].authorization, "Basic YWRtaW46czNjcmV0");  // admin:s3cret
}

TEST_F(HttpIntegration, FailsOverWhenTheFirstCollectorIsDown) {
  HttpCollector server({});
  std::string dead = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/x";
  auto out = run(config({dead, server.url()}), alerts(3));
  EXPECT_EQ(out->metrics().sent, 3U);
  EXPECT_EQ(server.seen().size(), 1U);
}

}  // namespace
}  // namespace sw::forward
