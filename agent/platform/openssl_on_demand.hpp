// OpenSSL opened on first use instead of linked (POSIX builds).
//
// Debian builds libcrypto and libssl with -z now: linked, their 4,000 symbol bindings are done at
// every start of every command, 1.4 ms of a `sessionwatch scan` that never speaks TLS (a third of
// its start). Boost.Asio's TLS stream and our few direct calls name OpenSSL's functions
// themselves, so a table of pointers like librelp's (shared_library.hpp) cannot stand in:
// openssl_on_demand.cpp defines each function the agent calls, with the prototype of OpenSSL's
// own header (the compiler holds them to it), as a call through a table that libssl.so.3 fills
// on the first call. A function missing from that list is a link error, not a silent fallback.
// Windows builds link OpenSSL as before.
#pragma once
#include <string>

namespace sw::platform {

// Opens libssl.so.3 if it is not open yet. true when it is open and every function the agent
// calls was found; else false and `error` is a sentence for the admin (which package to install).
// What will call OpenSSL (a TLS context, HTTP basic auth, the metrics token) asks this where its
// configuration is validated, so that a missing library stops the agent there with that sentence
// rather than at its first TLS connection.
#ifdef _WIN32
inline bool openssl_ready(std::string&) {
  return true;  // linked
}
#else
bool openssl_ready(std::string& error);
#endif

}  // namespace sw::platform
