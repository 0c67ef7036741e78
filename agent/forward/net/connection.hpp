// A TCP or TLS connection driven synchronously, with deadlines, over the output's own
// io_context (each output has one and its sender thread runs it). Used by the syslog stream
// transports and by HTTP.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "forward/net/endpoints.hpp"
#include "forward/output_plugin.hpp"

namespace sw::forward::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Client TLS context: TLS >= 1.2, peer verification per options (CA file or system store),
// optional client certificate. nullptr and `error` on bad files.
std::shared_ptr<asio::ssl::context> make_tls_context(const TlsOptions& options, std::string& error);

class Connection {
 public:
  Connection(asio::io_context& ioc, std::shared_ptr<asio::ssl::context> tls, TlsOptions options);
  ~Connection();

  // Resolves, connects and (TLS) handshakes with SNI and host name verification. Returns an
  // error message, empty on success.
  std::string connect(const Url& url, std::chrono::milliseconds timeout);
  std::string write(std::string_view data, std::chrono::milliseconds timeout);
  bool is_open() const;
  void close();

  // Keeps a read pending so that a peer close or reset is noticed (syslog peers never send).
  void watch_for_close();
  // Runs ready handlers; false with `error` once the peer closed or reset the connection.
  bool alive(std::string& error);

  // Bytes handed to the socket since connect (TLS: ciphertext), and how many of them the peer's
  // TCP has not acknowledged yet (when the OS tells).
  std::uint64_t wire_bytes_written() const;
  std::optional<std::size_t> unacknowledged_bytes() const;

  // Runs `start(handler)` (an async operation) until it completes or the deadline passes (then
  // the connection is closed). Gives the operation's error code.
  template <class Start>
  boost::system::error_code run(std::chrono::milliseconds timeout, Start start);

  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*tcp_);
    }
  }

 private:
  tcp::socket& lowest_layer();
  const tcp::socket* lowest_layer_ptr() const;

  asio::io_context& ioc_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  TlsOptions options_;
  std::optional<tcp::socket> tcp_;
  std::optional<asio::ssl::stream<tcp::socket>> tls_;
  std::uint64_t plain_written_ = 0;
  std::uint64_t generation_ = 0;
  bool peer_closed_ = false;
  std::string peer_error_;
  char scratch_[512];
};

template <class Start>
boost::system::error_code Connection::run(std::chrono::milliseconds timeout, Start start) {
  std::optional<boost::system::error_code> result;
  start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
  ioc_.restart();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!result) {
    if (ioc_.run_one_until(deadline) == 0 && !result) {
      close();  // cancels the operation; its handler still has to run
      ioc_.restart();
      while (!result && ioc_.run_one() != 0) {
      }
      return asio::error::timed_out;
    }
  }
  return *result;
}

}  // namespace sw::forward::detail
