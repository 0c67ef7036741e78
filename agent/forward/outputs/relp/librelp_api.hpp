// The librelp functions the RELP output calls, opened on first use (platform/shared_library.hpp):
// linked, librelp and the ten libraries it needs (gnutls, nettle, gmp, p11-kit...) were mapped at
// every start of every command.
#pragma once
#ifdef SW_HAVE_RELP

#include <cstddef>
#include <string>

// librelp.h has no extern "C" of its own, and uses size_t without including its header.
extern "C" {
#include <librelp.h>
}

namespace sw::forward::detail {

// clang-format off
#define SW_LIBRELP_FUNCTIONS(X) \
  X(relpEngineConstruct) \
  X(relpEngineDestruct) \
  X(relpEngineSetDbgprint) \
  X(relpEngineSetDnsLookupMode) \
  X(relpEngineSetOnErr) \
  X(relpEngineSetOnGenericErr) \
  X(relpEngineSetEnableCmd) \
  X(relpEngineCltConstruct) \
  X(relpEngineCltDestruct) \
  X(relpCltSetUsrPtr) \
  X(relpCltSetTimeout) \
  X(relpCltSetConnTimeout) \
  X(relpCltSetWindowSize) \
  X(relpCltConnect) \
  X(relpCltSendSyslog)
// clang-format on

struct Librelp {
#define SW_LIBRELP_POINTER(name) decltype(&::name) name = nullptr;
  SW_LIBRELP_FUNCTIONS(SW_LIBRELP_POINTER)
#undef SW_LIBRELP_POINTER
  std::string error;  // why the library cannot be used; empty when every function is there
};

// Opened on the first call (thread-safe), kept open until exit.
const Librelp& librelp();

}  // namespace sw::forward::detail

#endif  // SW_HAVE_RELP
