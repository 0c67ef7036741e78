// Durable writes for the tracker snapshot (see durable_file.cpp).
#pragma once

#include <cstdio>
#include <filesystem>

namespace sw::session_detail {

// Flushes the stream and the OS buffers of its file to stable storage.
bool flush_to_disk(std::FILE* file);
// Makes a rename in `dir` durable (POSIX); nothing to do on Windows.
bool flush_directory(const std::filesystem::path& dir);

}  // namespace sw::session_detail
