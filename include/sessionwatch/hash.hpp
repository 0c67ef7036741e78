// Hashes that are not cryptographic. FNV-1a, 64-bit: stable (the same value on every platform
// and release) for dedup keys and record identities. quick_hash: for tables in memory only.
// Neither is for anything an attacker must not collide.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "sessionwatch/text.hpp"

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

// A quick hash of short texts for tables in memory, eight bytes at a time (the last eight
// overlapping): several times fewer steps than FNV-1a on names of 20 to 60 bytes. Its values are
// not stable across releases: nothing stored may depend on them. A table using it compares the
// texts themselves, so crafted collisions cost probes, never a wrong answer.
inline std::uint64_t quick_hash(std::string_view s, std::uint64_t seed = 0) {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  std::uint64_t h = (seed ^ s.size()) * kMul;
  if (s.size() < sizeof(std::uint64_t)) return fnv1a(s, h);
  const auto mix = [&h](std::uint64_t w) {
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  };
  for (std::size_t i = 0; i + sizeof(std::uint64_t) < s.size(); i += sizeof(std::uint64_t))
    mix(text::word_at(s, i));
  mix(text::word_at(s, s.size() - sizeof(std::uint64_t)));
  return h;
}

// For unordered maps keyed by std::string and looked up by std::string_view without building a
// string: std::unordered_map<std::string, T, StringViewHash, std::equal_to<>>.
struct StringViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

}  // namespace sw
