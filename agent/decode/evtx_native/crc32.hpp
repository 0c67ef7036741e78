// CRC-32 as in RFC 1952 (gzip, zlib's crc32): reflected polynomial 0xEDB88320.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sw::evtx_native {

// Continues `crc` (0 to start) over `size` bytes.
std::uint32_t crc32(std::uint32_t crc, const std::uint8_t* data, std::size_t size);

}  // namespace sw::evtx_native
