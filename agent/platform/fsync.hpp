// Small OS shims for file I/O (durable writes, wide paths, 64-bit offsets, binary stdin, terminals)
// and socket state, one implementation per platform: the rest of the agent names no OS.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

namespace sw::platform {

// Flushes the C stream, then the OS buffers of the file behind it, to stable storage
// (POSIX fsync, Windows FlushFileBuffers). False when either step failed.
bool sync_file(std::FILE* file);

// Makes file creations and renames in `dir` durable (POSIX: fsync of the directory;
// Windows: nothing to do, NTFS journals metadata). False when it failed.
bool sync_directory(const std::filesystem::path& dir);

// Creates (or truncates, or with `append` opens for appending) a file only its owner may read
// and write (POSIX mode 0600, whatever the umask; existing files are set to 0600 too). The
// stream is unbuffered: callers buffer themselves and must see every write's outcome at once.
// nullptr with errno set when it failed.
std::FILE* open_private_file(const std::filesystem::path& path, bool append);

// Creates `dir` and any missing parents, and sets `dir` to owner-only access (POSIX 0700),
// whatever the umask; the parents it creates get 0700 too. False with `ec` when it failed.
bool make_private_directories(const std::filesystem::path& dir, std::error_code& ec);

// Cuts the file behind `file` to `size` bytes and moves its position there (after a failed
// write: the bytes of the failed write go). Clears the stream's error state. False on failure.
bool truncate_file(std::FILE* file, std::uint64_t size);

// Bytes written to a connected TCP socket that the peer has not acknowledged yet, when the OS
// can tell (Linux SIOCOUTQ); nullopt elsewhere.
std::optional<std::size_t> unacknowledged_socket_bytes(std::intptr_t native_socket);

// Opens a file for binary reading whatever characters its path holds (Windows: _wfopen).
// nullptr with errno set when it failed.
std::FILE* open_for_reading(const std::filesystem::path& path);

// Moves the stream to `offset` from the start, beyond 2 GiB too. False on failure.
bool seek_file(std::FILE* file, std::uint64_t offset);

// Makes standard input deliver bytes unchanged (EVTX, UTF-16, CRLF): only Windows' C runtime
// translates text by default.
void set_stdin_binary();

// True when the stream is an interactive terminal (progress lines are drawn only there).
bool is_terminal(std::FILE* stream);

// `bytes` of zeroed memory whose pages are touched only when used (POSIX: an anonymous mapping,
// so a large index costs nothing until written; Windows: calloc). nullptr when none is left.
void* allocate_zeroed_pages(std::size_t bytes);
// Gives back what allocate_zeroed_pages(bytes) returned.
void free_zeroed_pages(void* pages, std::size_t bytes);

// Lowers the calling thread's scheduling priority, for background work (checkpoint writes) that
// must give way to the threads events wait on when they share a core. Linux: nice +10 for this
// thread only; Windows: THREAD_PRIORITY_BELOW_NORMAL. Best effort: nothing changes on failure.
void lower_thread_priority();

// Names the calling thread as tools show it (top -H, ps -L, /proc/PID/task/*/comm, debuggers), so
// that an operator or a profile can tell the agent's threads apart. Linux keeps its first 15
// bytes; Windows: SetThreadDescription where the system has it. Best effort, like the above.
void name_this_thread(const std::string& name);

}  // namespace sw::platform
