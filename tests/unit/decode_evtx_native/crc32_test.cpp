// The folding CRC against zlib's on every length a short buffer can have, at every alignment, on
// a whole chunk, and continued across calls as the reader continues it.
#include "decode/evtx_native/crc32.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace sw::evtx_native {
namespace {

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

TEST(Crc32, IsTheCrcOfRfc1952) {
  const std::string text = "123456789";
  EXPECT_EQ(crc32(0, reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), 0xCBF43926u);
  // Long enough for the folding path.
  const std::vector<std::uint8_t> zeros(4096, 0);
  EXPECT_EQ(crc32(0, zeros.data(), zeros.size()), crc32_zlib(0, zeros.data(), zeros.size()));
}

TEST(Crc32, AgreesWithZlibOnEveryLengthAndAlignment) {
  const std::vector<std::uint8_t> data = random_bytes(700, 7063);
  for (std::size_t offset = 0; offset < 16; ++offset) {
    for (std::size_t n = 0; offset + n <= data.size(); ++n) {
      ASSERT_EQ(crc32(0, data.data() + offset, n), crc32_zlib(0, data.data() + offset, n))
          << "offset " << offset << " length " << n;
    }
  }
}

TEST(Crc32, AgreesWithZlibOnAChunkAndWhenContinued) {
  const std::vector<std::uint8_t> chunk = random_bytes(65536, 1);
  const std::uint32_t whole = crc32_zlib(0, chunk.data(), chunk.size());
  EXPECT_EQ(crc32(0, chunk.data(), chunk.size()), whole);
  // The chunk header's checksum skips bytes 120..127: two calls, the second continuing the first.
  for (std::size_t split : {1u, 63u, 64u, 120u, 500u, 4099u}) {
    const std::uint32_t first = crc32(0, chunk.data(), split);
    EXPECT_EQ(crc32(first, chunk.data() + split, chunk.size() - split), whole) << split;
  }
  const std::uint32_t seeded = 0xDEADBEEF;
  EXPECT_EQ(crc32(seeded, chunk.data() + 3, 1000), crc32_zlib(seeded, chunk.data() + 3, 1000));
}

}  // namespace
}  // namespace sw::evtx_native
