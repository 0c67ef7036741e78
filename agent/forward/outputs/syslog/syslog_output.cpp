// Syslog transports. What "confirmed" means here (syslog has no application acknowledgement):
//   udp      the datagram was handed to the kernel (fire and forget, as the protocol is);
//   tcp/tls  the bytes were written, the peer's TCP acknowledged them (Linux SIOCOUTQ), and the
//            connection was still up confirm_delay after the write. A collector that dies with
//            our bytes unread in its socket resets the connection, which we notice within that
//            window and resend; what it had read before dying is its own to lose.
#include "forward/outputs/syslog/syslog_output.hpp"

#include <charconv>
#include <deque>

#include <boost/asio/ip/udp.hpp>

#include "forward/net/connection.hpp"

namespace sw::forward::detail {

namespace {

using Clock = std::chrono::steady_clock;
using udp = asio::ip::udp;

class SyslogOutput final : public OutputPlugin {
 public:
  SyslogOutput(const SyslogOptions& config, std::vector<Url> urls,
               std::shared_ptr<asio::ssl::context> tls)
      : config_(config), urls_(std::move(urls)), tls_(std::move(tls)) {
    stream_ = urls_.front().scheme != "udp";
  }

  FlushResult flush(std::span<const Record> records) override {
    if (!connected_) {
      if (std::string err = connect_any(0); !err.empty()) return retry(err);
    } else if (active_ > 0 && pending_.empty() &&
               Clock::now() - connected_at_ >= config_.failback_interval) {
      // Back to the preferred collector when it returns (reconnects here if it did not).
      disconnect();
      if (std::string err = connect_any(0); !err.empty()) return retry(err);
    }
    return stream_ ? flush_stream(records) : flush_datagrams(records);
  }

  ConfirmResult confirm(bool) override {
    ConfirmResult r;
    if (pending_.empty()) return r;
    std::string error;
    if (!connection_ || !connection_->alive(error)) {
      const std::string where = config_.endpoints.urls[active_];  // before disconnect() forgets it
      disconnect();
      r.ok = false;
      r.error = error + " (" + where + "); resending unconfirmed alerts";
      return r;
    }
    const std::uint64_t wire = connection_->wire_bytes_written();
    const std::uint64_t acked_by_peer = wire - connection_->unacknowledged_bytes().value_or(0);
    const auto now = Clock::now();
    while (!pending_.empty() && pending_.front().wire_end <= acked_by_peer &&
           now - pending_.front().written_at >= config_.confirm_delay) {
      r.confirmed += pending_.front().records;
      pending_.pop_front();
    }
    return r;
  }

  void exit() override { disconnect(); }
  std::string active_url() const override {
    return connected_ ? config_.endpoints.urls[active_] : std::string();
  }
  bool connected() const override { return connected_; }
  std::uint64_t reconnects() const override { return reconnects_; }

 private:
  struct Pending {
    std::size_t records;
    std::uint64_t wire_end;
    Clock::time_point written_at;
  };

  FlushResult flush_stream(std::span<const Record> records) {
    frames_.clear();
    for (const Record& rec : records) {
      if (config_.framing == TcpFraming::kOctetCounting) {
        char length[24];
        auto end = std::to_chars(length, length + sizeof length, rec.payload.size()).ptr;
        frames_.append(length, static_cast<std::size_t>(end - length));
        frames_.push_back(' ');
        frames_ += rec.payload;
      } else {
        frames_ += rec.payload;
        frames_.push_back('\n');
      }
    }
    if (std::string err = connection_->write(frames_, config_.endpoints.io_timeout); !err.empty()) {
      std::string where = config_.endpoints.urls[active_];
      disconnect();
      return retry(err + " (" + where + ")");
    }
    pending_.push_back({records.size(), connection_->wire_bytes_written(), Clock::now()});
    FlushResult r;
    r.status = FlushStatus::kWritten;
    r.count = records.size();
    return r;
  }

