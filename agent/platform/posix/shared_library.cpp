#include "platform/shared_library.hpp"

#include <dlfcn.h>

namespace sw::platform {

SharedLibrary::SharedLibrary(const char* soname, const char* package)
    : soname_(soname), package_(package) {
  handle_ = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* why = dlerror();
    error_ = "cannot load " + soname_ + " (install the Debian package " + package_ +
             "): " + (why ? why : "unknown error");
  }
}

void* SharedLibrary::symbol(const char* name) {
  if (!handle_) return nullptr;
  void* address = dlsym(handle_, name);
  if (!address && error_.empty()) {
    error_ = soname_ + " has no " + name + " (the package " + package_ + " is too old)";
  }
  return address;
}

}  // namespace sw::platform
