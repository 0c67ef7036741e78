// systemd notification (Type=notify). Without libsystemd, or when not started by systemd
// (NOTIFY_SOCKET unset), every call does nothing.
//
// libsystemd is opened on the first call, not linked: linked, it and the five libraries it
// needs (gcrypt, gpg-error, lzma, cap...) were mapped and relocated at every start of every
// command, ~4 ms of a 30 ms `sessionwatch --version`, for two calls only `run` makes. Nor is it
// opened by a `run` systemd did not start (a shell, `run --once`, a container): there it would
// only cost its 1 MB of mapped pages, as sd_notify does nothing without NOTIFY_SOCKET.
#include <cstdlib>
#include <string>

#include "sessionwatch/platform.hpp"

#if defined(SW_HAVE_LIBSYSTEMD)
#include <systemd/sd-daemon.h>

#include "platform/shared_library.hpp"
#endif

namespace sw::platform::service {

namespace {

#if defined(SW_HAVE_LIBSYSTEMD)
// The two functions of libsystemd the agent calls; null when the library cannot be opened.
struct Libsystemd {
  decltype(&sd_notify) notify = nullptr;
  decltype(&sd_watchdog_enabled) watchdog_enabled = nullptr;

  static const Libsystemd& get() {
    static const Libsystemd lib = open();  // thread-safe, once
    return lib;
  }

 private:
  static Libsystemd open() {
    Libsystemd lib;
    // The watchdog is systemd's too: it is only asked for through the same socket.
    const char* socket = std::getenv("NOTIFY_SOCKET");
    if (socket == nullptr || *socket == '\0') return lib;
    SharedLibrary library("libsystemd.so.0", "libsystemd0");
    library.resolve("sd_notify", lib.notify);
    library.resolve("sd_watchdog_enabled", lib.watchdog_enabled);
    return lib;
  }
};
#endif

void send(const std::string& state) {
#if defined(SW_HAVE_LIBSYSTEMD)
  if (auto notify = Libsystemd::get().notify) notify(0, state.c_str());
#else
  (void)state;
#endif
}
}  // namespace

void notify_ready(std::string_view status) {
  send("READY=1\nSTATUS=" + std::string(status));
}
void notify_reloading() {
  send("RELOADING=1");
}
void notify_stopping() {
  send("STOPPING=1");
}
void notify_watchdog() {
  send("WATCHDOG=1");
}
void notify_status(std::string_view status) {
  send("STATUS=" + std::string(status));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
#if defined(SW_HAVE_LIBSYSTEMD)
  std::uint64_t usec = 0;
  auto enabled = Libsystemd::get().watchdog_enabled;
  if (enabled && enabled(0, &usec) > 0 && usec > 0) return std::chrono::microseconds(usec);
#endif
  return std::nullopt;
}

}  // namespace sw::platform::service