  FlushResult flush_datagrams(std::span<const Record> records) {
    FlushResult r;
    for (const Record& rec : records) {
      boost::system::error_code ec;
      udp_->send(asio::buffer(rec.payload.data(), rec.payload.size()), 0, ec);
      if (ec == asio::error::message_size) {
        if (r.count > 0) break;  // deliver what went, reject this one on the next call
        r.status = FlushStatus::kPoison;
        r.count = 1;
        r.error = "record of " + std::to_string(rec.payload.size()) + " bytes too big for UDP";
        return r;
      }
      if (ec) {
        // ECONNREFUSED from an earlier ICMP port unreachable, or no route: try the next one.
        std::string where = config_.endpoints.urls[active_];
        disconnect();
        if (r.count > 0) break;
        return retry("send to " + where + " failed: " + ec.message());
      }
      ++r.count;
    }
    return r;
  }

  // Connects to the first reachable collector at or after `from`, in configured order.
  std::string connect_any(std::size_t from) {
    std::string errors;
    for (std::size_t i = from; i < urls_.size(); ++i) {
      std::string err = connect_one(urls_[i]);
      if (err.empty()) {
        if (active_ != i || ever_connected_) ++reconnects_;
        ever_connected_ = true;
        active_ = i;
        connected_ = true;
        connected_at_ = Clock::now();
        return {};
      }
      errors += (errors.empty() ? "" : "; ") + err;
    }
    return urls_.size() > 1 ? "no collector reachable: " + errors : errors;
  }

  std::string connect_one(const Url& url) {
    if (!stream_) {
      udp::resolver resolver(ioc_);
      boost::system::error_code ec;
      auto endpoints = resolver.resolve(url.host, url.port, ec);
      if (ec || endpoints.empty()) return "cannot resolve " + url.host + ": " + ec.message();
      udp_.emplace(ioc_);
      udp_->connect(*endpoints.begin(), ec);
      if (ec) return "cannot reach " + url.host + ":" + url.port + ": " + ec.message();
      return {};
    }
    connection_ =
        std::make_unique<Connection>(ioc_, url.scheme == "tls" ? tls_ : nullptr, config_.tls);
    std::string err = connection_->connect(url, config_.endpoints.connect_timeout);
    if (!err.empty()) {
      connection_.reset();
      return err;
    }
    connection_->watch_for_close();
    return {};
  }

  void disconnect() {
    connected_ = false;
    pending_.clear();
    if (connection_) connection_->close();
    connection_.reset();
    if (udp_) {
      boost::system::error_code ec;
      udp_->close(ec);
    }
    udp_.reset();
  }

  SyslogOptions config_;
  std::vector<Url> urls_;
  std::shared_ptr<asio::ssl::context> tls_;
  bool stream_ = true;
  asio::io_context ioc_;
  std::unique_ptr<Connection> connection_;
  std::optional<udp::socket> udp_;
  std::size_t active_ = 0;
  bool connected_ = false;
  bool ever_connected_ = false;
  std::uint64_t reconnects_ = 0;
  Clock::time_point connected_at_;
  std::deque<Pending> pending_;
  std::string frames_;
};

}  // namespace

std::unique_ptr<OutputPlugin> make_syslog_output(const OutputConfig& output, std::string& error) {
  const SyslogOptions* options = options_of<SyslogOptions>(output, error);
  if (!options) return nullptr;
  const SyslogOptions& config = *options;
  std::vector<Url> urls;
  bool any_tls = false;
  for (const auto& u : config.endpoints.urls) {
    Url url;
    if (!parse_url(u, url, error)) return nullptr;
    if (url.scheme != "udp" && url.scheme != "tcp" && url.scheme != "tls") {
      error = "'" + u + "': syslog needs udp://, tcp:// or tls://";
      return nullptr;
    }
    any_tls = any_tls || url.scheme == "tls";
    urls.push_back(url);
  }
  if (urls.empty()) {
    error = "syslog output needs a url";
    return nullptr;
  }
  for (const auto& u : urls) {
    if ((u.scheme == "udp") != (urls.front().scheme == "udp")) {
      error = "cannot mix udp:// with tcp:// or tls:// collectors in one output";
      return nullptr;
    }
  }
  std::shared_ptr<asio::ssl::context> tls;
  if (any_tls) {
    tls = make_tls_context(config.tls, error);
    if (!tls) return nullptr;
  }
  return std::make_unique<SyslogOutput>(config, std::move(urls), std::move(tls));
}

}  // namespace sw::forward::detail
