// CRC-32 of RFC 1952 (reflected polynomial 0xEDB88320), as EVTX file and chunk headers store it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sw::evtx_native {

// Continues `crc` (0 to start) over `size` bytes; EVTX checksums cover at most a 64 KiB chunk.
// zlib's CRC (a table per byte lane) was 5% of an EVTX corpus scan: on x86-64 processors with
// carry-less multiplication the bulk is folded 64 bytes at a time instead, and zlib finishes the
// tail; elsewhere zlib does it all. The two agree on every input (crc32_test.cpp).
std::uint32_t crc32(std::uint32_t crc, const std::uint8_t* data, std::size_t size);

// zlib alone, the reference the fast path is tested against.
std::uint32_t crc32_zlib(std::uint32_t crc, const std::uint8_t* data, std::size_t size);

}  // namespace sw::evtx_native
