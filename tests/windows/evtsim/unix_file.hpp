// evtsim: the Unix mode of a file seen from a Windows program under wine. The simulator runs as
// root in CI, and root reads every file, so "a channel file with mode 000 is access denied" is
// decided on the mode itself; wine maps no permission bit to Windows, hence the path from wine
// and stat(2)/chmod(2) called directly (x86_64 Linux system calls; tests only).
#pragma once

#include <windows.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace evtsim {

// Registers are 64-bit; Windows' long is not.
inline std::int64_t unix_syscall(std::int64_t number, const char* path, std::int64_t arg) {
  std::int64_t rc = 0;
  __asm__ volatile("syscall"
                   : "=a"(rc)
                   : "0"(number), "D"(path), "S"(arg)
                   : "rcx", "r11", "memory");
  return rc;
}

// Calls `use` with the Unix path of a Windows path; false when wine does not say it.
template <typename Use>
bool with_unix_path(const std::wstring& path, Use use) {
  using UnixName = char*(CDECL*)(LPCWSTR);
  static const auto to_unix = reinterpret_cast<UnixName>(reinterpret_cast<void*>(
      GetProcAddress(GetModuleHandleW(L"kernel32"), "wine_get_unix_file_name")));
  if (to_unix == nullptr) return false;
  char* unix_path = to_unix(path.c_str());
  if (unix_path == nullptr) return false;
  const bool ok = use(unix_path);
  HeapFree(GetProcessHeap(), 0, unix_path);
  return ok;
}

inline std::optional<std::uint32_t> unix_mode(const std::wstring& path) {
  alignas(8) unsigned char st[256] = {};
  std::uint32_t mode = 0;
  const bool ok = with_unix_path(path, [&](const char* p) {
    if (unix_syscall(4 /* stat */, p, reinterpret_cast<std::intptr_t>(st)) != 0) return false;
    std::memcpy(&mode, st + 24, sizeof mode);  // st_mode in x86_64's struct stat
    return true;
  });
  if (!ok) return std::nullopt;
  return mode;
}

inline bool unix_chmod(const std::wstring& path, std::uint32_t mode) {
  return with_unix_path(path,
                        [&](const char* p) { return unix_syscall(90 /* chmod */, p, mode) == 0; });
}

}  // namespace evtsim
