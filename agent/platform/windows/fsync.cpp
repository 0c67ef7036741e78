#include "platform/fsync.hpp"

#include <io.h>
#include <windows.h>

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

std::optional<std::size_t> unacknowledged_socket_bytes(std::intptr_t) {
  return std::nullopt;
}

}  // namespace sw::platform
