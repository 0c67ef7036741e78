#include "platform/fsync.hpp"

#include <io.h>
#include <windows.h>

#include <cstdio>

namespace sw::platform {

bool sync_file(std::FILE* file) {
  if (std::fflush(file) != 0) return false;
  auto handle = reinterpret_cast<HANDLE>(_get_osfhandle(_fileno(file)));
  if (handle == INVALID_HANDLE_VALUE) return false;
  return FlushFileBuffers(handle) != 0;
}

bool sync_directory(const std::filesystem::path&) {
  return true;
}

// Windows has no POSIX modes: files and directories inherit the ACL of the data directory, which
// packaging/windows/install.ps1 limits to SYSTEM, Administrators and the service account.
std::FILE* open_private_file(const std::filesystem::path& path, bool append) {
  std::FILE* file = _wfopen(path.c_str(), append ? L"ab" : L"wb");
  if (file) std::setvbuf(file, nullptr, _IONBF, 0);
  return file;
}

bool make_private_directories(const std::filesystem::path& dir, std::error_code& ec) {
  std::filesystem::create_directories(dir, ec);
  return !ec && std::filesystem::is_directory(dir, ec);
}

bool truncate_file(std::FILE* file, std::uint64_t size) {
  std::clearerr(file);
  const int fd = _fileno(file);
  return _chsize_s(fd, static_cast<__int64>(size)) == 0 &&
         _lseeki64(fd, static_cast<__int64>(size), SEEK_SET) == static_cast<__int64>(size);
}

std::optional<std::size_t> unacknowledged_socket_bytes(std::intptr_t) {
  return std::nullopt;
}

}  // namespace sw::platform
