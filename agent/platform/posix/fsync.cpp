#include "platform/fsync.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/sockios.h>
#endif

namespace sw::platform {

bool sync_file(std::FILE* file) {
  if (std::fflush(file) != 0) return false;
  return ::fsync(::fileno(file)) == 0;
}

bool sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::optional<std::size_t> unacknowledged_socket_bytes(std::intptr_t native_socket) {
#ifdef __linux__
  int pending = 0;
  if (::ioctl(static_cast<int>(native_socket), SIOCOUTQ, &pending) == 0 && pending >= 0) {
    return static_cast<std::size_t>(pending);
  }
#else
  (void)native_socket;
#endif
  return std::nullopt;
}

}  // namespace sw::platform
