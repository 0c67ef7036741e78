// HTTP(S) POST. Confirmed = the collector answered 2xx to the request carrying the batch.
// 429, 408 and 5xx are retried (honouring Retry-After in seconds); any other 4xx means the
// collector will never take this batch, so it goes to the dead-letter file instead of being
// retried forever.
#include "forward/outputs/http/http_output.hpp"

#include <openssl/evp.h>
#include <zlib.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "forward/net/connection.hpp"
#include "platform/openssl_on_demand.hpp"
#include "sessionwatch/json_escape.hpp"

namespace sw::forward::detail {

namespace http = boost::beast::http;

bool gzip_compress(std::string_view data, std::string& out) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return false;
  }
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

namespace {

class HttpOutput final : public OutputPlugin {
 public:
  HttpOutput(const HttpOptions& config, std::vector<Url> urls,
             std::shared_ptr<asio::ssl::context> tls)
      : config_(config), urls_(std::move(urls)), tls_(std::move(tls)) {}

  FlushResult flush(std::span<const Record> records) override {
    build_body(records);
    std::string_view body = body_;
    if (config_.gzip) {
      if (!gzip_compress(body_, gzipped_)) return retry("gzip failed", {});
      body = gzipped_;
    }
    std::string errors;
    // Fail over in order; start from the first each time so we return when it is back.
    for (std::size_t i = 0; i < urls_.size(); ++i) {
      if (!connection_ || !connection_->is_open() || active_ != i) {
        std::string err = connect(i);
        if (!err.empty()) {
          errors += (errors.empty() ? "" : "; ") + err;
          continue;
        }
      }
      http::response<http::string_body> response;
      std::string err = exchange(urls_[i], body, response);
      if (!err.empty() && reused_) {
        // A kept-alive connection the server had closed meanwhile: one fresh try.
        if (connect(i).empty()) err = exchange(urls_[i], body, response);
      }
      if (!err.empty()) {
        connection_.reset();
        errors += (errors.empty() ? "" : "; ") + err;
        continue;
      }
      if (!response.keep_alive()) connection_.reset();
      return judge(response, records.size());
    }
    connected_ = false;
    return retry(errors, {});
  }

  void exit() override { connection_.reset(); }
  std::string active_url() const override {
    return connected_ ? config_.endpoints.urls[active_] : std::string();
  }
  bool connected() const override { return connected_; }
  std::uint64_t reconnects() const override { return reconnects_; }

 private:
  std::string connect(std::size_t i) {
    connection_ = std::make_unique<Connection>(ioc_, urls_[i].scheme == "https" ? tls_ : nullptr,
                                               config_.tls);
    std::string err = connection_->connect(urls_[i], config_.endpoints.connect_timeout);
    if (!err.empty()) {
      connection_.reset();
      return err;
    }
    if (connected_ && active_ != i) ++reconnects_;
    active_ = i;
    connected_ = true;
    reused_ = false;
    return {};
  }

  std::string exchange(const Url& url, std::string_view body,
                       http::response<http::string_body>& response) {
    http::request<http::string_body> req{http::verb::post,
                                         url.path.empty() ? config_.path : url.path, 11};
    req.set(http::field::host, url.host + ":" + url.port);
    req.set(http::field::user_agent, "sessionwatch/0.1");
    req.set(http::field::content_type,
            config_.body == HttpBody::kJsonArray ? "application/json" : "application/x-ndjson");
    if (config_.gzip) req.set(http::field::content_encoding, "gzip");
    if (!url.authorization.empty()) req.set(http::field::authorization, url.authorization);
    for (const auto& [name, value] : config_.headers) req.set(name, value);
    req.keep_alive(true);
    req.body() = std::string(body);
    req.prepare_payload();
    boost::system::error_code ec;
    connection_->with_stream([&](auto& stream) {
      ec = connection_->run(config_.endpoints.io_timeout,
                            [&](auto handler) { http::async_write(stream, req, handler); });
      if (ec) return;
      boost::beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(1 << 20);
      ec = connection_->run(config_.endpoints.io_timeout, [&](auto handler) {
        http::async_read(stream, buffer, parser, handler);
      });
      if (!ec) response = parser.release();
    });
    bool was_reused = reused_;
    reused_ = true;
    if (ec) {
      reused_ = was_reused;
      return "POST to " + config_.endpoints.urls[active_] + " failed: " + ec.message();
    }
    return {};
  }

