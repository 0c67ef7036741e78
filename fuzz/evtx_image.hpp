// EVTX images for the fuzz targets: chunk checksums made valid, as a writer would have left them,
// or nearly every mutation would only reach "checksum mismatch, chunk skipped" instead of the
// BinXML parser behind it.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "decode/evtx_native/crc32.hpp"

namespace sw::fuzz {

inline constexpr std::size_t kFileHeaderSize = 4096;
inline constexpr std::size_t kChunkSize = 65536;
inline constexpr std::size_t kChunkHeaderSize = 512;

inline std::uint32_t le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

inline void put_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// Rewrites each chunk's header and records checksums as a writer would have.
inline void fix_chunk_checksums(std::string& image) {
  auto* bytes = reinterpret_cast<std::uint8_t*>(image.data());
  for (std::size_t at = kFileHeaderSize; at + kChunkHeaderSize <= image.size(); at += kChunkSize) {
    std::uint8_t* c = bytes + at;
    if (std::memcmp(c, "ElfChnk", 8) != 0) continue;
    const std::size_t got = std::min(kChunkSize, image.size() - at);
    const std::uint32_t free_space = le32(c + 48);
    if (free_space >= kChunkHeaderSize && free_space <= got) {
      put_le32(c + 52, evtx_native::crc32(0, c + kChunkHeaderSize, free_space - kChunkHeaderSize));
    }
    put_le32(c + 124,
             evtx_native::crc32(evtx_native::crc32(0, c, 120), c + 128, kChunkHeaderSize - 128));
  }
}

}  // namespace sw::fuzz
