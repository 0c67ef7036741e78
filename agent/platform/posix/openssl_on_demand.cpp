#include "platform/openssl_on_demand.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <cstdlib>

#include "platform/shared_library.hpp"

// Every OpenSSL function the agent calls: X(return type, name, (parameters), (arguments)). The
// definitions below must match OpenSSL's declarations, so a wrong line does not compile; a
// function the agent starts to call and this list lacks is an undefined reference at link time.
#define SW_OPENSSL_FUNCTIONS(X)                                                                  \
  X(long, BIO_ctrl, (BIO * b, int cmd, long larg, void* parg), (b, cmd, larg, parg))             \
  X(size_t, BIO_ctrl_pending, (BIO * b), (b))                                                    \
  X(int, BIO_free, (BIO * a), (a))                                                               \
  X(int, BIO_new_bio_pair, (BIO * *bio1, size_t writebuf1, BIO * *bio2, size_t writebuf2),       \
    (bio1, writebuf1, bio2, writebuf2))                                                          \
  X(uint64_t, BIO_number_written, (BIO * bio), (bio))                                            \
  X(int, BIO_read, (BIO * b, void* data, int dlen), (b, data, dlen))                             \
  X(int, BIO_write, (BIO * b, const void* data, int dlen), (b, data, dlen))                      \
  X(int, CRYPTO_memcmp, (const void* in_a, const void* in_b, size_t len), (in_a, in_b, len))     \
  X(void, ERR_clear_error, (void), ())                                                           \
  X(unsigned long, ERR_get_error, (void), ())                                                    \
  X(const char*, ERR_reason_error_string, (unsigned long e), (e))                                \
  X(int, EVP_EncodeBlock, (unsigned char* t, const unsigned char* f, int n), (t, f, n))          \
  X(const char*, OpenSSL_version, (int type), (type))                                            \
  X(long, SSL_CTX_ctrl, (SSL_CTX * ctx, int cmd, long larg, void* parg), (ctx, cmd, larg, parg)) \
  X(void, SSL_CTX_free, (SSL_CTX * ctx), (ctx))                                                  \
  X(void*, SSL_CTX_get_default_passwd_cb_userdata, (SSL_CTX * ctx), (ctx))                       \
  X(void*, SSL_CTX_get_ex_data, (const SSL_CTX* ssl, int idx), (ssl, idx))                       \
  X(SSL_verify_cb, SSL_CTX_get_verify_callback, (const SSL_CTX* ctx), (ctx))                     \
  X(int, SSL_CTX_load_verify_locations, (SSL_CTX * ctx, const char* file, const char* path),     \
    (ctx, file, path))                                                                           \
  X(SSL_CTX*, SSL_CTX_new, (const SSL_METHOD* meth), (meth))                                     \
  X(void, SSL_CTX_set_default_passwd_cb_userdata, (SSL_CTX * ctx, void* u), (ctx, u))            \
  X(int, SSL_CTX_set_default_verify_paths, (SSL_CTX * ctx), (ctx))                               \
  X(int, SSL_CTX_set_ex_data, (SSL_CTX * ssl, int idx, void* data), (ssl, idx, data))            \
  X(uint64_t, SSL_CTX_set_options, (SSL_CTX * ctx, uint64_t op), (ctx, op))                      \
  X(void, SSL_CTX_set_verify, (SSL_CTX * ctx, int mode, SSL_verify_cb callback),                 \
    (ctx, mode, callback))                                                                       \
  X(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX * ctx, const char* file, int type),               \
    (ctx, file, type))                                                                           \
  X(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX * ctx, const char* file), (ctx, file))     \
  X(int, SSL_accept, (SSL * ssl), (ssl))                                                         \
  X(int, SSL_connect, (SSL * ssl), (ssl))                                                        \
  X(long, SSL_ctrl, (SSL * ssl, int cmd, long larg, void* parg), (ssl, cmd, larg, parg))         \
  X(void, SSL_free, (SSL * ssl), (ssl))                                                          \
  X(X509_VERIFY_PARAM*, SSL_get0_param, (SSL * ssl), (ssl))                                      \
  X(int, SSL_get_error, (const SSL* s, int ret_code), (s, ret_code))                             \
  X(void*, SSL_get_ex_data, (const SSL* ssl, int idx), (ssl, idx))                               \
  X(int, SSL_get_shutdown, (const SSL* ssl), (ssl))                                              \
  X(long, SSL_get_verify_result, (const SSL* ssl), (ssl))                                        \
  X(BIO*, SSL_get_wbio, (const SSL* s), (s))                                                     \
  X(SSL*, SSL_new, (SSL_CTX * ctx), (ctx))                                                       \
  X(int, SSL_read, (SSL * ssl, void* buf, int num), (ssl, buf, num))                             \
  X(void, SSL_set_bio, (SSL * s, BIO * rbio, BIO * wbio), (s, rbio, wbio))                       \
  X(int, SSL_set_ex_data, (SSL * ssl, int idx, void* data), (ssl, idx, data))                    \
  X(int, SSL_write, (SSL * ssl, const void* buf, int num), (ssl, buf, num))                      \
  X(const SSL_METHOD*, TLS_client_method, (void), ())                                            \
  X(const SSL_METHOD*, TLS_method, (void), ())                                                   \
  X(const SSL_METHOD*, TLS_server_method, (void), ())                                            \
  X(int, X509_VERIFY_PARAM_set1_host, (X509_VERIFY_PARAM * param, const char* name, size_t len), \
    (param, name, len))                                                                          \
  X(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM * param, const char* ipasc),          \
    (param, ipasc))                                                                              \
  X(void, X509_VERIFY_PARAM_set_hostflags, (X509_VERIFY_PARAM * param, unsigned int flags),      \
    (param, flags))                                                                              \
  X(const char*, X509_verify_cert_error_string, (long n), (n))

