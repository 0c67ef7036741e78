#include "platform/fsync.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>
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

std::FILE* open_private_file(const std::filesystem::path& path, bool append) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  const int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) return nullptr;
  // The umask can only take bits away from 0600; an existing file keeps its old mode unless set.
  std::FILE* file = ::fchmod(fd, 0600) == 0 ? ::fdopen(fd, append ? "ab" : "wb") : nullptr;
  if (!file) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return nullptr;
  }
  std::setvbuf(file, nullptr, _IONBF, 0);
  return file;
}

bool make_private_directories(const std::filesystem::path& dir, std::error_code& ec) {
  ec.clear();
  // The components that do not exist yet, deepest last.
  std::vector<std::filesystem::path> missing;
  for (std::filesystem::path p = dir; !p.empty() && !std::filesystem::exists(p, ec);
       p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      ec.assign(errno, std::generic_category());
      return false;
    }
    ::chmod(it->c_str(), 0700);
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    if (!ec) ec = std::make_error_code(std::errc::not_a_directory);
    return false;
  }
  if (::chmod(dir.c_str(), 0700) != 0) {
    ec.assign(errno, std::generic_category());
    return false;
  }
  return true;
}

bool truncate_file(std::FILE* file, std::uint64_t size) {
  std::clearerr(file);
  const int fd = ::fileno(file);
  return ::ftruncate(fd, static_cast<off_t>(size)) == 0 &&
         ::lseek(fd, static_cast<off_t>(size), SEEK_SET) == static_cast<off_t>(size);
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

std::FILE* open_for_reading(const std::filesystem::path& path) {
  return std::fopen(path.c_str(), "rb");
}

bool seek_file(std::FILE* file, std::uint64_t offset) {
  return ::fseeko(file, static_cast<off_t>(offset), SEEK_SET) == 0;
}

void set_stdin_binary() {}

bool is_terminal(std::FILE* stream) {
  return ::isatty(::fileno(stream)) != 0;
}

void* allocate_zeroed_pages(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void free_zeroed_pages(void* pages, std::size_t bytes) {
  if (pages) ::munmap(pages, bytes);
}

void lower_thread_priority() {
#ifdef __linux__
  // Linux keeps a nice value per thread (tid); elsewhere PRIO_PROCESS would lower every thread.
  const int now = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), std::min(now + 10, 19));
#endif
}

void name_this_thread(const std::string& name) {
#if defined(__linux__)
  constexpr std::size_t kLinuxNameBytes = 15;  // and its terminating 0: longer names are refused
  ::pthread_setname_np(::pthread_self(), name.substr(0, kLinuxNameBytes).c_str());
#elif defined(__APPLE__)
  ::pthread_setname_np(name.c_str());
#endif
}

}  // namespace sw::platform
