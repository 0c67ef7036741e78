// FNV-1a, 64-bit: a stable hash (same value on every platform and release) for dedup keys,
// record identities and hash tables of short names. Not for anything an attacker must not
// collide: it is not a cryptographic hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace sw {

inline constexpr std::uint64_t kFnv1aOffset = 0xcbf29ce484222325ULL;
inline constexpr std::uint64_t kFnv1aPrime = 0x100000001b3ULL;

// Continues hash `h` over the bytes of `s`; chain calls to hash several parts.
constexpr std::uint64_t fnv1a(std::string_view s, std::uint64_t h = kFnv1aOffset) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnv1aPrime;
  }
  return h;
}

// For unordered maps keyed by std::string and looked up by std::string_view without building a
// string: std::unordered_map<std::string, T, StringViewHash, std::equal_to<>>.
struct StringViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

}  // namespace sw
