// systemd notification: libsystemd is opened when the daemon first notifies, not at start (every
// command paid for mapping it and its five libraries), and the notification still arrives.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "sessionwatch/platform.hpp"

namespace sw::platform {
namespace {

bool libsystemd_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libsystemd.so") != std::string::npos) return true;
  }
  return false;
}

TEST(ServiceNotify, NotStartedBySystemdLibsystemdIsNeverMapped) {
  if (!std::filesystem::exists("/proc/self/maps")) GTEST_SKIP() << "no /proc/self/maps";
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: nothing opened before
  EXPECT_EXIT(
      {
        unsetenv("NOTIFY_SOCKET");
        service::notify_ready("test running");
        service::notify_status("still running");
        const bool watchdog = service::watchdog_interval().has_value();
        std::exit(watchdog ? 2 : libsystemd_mapped() ? 1 : 0);  // 1: opened for nothing
      },
      testing::ExitedWithCode(0), "");
}

TEST(ServiceNotify, LibsystemdIsMappedOnlyOnceTheDaemonNotifies) {
  if (!std::filesystem::exists("/proc/self/maps")) GTEST_SKIP() << "no /proc/self/maps";
  EXPECT_FALSE(libsystemd_mapped()) << "linked: mapped and relocated at every start";

  // A datagram socket standing in for systemd's NOTIFY_SOCKET.
  const std::string path =
      (std::filesystem::temp_directory_path() / ("sw-notify-" + std::to_string(getpid()))).string();
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  path.copy(addr.sun_path, path.size());
  unlink(path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  setenv("NOTIFY_SOCKET", path.c_str(), 1);

  service::notify_ready("test running");

  timeval wait{5, 0};  // the datagram is sent before notify_ready returns; this only bounds it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  char buf[256] = {};
  const ssize_t got = recv(fd, buf, sizeof buf - 1, 0);
  unsetenv("NOTIFY_SOCKET");
  close(fd);
  unlink(path.c_str());
#if defined(SW_HAVE_LIBSYSTEMD)
  ASSERT_GT(got, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(got)), "READY=1\nSTATUS=test running");
  EXPECT_TRUE(libsystemd_mapped());
#else
  (void)got;
#endif
}

}  // namespace
}  // namespace sw::platform
