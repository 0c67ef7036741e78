// Flushing a written file to stable storage: the one OS-specific step of the snapshot, kept
// apart (POSIX fsync / Windows _commit) so the rest of the module stays portable.
#include "session/durable_file.hpp"

#ifdef _WIN32
#include <io.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

namespace sw::session_detail {

bool flush_to_disk(std::FILE* file) {
  if (std::fflush(file) != 0) return false;
#ifdef _WIN32
  return ::_commit(::_fileno(file)) == 0;
#else
  return ::fsync(::fileno(file)) == 0;
#endif
}

bool flush_directory(const std::filesystem::path& dir) {
#ifdef _WIN32
  (void)dir;  // NTFS journals renames; there is no directory handle to flush.
  return true;
#else
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
#endif
}

}  // namespace sw::session_detail
