#include "forward/outputs/relp/librelp_api.hpp"

#ifdef SW_HAVE_RELP

#include "platform/shared_library.hpp"

namespace sw::forward::detail {

namespace {

Librelp open_librelp() {
  platform::SharedLibrary library("librelp.so.0", "librelp0");
  Librelp api;
#define SW_LIBRELP_RESOLVE(name) library.resolve(#name, api.name);
  SW_LIBRELP_FUNCTIONS(SW_LIBRELP_RESOLVE)
#undef SW_LIBRELP_RESOLVE
  api.error = library.error();
  return api;
}

}  // namespace

const Librelp& librelp() {
  static const Librelp api = open_librelp();
  return api;
}

}  // namespace sw::forward::detail

#endif  // SW_HAVE_RELP
