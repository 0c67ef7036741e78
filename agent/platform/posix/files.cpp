// POSIX file identity, positional reads and atomic replacement.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "platform/fsync.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::platform {

namespace {

FileInfo to_info(const struct stat& st) {
  FileInfo info;
  info.id.device = static_cast<std::uint64_t>(st.st_dev);
  info.id.inode = static_cast<std::uint64_t>(st.st_ino);
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.regular = S_ISREG(st.st_mode);
  info.links = static_cast<std::uint64_t>(st.st_nlink);
  return info;
}

std::string errno_text(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

class PosixInputFile : public InputFile {
 public:
  explicit PosixInputFile(int fd) : fd_(fd) {}
  ~PosixInputFile() override { ::close(fd_); }
  PosixInputFile(const PosixInputFile&) = delete;
  PosixInputFile& operator=(const PosixInputFile&) = delete;

  std::optional<FileInfo> info() const override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return std::nullopt;
    return to_info(st);
  }

  std::int64_t read_at(std::uint64_t offset, char* buffer, std::size_t size) override {
    for (;;) {
      const ssize_t n = ::pread(fd_, buffer, size, static_cast<off_t>(offset));
      if (n >= 0) return n;
      if (errno != EINTR) return -1;
    }
  }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

class PosixFileLock : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // closing the last descriptor releases the lock
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  int fd_;
};

std::uint64_t read_pid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  return n > 0 ? std::strtoull(text, nullptr, 10) : 0;
}

}  // namespace

std::unique_ptr<FileLock> FileLock::acquire(const std::string& path, std::string& error,
                                            std::uint64_t& holder_pid) {
  holder_pid = 0;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) {
    error = errno_text("cannot open lock file", path);
    return nullptr;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int code = errno;
    if (code == EWOULDBLOCK) {
      holder_pid = read_pid(fd);
      error = path + " is locked by another process";
    } else {
      errno = code;
      error = errno_text("cannot lock", path);
    }
    ::close(fd);
    return nullptr;
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    error = errno_text("cannot write", path);
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<PosixFileLock>(fd);
}

std::optional<FileInfo> stat_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return to_info(st);
}

std::unique_ptr<InputFile> InputFile::open(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    error = errno_text("cannot open", path);
    return nullptr;
  }
  return std::make_unique<PosixInputFile>(fd);
}

bool write_file_atomically(const std::string& path, std::string_view data, std::string& error) {
  return write_file_atomically(
      path, [&](const WriteChunk& write) { return write(data); }, error);
}

bool write_file_atomically(const std::string& path,
                           const std::function<bool(const WriteChunk& write)>& produce,
                           std::string& error) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = errno_text("cannot create", temp);
    return false;
  }
  int write_errno = 0;  // of the write that failed: producing more may change errno
  const bool produced = produce([&](std::string_view piece) {
    if (write_errno == 0 && !write_all(fd, piece)) write_errno = errno ? errno : EIO;
    return write_errno == 0;
  });
  if (write_errno != 0 || !produced || ::fsync(fd) != 0) {
    if (write_errno != 0) errno = write_errno;
    error =
        write_errno != 0 || produced ? errno_text("cannot write", temp) : "gave up writing " + temp;
    ::close(fd);
    ::unlink(temp.c_str());
    return false;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    error = errno_text("cannot rename over", path);
    ::unlink(temp.c_str());
    return false;
  }
  // Built in one expression: GCC 12 reports a false -Wrestrict on `dir = "."` after the fact.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    error = errno_text("cannot open directory", dir);
    return false;
  }
  const bool synced = ::fsync(dir_fd) == 0;
  ::close(dir_fd);
  if (!synced) error = errno_text("cannot flush directory", dir);
  return synced;
}

bool create_private_directories(const std::string& path, std::string& error) {
  std::error_code ec;
  if (make_private_directories(path, ec)) return true;
  error = ec == std::errc::not_a_directory
              ? path + " exists and is not a directory"
              : "cannot create directory " + path + ": " + ec.message();
  return false;
}

std::FILE* open_private_for_append(const std::string& path) {
  std::FILE* file = open_private_file(path, /*append=*/true);
  // open_private_file is unbuffered for the spool; appenders of whole lines want a buffer.
  if (file) std::setvbuf(file, nullptr, _IOFBF, BUFSIZ);
  return file;
}

bool file_replaced(std::FILE* file, const std::string& path) {
  struct stat open_st {};
  struct stat path_st {};
  if (::fstat(::fileno(file), &open_st) != 0) return false;
  if (::stat(path.c_str(), &path_st) != 0) return true;
  return open_st.st_dev != path_st.st_dev || open_st.st_ino != path_st.st_ino;
}

bool readable_by_others(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0;
}

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "localhost";
  return buffer;
}

std::string default_config_path() {
  return "/etc/sessionwatch/sessionwatch.yaml";
}

std::string default_data_dir() {
  return "/var/lib/sessionwatch";
}

bool eventlog_available() {
  return false;
}

}  // namespace sw::platform
