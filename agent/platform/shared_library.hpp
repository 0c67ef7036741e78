// A shared library opened on first use instead of linked (POSIX). Linked, a library and the ones
// it needs are mapped and relocated at every start of every command; librelp (gnutls and nine
// more) and librdkafka (lz4, zstd, sasl2...) cost most of a `sessionwatch version` for outputs
// and inputs few configurations name. Each user keeps one table of typed function pointers,
// resolved once (see forward/outputs/relp/librelp_api.cpp).
#pragma once
#include <string>

namespace sw::platform {

class SharedLibrary {
 public:
  // `package` is the Debian package that ships `soname`: the error tells the admin what to install.
  SharedLibrary(const char* soname, const char* package);

  // Sets `slot` to the function `name`, or to null (and error() says which) when it is missing.
  template <class Function>
  void resolve(const char* name, Function*& slot) {
    slot = reinterpret_cast<Function*>(symbol(name));
  }

  // Empty when the library is open and every resolved function was found. The handle stays open
  // until exit: the functions are used for as long as the process runs.
  const std::string& error() const { return error_; }

 private:
  void* symbol(const char* name);

  void* handle_ = nullptr;
  std::string soname_;
  std::string package_;
  std::string error_;
};

}  // namespace sw::platform
