// systemd notification (Type=notify). Without libsystemd, or when not started by systemd
// (NOTIFY_SOCKET unset), every call does nothing.
#include <string>

#include "sessionwatch/platform.hpp"

#if defined(SW_HAVE_LIBSYSTEMD)
#include <systemd/sd-daemon.h>
#endif

namespace sw::platform::service {

namespace {
void send(const std::string& state) {
#if defined(SW_HAVE_LIBSYSTEMD)
  sd_notify(0, state.c_str());
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
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return std::chrono::microseconds(usec);
#endif
  return std::nullopt;
}

}  // namespace sw::platform::service
