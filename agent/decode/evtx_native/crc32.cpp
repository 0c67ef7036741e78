#include "decode/evtx_native/crc32.hpp"

#include <zlib.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define SW_CRC32_FOLD 1
#include <immintrin.h>
#endif

namespace sw::evtx_native {

std::uint32_t crc32_zlib(std::uint32_t crc, const std::uint8_t* data, std::size_t size) {
  return static_cast<std::uint32_t>(::crc32(crc, data, static_cast<uInt>(size)));
}

#ifdef SW_CRC32_FOLD
namespace {

// Folding by carry-less multiplication (Gopal et al., "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ Instruction", Intel, 2009), for the bit-reflected polynomial.
// The constants are x^k mod P(x) for the fold distances, bit-reflected, and the Barrett pair.
constexpr std::uint64_t kFold512Lo = 0x0154442bd4, kFold512Hi = 0x01c6e41596;  // 4 x 128 bits
constexpr std::uint64_t kFold128Lo = 0x01751997d0, kFold128Hi = 0x00ccaa009e;  // 128 bits
constexpr std::uint64_t kFold64 = 0x0163cd6124;                                // 128 -> 64
constexpr std::uint64_t kPoly = 0x01db710641, kBarrett = 0x01f7011641;         // P'(x), u'

__attribute__((target("pclmul,sse4.1"))) __m128i fold(__m128i acc, __m128i k, __m128i next) {
  const __m128i lo = _mm_clmulepi64_si128(acc, k, 0x00);
  const __m128i hi = _mm_clmulepi64_si128(acc, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

__m128i load(const std::uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// The CRC register (not inverted) over `size` bytes, `size` a multiple of 16 and at least 64.
__attribute__((target("pclmul,sse4.1"))) std::uint32_t fold_bulk(std::uint32_t crc,
                                                                 const std::uint8_t* p,
                                                                 std::size_t size) {
  __m128i x1 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i x2 = load(p + 16), x3 = load(p + 32), x4 = load(p + 48);
  p += 64;
  size -= 64;
  const __m128i k512 =
      _mm_set_epi64x(static_cast<long long>(kFold512Hi), static_cast<long long>(kFold512Lo));
  for (; size >= 64; p += 64, size -= 64) {
    x1 = fold(x1, k512, load(p));
    x2 = fold(x2, k512, load(p + 16));
    x3 = fold(x3, k512, load(p + 32));
    x4 = fold(x4, k512, load(p + 48));
  }
  const __m128i k128 =
      _mm_set_epi64x(static_cast<long long>(kFold128Hi), static_cast<long long>(kFold128Lo));
  x1 = fold(x1, k128, x2);
  x1 = fold(x1, k128, x3);
  x1 = fold(x1, k128, x4);
  for (; size >= 16; p += 16, size -= 16) x1 = fold(x1, k128, load(p));
  // 128 bits -> 64 bits.
  const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
  __m128i x2b = _mm_clmulepi64_si128(x1, k128, 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2b);
  x2b = _mm_srli_si128(x1, 4);
  x1 = _mm_and_si128(x1, low32);
  x1 = _mm_clmulepi64_si128(x1, _mm_cvtsi64_si128(static_cast<long long>(kFold64)), 0x00);
  x1 = _mm_xor_si128(x1, x2b);
  // Barrett reduction, 64 bits -> 32 bits.
  const __m128i poly =
      _mm_set_epi64x(static_cast<long long>(kBarrett), static_cast<long long>(kPoly));
  __m128i t = _mm_and_si128(x1, low32);
  t = _mm_clmulepi64_si128(t, poly, 0x10);
  t = _mm_and_si128(t, low32);
  t = _mm_clmulepi64_si128(t, poly, 0x00);
  x1 = _mm_xor_si128(x1, t);
  return static_cast<std::uint32_t>(_mm_extract_epi32(x1, 1));
}

bool can_fold() {
  static const bool supported =
      __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return supported;
}

}  // namespace

std::uint32_t crc32(std::uint32_t crc, const std::uint8_t* data, std::size_t size) {
  if (size >= 64 && can_fold()) {
    const std::size_t bulk = size & ~static_cast<std::size_t>(15);
    crc = ~fold_bulk(~crc, data, bulk);
    data += bulk;
    size -= bulk;
  }
  return crc32_zlib(crc, data, size);
}
#else
std::uint32_t crc32(std::uint32_t crc, const std::uint8_t* data, std::size_t size) {
  return crc32_zlib(crc, data, size);
}
#endif

}  // namespace sw::evtx_native