namespace sw::platform {
namespace {

struct OpenSsl {
#define SW_OPENSSL_SLOT(ret, name, params, args) decltype(&::name) name = nullptr;
  SW_OPENSSL_FUNCTIONS(SW_OPENSSL_SLOT)
#undef SW_OPENSSL_SLOT
  std::string error;
};

OpenSsl open_openssl() {
  // libssl's own dependency, libcrypto, is searched by dlsym through libssl's handle.
  SharedLibrary library("libssl.so.3", "libssl3");
  OpenSsl api;
#define SW_OPENSSL_RESOLVE(ret, name, params, args) library.resolve(#name, api.name);
  SW_OPENSSL_FUNCTIONS(SW_OPENSSL_RESOLVE)
#undef SW_OPENSSL_RESOLVE
  api.error = library.error();
  return api;
}

const OpenSsl& openssl() {
  static const OpenSsl api = open_openssl();
  return api;
}

// The table for a call into OpenSSL. Whatever will speak TLS asked openssl_ready() when it
// validated its configuration; a call that comes without that check, on a host whose libssl3 was
// removed, cannot go on: it says why and ends the process (EX_SOFTWARE), as the loader would have
// refused to start it with the library linked.
const OpenSsl& openssl_or_exit() {
  const OpenSsl& api = openssl();
  if (!api.error.empty()) {
    std::fprintf(stderr, "sessionwatch: %s\n", api.error.c_str());
    std::fflush(stderr);
    std::_Exit(70);
  }
  return api;
}

}  // namespace

bool openssl_ready(std::string& error) {
  if (openssl().error.empty()) return true;
  error = openssl().error;
  return false;
}

}  // namespace sw::platform

#define SW_OPENSSL_FORWARD(ret, name, params, args)   \
  extern "C" ret name params {                        \
    return sw::platform::openssl_or_exit().name args; \
  }
SW_OPENSSL_FUNCTIONS(SW_OPENSSL_FORWARD)
#undef SW_OPENSSL_FORWARD
