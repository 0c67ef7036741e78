// The Windows Event Log source and the Windows service on other systems: every entry point fails
// with a message that says why, so a config or command meant for Windows is refused, not ignored.
#include "sessionwatch/eventlog.hpp"
#include "sessionwatch/winservice.hpp"

namespace sw {
namespace eventlog {

std::unique_ptr<Source> Source::create(std::vector<ChannelConfig>, const SourceOptions&, Handler&,
                                       std::string& error) {
  error =
      "the eventlog source reads the Windows Event Log and exists only on Windows; on this "
      "system read exported EVTX, XML or JSON files instead";
  return nullptr;
}

}  // namespace eventlog

namespace winsvc {
namespace {
Result only_on_windows() {
  return {false,
          "Windows services exist only on Windows; on Linux use the systemd unit "
          "(packaging/systemd) instead"};
}
}  // namespace

bool setup_service_logging(std::string_view, std::string& error) {
  error = only_on_windows().message;
  return false;
}

Result install(const Command&, const RecoveryPolicy&) {
  return only_on_windows();
}
Result configure(const Command&, const RecoveryPolicy&) {
  return only_on_windows();
}
Result uninstall(const Command&) {
  return only_on_windows();
}
Result start(const Command&) {
  return only_on_windows();
}
Result stop(const Command&, std::chrono::seconds) {
  return only_on_windows();
}
Result status(const Command&) {
  return only_on_windows();
}

bool run_as_service(std::string_view, Daemon, std::string& error) {
  error = only_on_windows().message;
  return false;
}

}  // namespace winsvc
}  // namespace sw