  FlushResult judge(const http::response<http::string_body>& response, std::size_t records) {
    const unsigned status = response.result_int();
    FlushResult r;
    if (status >= 200 && status < 300) {
      r.count = records;
      return r;
    }
    std::string what =
        "HTTP " + std::to_string(status) + " from " + config_.endpoints.urls[active_];
    std::string body = response.body().substr(0, 200);
    for (char& c : body) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    if (!body.empty()) what += ": " + body;
    if (status == 429 || status == 408 || status >= 500 || status < 400) {
      std::chrono::milliseconds after{0};
      auto it = response.find(http::field::retry_after);
      if (it != response.end()) {
        std::string v(it->value());
        if (!v.empty() && v.size() < 7 && std::all_of(v.begin(), v.end(), ::isdigit)) {
          after = std::min(std::chrono::milliseconds(std::stoll(v) * 1000),
                           std::chrono::milliseconds(3'600'000));
        }
      }
      return retry(what, after);
    }
    r.status = FlushStatus::kPoison;
    r.count = records;
    r.error = what;
    return r;
  }

  void build_body(std::span<const Record> records) {
    body_.clear();
    switch (config_.body) {
      case HttpBody::kJsonLines:
        for (const Record& rec : records) {
          body_ += rec.payload;
          body_.push_back('\n');
        }
        break;
      case HttpBody::kJsonArray:
        body_.push_back('[');
        for (std::size_t i = 0; i < records.size(); ++i) {
          if (i) body_.push_back(',');
          body_ += records[i].payload;
        }
        body_.push_back(']');
        break;
      case HttpBody::kElasticBulk:
        // "create" with _id = event.id: a resent duplicate is refused by Elasticsearch instead
        // of stored twice.
        for (const Record& rec : records) {
          body_ += "{\"create\":{";
          if (!config_.bulk_index.empty()) {
            body_ += "\"_index\":" + json_string(config_.bulk_index) + ",";
          }
          body_ += "\"_id\":" + json_string(rec.id) + "}}\n";
          body_ += rec.payload;
          body_.push_back('\n');
        }
        break;
    }
  }

  HttpOptions config_;
  std::vector<Url> urls_;
  std::shared_ptr<asio::ssl::context> tls_;
  asio::io_context ioc_;
  std::unique_ptr<Connection> connection_;
  std::size_t active_ = 0;
  bool connected_ = false;
  bool reused_ = false;
  std::uint64_t reconnects_ = 0;
  std::string body_;
  std::string gzipped_;
};

// "Basic <base64 of user:password>" (RFC 7617).
std::string basic_authorization(const std::string& userinfo) {
  std::string encoded(4 * ((userinfo.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(userinfo.data()),
                                static_cast<int>(userinfo.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

}  // namespace

std::unique_ptr<OutputPlugin> make_http_output(const OutputConfig& output, std::string& error) {
  const HttpOptions* options = options_of<HttpOptions>(output, error);
  if (!options) return nullptr;
  const HttpOptions& config = *options;
  std::vector<Url> urls;
  bool any_tls = false;
  for (std::size_t i = 0; i < config.endpoints.urls.size(); ++i) {
    const std::string& u = config.endpoints.urls[i];
    Url url;
    if (!parse_url(u, url, error)) return nullptr;
    if (url.scheme != "http" && url.scheme != "https") {
      error = "'" + u + "': http output needs http:// or https://";
      return nullptr;
    }
    if (i < config.endpoints.logins.size() && !config.endpoints.logins[i].empty()) {
      if (!platform::openssl_ready(error)) return nullptr;  // its base64 encoder
      url.authorization = basic_authorization(config.endpoints.logins[i]);
    }
    any_tls = any_tls || url.scheme == "https";
    urls.push_back(url);
  }
  if (urls.empty()) {
    error = "http output needs a url";
    return nullptr;
  }
  std::shared_ptr<asio::ssl::context> tls;
  if (any_tls) {
    tls = make_tls_context(config.tls, error);
    if (!tls) return nullptr;
  }
  return std::make_unique<HttpOutput>(config, std::move(urls), std::move(tls));
}

}  // namespace sw::forward::detail
