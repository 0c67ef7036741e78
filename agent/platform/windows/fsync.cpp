#include "platform/fsync.hpp"

#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

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
// Shared for delete as well as read and write, so a tool may rename or remove the file while
// the agent holds it open (log rotation), as it may on POSIX.
std::FILE* open_private_file(const std::filesystem::path& path, bool append) {
  HANDLE h = CreateFileW(path.c_str(), GENERIC_WRITE,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         append ? OPEN_ALWAYS : CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    errno = GetLastError() == ERROR_ACCESS_DENIED ? EACCES : ENOENT;
    return nullptr;
  }
  const int fd = _open_osfhandle(reinterpret_cast<intptr_t>(h), append ? _O_APPEND : 0);
  if (fd < 0) {
    CloseHandle(h);
    return nullptr;
  }
  std::FILE* file = _fdopen(fd, append ? "ab" : "wb");
  if (!file) {
    _close(fd);
    return nullptr;
  }
  std::setvbuf(file, nullptr, _IONBF, 0);
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

std::FILE* open_for_reading(const std::filesystem::path& path) {
  return _wfopen(path.c_str(), L"rb");
}

bool seek_file(std::FILE* file, std::uint64_t offset) {
  return _fseeki64(file, static_cast<__int64>(offset), SEEK_SET) == 0;
}

void set_stdin_binary() {
  _setmode(_fileno(stdin), _O_BINARY);
}

bool is_terminal(std::FILE* stream) {
  return _isatty(_fileno(stream)) != 0;
}

void* allocate_zeroed_pages(std::size_t bytes) {
  return std::calloc(bytes, 1);
}

void free_zeroed_pages(void* pages, std::size_t /*bytes*/) {
  std::free(pages);
}

void lower_thread_priority() {
  SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL);
}

void name_this_thread(const std::string& name) {
  // Windows 10 1607 and later (and not in MinGW's headers): looked up, so that older systems
  // run the agent all the same. Through void(*)(), the one function type any other converts to
  // without a warning.
  using SetDescription = HRESULT(WINAPI*)(HANDLE, PCWSTR);
  static const auto set_description = reinterpret_cast<SetDescription>(reinterpret_cast<void (*)()>(
      GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "SetThreadDescription")));
  if (!set_description) return;
  const std::wstring wide(name.begin(), name.end());  // the agent's thread names are ASCII
  set_description(GetCurrentThread(), wide.c_str());
}

}  // namespace sw::platform
