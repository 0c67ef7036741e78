// Small OS shims for durable file I/O and socket state, one implementation per platform.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>

namespace sw::platform {

// Flushes the C stream, then the OS buffers of the file behind it, to stable storage
// (POSIX fsync, Windows FlushFileBuffers). False when either step failed.
bool sync_file(std::FILE* file);

// Makes file creations and renames in `dir` durable (POSIX: fsync of the directory;
// Windows: nothing to do, NTFS journals metadata). False when it failed.
bool sync_directory(const std::filesystem::path& dir);

// Bytes written to a connected TCP socket that the peer has not acknowledged yet, when the OS
// can tell (Linux SIOCOUTQ); nullopt elsewhere.
std::optional<std::size_t> unacknowledged_socket_bytes(std::intptr_t native_socket);

}  // namespace sw::platform
