// Windows file identity, positional reads and atomic replacement (sessionwatch/platform.hpp).
// Files are opened with FILE_SHARE_DELETE so a log writer can still rotate or delete what the
// agent is reading, as on POSIX.
#include <windows.h>

#include <io.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <string>

#include "platform/fsync.hpp"
#include "platform/windows/win32_text.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::platform {

namespace {

constexpr DWORD kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

// Whether the open file can still be reached through a path: false once it was deleted.
bool still_has_a_name(HANDLE file) {
  wchar_t path[MAX_PATH * 4];
  const DWORD length = GetFinalPathNameByHandleW(file, path, static_cast<DWORD>(std::size(path)),
                                                 FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
  if (length == 0 || length >= std::size(path)) {
    // No name can be built for it (deleted), or one too long to check: assume it lives.
    return length != 0 || GetLastError() != ERROR_FILE_NOT_FOUND;
  }
  if (GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES) return true;
  const DWORD code = GetLastError();
  return code != ERROR_FILE_NOT_FOUND && code != ERROR_PATH_NOT_FOUND;
}

std::optional<FileInfo> info_of(HANDLE file) {
  BY_HANDLE_FILE_INFORMATION data{};
  if (!GetFileInformationByHandle(file, &data)) return std::nullopt;
  FileInfo info;
  info.id.device = data.dwVolumeSerialNumber;
  info.id.inode = (static_cast<std::uint64_t>(data.nFileIndexHigh) << 32) | data.nFileIndexLow;
  info.size = (static_cast<std::uint64_t>(data.nFileSizeHigh) << 32) | data.nFileSizeLow;
  info.regular = (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) == 0;
  info.links = data.nNumberOfLinks;
  FILE_STANDARD_INFO standard{};
  if (GetFileInformationByHandleEx(file, FileStandardInfo, &standard, sizeof standard) &&
      standard.DeletePending) {
    info.links = 0;  // deleted while open, as an unlinked file on POSIX
  } else if (!still_has_a_name(file)) {
    // POSIX-semantics deletes (Windows 10 1903+, wine) take the name away at once without
    // reporting a pending delete.
    info.links = 0;
  }
  return info;
}

class WindowsInputFile : public InputFile {
 public:
  WindowsInputFile(HANDLE file, std::uint64_t device) : file_(file), device_(device) {}
  ~WindowsInputFile() override { CloseHandle(file_); }
  WindowsInputFile(const WindowsInputFile&) = delete;
  WindowsInputFile& operator=(const WindowsInputFile&) = delete;

  std::optional<FileInfo> info() const override {
    auto info = info_of(file_);
    // The volume is fixed while the file is open (moving to another volume makes a new file);
    // taken at open time because some implementations (wine) report 0 through a read handle.
    if (info) info->id.device = device_;
    return info;
  }

  std::int64_t read_at(std::uint64_t offset, char* buffer, std::size_t size) override {
    OVERLAPPED at{};
    at.Offset = static_cast<DWORD>(offset & 0xffffffffu);
    at.OffsetHigh = static_cast<DWORD>(offset >> 32);
    DWORD read = 0;
    const DWORD want = static_cast<DWORD>(std::min<std::size_t>(size, 1u << 30));
    if (!ReadFile(file_, buffer, want, &read, &at)) {
      return GetLastError() == ERROR_HANDLE_EOF ? 0 : -1;
    }
    return read;
  }

 private:
  HANDLE file_;
  std::uint64_t device_;
};

// The lock covers one byte far past the pid text, so other processes can still read the pid.
constexpr DWORD kLockOffsetHigh = 1;

class WindowsFileLock : public FileLock {
 public:
  explicit WindowsFileLock(HANDLE file) : file_(file) {}
  ~WindowsFileLock() override { CloseHandle(file_); }  // closing releases the lock
  WindowsFileLock(const WindowsFileLock&) = delete;
  WindowsFileLock& operator=(const WindowsFileLock&) = delete;

 private:
  HANDLE file_;
};

std::uint64_t read_pid(HANDLE file) {
  char text[32] = {};
  DWORD read = 0;
  OVERLAPPED at{};
  if (!ReadFile(file, text, sizeof text - 1, &read, &at)) return 0;
  return std::strtoull(text, nullptr, 10);
}

}  // namespace

std::unique_ptr<FileLock> FileLock::acquire(const std::string& path, std::string& error,
                                            std::uint64_t& holder_pid) {
  holder_pid = 0;
  HANDLE file = CreateFileW(win32::widen(path).c_str(), GENERIC_READ | GENERIC_WRITE, kShareAll,
                            nullptr, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    error = win32::describe("cannot open lock file " + path, GetLastError());
    return nullptr;
  }
  OVERLAPPED range{};
  range.OffsetHigh = kLockOffsetHigh;
  if (!LockFileEx(file, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &range)) {
    const DWORD code = GetLastError();
    if (code == ERROR_LOCK_VIOLATION || code == ERROR_IO_PENDING) {
      holder_pid = read_pid(file);
      error = path + " is locked by another process";
    } else {
      error = win32::describe("cannot lock " + path, code);
    }
    CloseHandle(file);
    return nullptr;
  }
  const std::string pid = std::to_string(GetCurrentProcessId()) + "\r\n";
  DWORD written = 0;
  OVERLAPPED start{};
  if (!SetEndOfFile(file) ||
      !WriteFile(file, pid.data(), static_cast<DWORD>(pid.size()), &written, &start)) {
    error = win32::describe("cannot write " + path, GetLastError());
    CloseHandle(file);
    return nullptr;
  }
  return std::make_unique<WindowsFileLock>(file);
}

std::optional<FileInfo> stat_path(const std::string& path) {
  // FILE_FLAG_BACKUP_SEMANTICS lets directories be opened too.
  HANDLE file = CreateFileW(win32::widen(path).c_str(), FILE_READ_ATTRIBUTES, kShareAll, nullptr,
                            OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (file == INVALID_HANDLE_VALUE) return std::nullopt;
  auto info = info_of(file);
  CloseHandle(file);
  return info;
}

std::unique_ptr<InputFile> InputFile::open(const std::string& path, std::string& error) {
  HANDLE file = CreateFileW(win32::widen(path).c_str(), GENERIC_READ, kShareAll, nullptr,
                            OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    error = win32::describe("cannot open " + path, GetLastError());
    return nullptr;
  }
  auto by_path = stat_path(path);
  auto by_handle = info_of(file);
  const std::uint64_t device = by_path ? by_path->id.device : by_handle ? by_handle->id.device : 0;
  return std::make_unique<WindowsInputFile>(file, device);
}

bool write_file_atomically(const std::string& path, std::string_view data, std::string& error) {
  return write_file_atomically(
      path, [&](const WriteChunk& write) { return write(data); }, error);
}

bool write_file_atomically(const std::string& path,
                           const std::function<bool(const WriteChunk& write)>& produce,
                           std::string& error) {
  const std::wstring target = win32::widen(path);
  const std::wstring temp = target + L".tmp";
  HANDLE file = CreateFileW(temp.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    error = win32::describe("cannot create " + path + ".tmp", GetLastError());
    return false;
  }
  bool ok = true;
  const bool produced = produce([&](std::string_view data) {
    while (ok && !data.empty()) {
      DWORD written = 0;
      const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(data.size(), 1u << 30));
      ok = WriteFile(file, data.data(), chunk, &written, nullptr) != 0;
      data.remove_prefix(written);
    }
    return ok;
  });
  if (!produced && ok) {
    CloseHandle(file);
    error = "gave up writing " + path + ".tmp";
    DeleteFileW(temp.c_str());
    return false;
  }
  // FlushFileBuffers is Windows' fsync; NTFS journals the rename, so no directory flush.
  ok = ok && FlushFileBuffers(file) != 0;
  const DWORD write_error = ok ? 0 : GetLastError();
  CloseHandle(file);
  if (!ok) {
    error = win32::describe("cannot write " + path + ".tmp", write_error);
    DeleteFileW(temp.c_str());
    return false;
  }
  if (!MoveFileExW(temp.c_str(), target.c_str(),
                   MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    error = win32::describe("cannot rename over " + path, GetLastError());
    DeleteFileW(temp.c_str());
    return false;
  }
  return true;
}

bool create_private_directories(const std::string& path, std::string& error) {
  std::error_code ec;
  if (make_private_directories(win32::widen(path), ec)) return true;
  error = ec == std::errc::not_a_directory
              ? path + " exists and is not a directory"
              : "cannot create directory " + path + ": " + ec.message();
  return false;
}

std::FILE* open_private_for_append(const std::string& path) {
  std::FILE* file = open_private_file(win32::widen(path), /*append=*/true);
  // open_private_file is unbuffered for the spool; appenders of whole lines want a buffer.
  if (file) std::setvbuf(file, nullptr, _IOFBF, BUFSIZ);
  return file;
}

bool file_replaced(std::FILE* file, const std::string& path) {
  BY_HANDLE_FILE_INFORMATION open_info{};
  const auto open_handle = reinterpret_cast<HANDLE>(_get_osfhandle(_fileno(file)));
  if (!GetFileInformationByHandle(open_handle, &open_info)) return false;
  // Opened with every share mode, so looking does not block the writer or a rotation.
  HANDLE h = CreateFileW(win32::widen(path).c_str(), FILE_READ_ATTRIBUTES,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return true;
  BY_HANDLE_FILE_INFORMATION path_info{};
  const bool ok = GetFileInformationByHandle(h, &path_info);
  CloseHandle(h);
  return ok && (open_info.dwVolumeSerialNumber != path_info.dwVolumeSerialNumber ||
                open_info.nFileIndexHigh != path_info.nFileIndexHigh ||
                open_info.nFileIndexLow != path_info.nFileIndexLow);
}

bool readable_by_others(const std::string&) {
  return false;
}

std::string host_name() {
  // The fully qualified name, as the Computer field of this machine's events spells it.
  wchar_t buffer[256] = {};
  DWORD size = static_cast<DWORD>(std::size(buffer));
  if (GetComputerNameExW(ComputerNameDnsFullyQualified, buffer, &size) && size > 0) {
    return win32::narrow(std::wstring_view(buffer, size));
  }
  size = static_cast<DWORD>(std::size(buffer));
  if (GetComputerNameW(buffer, &size) && size > 0) {
    return win32::narrow(std::wstring_view(buffer, size));
  }
  return "localhost";
}

std::string default_config_path() {
  wchar_t buffer[MAX_PATH] = {};
  const DWORD n = GetEnvironmentVariableW(L"ProgramData", buffer, MAX_PATH);
  const std::string root = n > 0 && n < MAX_PATH ? win32::narrow(std::wstring_view(buffer, n))
                                                 : std::string("C:\\ProgramData");
  return root + "\\sessionwatch\\sessionwatch.yaml";
}

std::string default_data_dir() {
  return "C:/ProgramData/sessionwatch/data";
}

bool eventlog_available() {
  return true;
}

}  // namespace sw::platform
