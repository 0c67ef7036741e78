// CRC-32 of RFC 1952 (reflected polynomial 0xEDB88320), as EVTX file and chunk headers store it:
// zlib's, which has the table and the folding; this only adapts the types.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>

namespace sw::evtx_native {

// Continues `crc` (0 to start) over `size` bytes; EVTX checksums cover at most a 64 KiB chunk.
inline std::uint32_t crc32(std::uint32_t crc, const std::uint8_t* data, std::size_t size) {
  return static_cast<std::uint32_t>(::crc32(crc, data, static_cast<uInt>(size)));
}

}  // namespace sw::evtx_native
