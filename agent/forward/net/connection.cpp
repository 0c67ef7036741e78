#include "forward/net/connection.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include "platform/fsync.hpp"
#include "platform/openssl_on_demand.hpp"

namespace sw::forward::detail {

std::shared_ptr<asio::ssl::context> make_tls_context(const TlsOptions& options,
                                                     std::string& error) {
  if (!platform::openssl_ready(error)) return nullptr;
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression,
                   ec);
  if (options.verify) {
    ctx->set_verify_mode(asio::ssl::verify_peer, ec);
    if (!options.ca_file.empty()) {
      ctx->load_verify_file(options.ca_file, ec);
      if (ec) {
        error = "cannot load CA file " + options.ca_file + ": " + ec.message();
        return nullptr;
      }
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) {
        error = "cannot load the system CA store: " + ec.message();
        return nullptr;
      }
    }
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
  }
  if (!options.cert_file.empty()) {
    ctx->use_certificate_chain_file(options.cert_file, ec);
    if (ec) {
      error = "cannot load client certificate " + options.cert_file + ": " + ec.message();
      return nullptr;
    }
    ctx->use_private_key_file(options.key_file, asio::ssl::context::pem, ec);
    if (ec) {
      error = "cannot load client key " + options.key_file + ": " + ec.message();
      return nullptr;
    }
  }
  return ctx;
}

Connection::Connection(asio::io_context& ioc, std::shared_ptr<asio::ssl::context> tls,
                       TlsOptions options)
    : ioc_(ioc), tls_context_(std::move(tls)), options_(std::move(options)) {}

Connection::~Connection() {
  close();
  // Run the aborted handlers now: they refer to this object.
  ioc_.restart();
  while (ioc_.poll() > 0) {
  }
}

tcp::socket& Connection::lowest_layer() {
  return tls_ ? tls_->next_layer() : *tcp_;
}

const tcp::socket* Connection::lowest_layer_ptr() const {
  if (tls_) return &tls_->next_layer();
  if (tcp_) return &*tcp_;
  return nullptr;
}

bool Connection::is_open() const {
  const tcp::socket* s = lowest_layer_ptr();
  return s && s->is_open() && !peer_closed_;
}

void Connection::close() {
  ++generation_;
  if (tcp::socket* s = const_cast<tcp::socket*>(lowest_layer_ptr())) {
    boost::system::error_code ec;
    s->close(ec);
  }
}

std::string Connection::connect(const Url& url, std::chrono::milliseconds timeout) {
  close();
  ioc_.restart();
  ioc_.poll();  // let aborted handlers of the previous connection finish
  tls_.reset();
  tcp_.reset();
  peer_closed_ = false;
  peer_error_.clear();
  plain_written_ = 0;
  const std::string where = url.host + ":" + url.port;

  tcp::resolver resolver(ioc_);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(url.host, url.port, ec);
  if (ec) return "cannot resolve " + where + ": " + ec.message();

  if (tls_context_) {
    tls_.emplace(ioc_, *tls_context_);
  } else {
    tcp_.emplace(ioc_);
  }
  ec = run(timeout, [&](auto handler) { asio::async_connect(lowest_layer(), endpoints, handler); });
  if (ec) {
    close();
    return "cannot connect to " + where + ": " + ec.message();
  }
  lowest_layer().set_option(tcp::no_delay(true), ec);
  lowest_layer().set_option(asio::socket_base::keep_alive(true), ec);
  if (!tls_) return {};

  const std::string name = options_.server_name.empty() ? url.host : options_.server_name;
  SSL* ssl = tls_->native_handle();
  boost::system::error_code addr_ec;
  asio::ip::make_address(name, addr_ec);
  if (addr_ec) SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI is for names only
  if (options_.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (!addr_ec) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
  }
  ec = run(timeout,
           [&](auto handler) { tls_->async_handshake(asio::ssl::stream_base::client, handler); });
  if (ec) {
    std::string message = "TLS handshake with " + where + " failed: " + ec.message();
    long verify = SSL_get_verify_result(ssl);
    if (options_.verify && verify != X509_V_OK) {
      message += " (certificate of '" + name +
                 "' not accepted: " + X509_verify_cert_error_string(verify) + ")";
    }
    close();
    return message;
  }
  return {};
}

std::string Connection::write(std::string_view data, std::chrono::milliseconds timeout) {
  if (!is_open()) return peer_error_.empty() ? "not connected" : peer_error_;
  boost::system::error_code ec;
  with_stream([&](auto& stream) {
    ec = run(timeout, [&](auto handler) {
      asio::async_write(stream, asio::buffer(data.data(), data.size()), handler);
    });
  });
  if (ec) {
    close();
    return "write failed: " + ec.message();
  }
  plain_written_ += data.size();
  return {};
}

void Connection::watch_for_close() {
  if (!is_open()) return;
  const std::uint64_t gen = generation_;
  with_stream([&](auto& stream) {
    stream.async_read_some(
        asio::buffer(scratch_), [this, gen](boost::system::error_code ec, std::size_t) {
          if (gen != generation_) return;
          if (ec) {
            peer_closed_ = true;
            peer_error_ = ec == asio::error::eof ? "collector closed the connection"
                                                 : "connection lost: " + ec.message();
            return;
          }
          watch_for_close();  // data we do not expect (or TLS housekeeping): keep listening
        });
  });
}

bool Connection::alive(std::string& error) {
  ioc_.restart();
  ioc_.poll();
  if (peer_closed_ || !is_open()) {
    error = peer_error_.empty() ? "connection closed" : peer_error_;
    return false;
  }
  return true;
}

std::uint64_t Connection::wire_bytes_written() const {
  if (tls_) {
    return BIO_number_written(SSL_get_wbio(
        const_cast<SSL*>(const_cast<asio::ssl::stream<tcp::socket>&>(*tls_).native_handle())));
  }
  return plain_written_;
}

std::optional<std::size_t> Connection::unacknowledged_bytes() const {
  const tcp::socket* s = lowest_layer_ptr();
  if (!s || !s->is_open()) return std::nullopt;
  return platform::unacknowledged_socket_bytes(
      static_cast<std::intptr_t>(const_cast<tcp::socket*>(s)->native_handle()));
}

}  // namespace sw::forward::detail
