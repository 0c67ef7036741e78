#include "sessionwatch/needle_search.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>

#include "sessionwatch/text.hpp"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define SW_NEEDLES_SIMD 1
#endif

namespace sw {
namespace {

using Needle = NeedleSearch::Needle;

char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool matches_at(std::string_view text, std::size_t start, const Needle& n) {
  if (start > text.size() || n.text.size() > text.size() - start) return false;
  const std::string_view there = text.substr(start, n.text.size());
  return n.any_case ? text::iequals(there, n.text) : there == n.text;
}

bool occurs_in(std::string_view text, const Needle& n) {
  for (std::size_t start = 0; start + n.text.size() <= text.size(); ++start)
    if (matches_at(text, start, n)) return true;
  return false;
}

// Whether `outer` is found only where `inner` is too, so searching `inner` alone is enough.
bool holds(const Needle& outer, const Needle& inner) {
  if (inner.text.size() > outer.text.size()) return false;
  if (!inner.any_case && outer.any_case) return false;
  return occurs_in(outer.text, inner);
}

// Needles that hold no other needle, shortest first (and, of two alike, the one in any case).
std::vector<Needle> without_redundant(std::vector<Needle> needles) {
  std::stable_sort(needles.begin(), needles.end(), [](const Needle& a, const Needle& b) {
    if (a.text.size() != b.text.size()) return a.text.size() < b.text.size();
    return a.any_case && !b.any_case;
  });
  std::vector<Needle> kept;
  for (Needle& n : needles) {
    const bool redundant =
        std::any_of(kept.begin(), kept.end(), [&](const Needle& k) { return holds(n, k); });
    if (!redundant) kept.push_back(std::move(n));
  }
  return kept;
}

// How often a byte turns up in the text of Windows events, roughly: letters by their frequency in
// English, digits and separators (SIDs, addresses, paths) often, other punctuation seldom.
int commonness(char c) {
  static constexpr std::string_view kLettersRarestFirst = "zqjxkvbpygfwmucldrhsnioate";
  const auto letter = kLettersRarestFirst.find(text::lower(c));
  if (letter != std::string_view::npos) return static_cast<int>(letter) + 1;
  if (text::is_digit(c)) return 20;
  if (c == ' ' || c == '-' || c == '.' || c == ':' || c == '\\' || c == '/') return 24;
  return 4;
}

// The bytes a window may have at each place, as the tables see them: a set of low and a set of
// high halves (a bit each), so every pairing of the two is let through. A place past the end of
// a short needle takes any byte.
struct Shape {
  static constexpr std::size_t kPlaces = 4;  // NeedleSearch::kWindow (checked where it is built)
  std::array<std::uint16_t, kPlaces> lows{}, highs{};

  void add(const std::string& text, bool any_case, std::size_t window) {
    for (std::size_t at = 0; at < lows.size(); ++at) {
      if (window + at >= text.size()) {
        lows[at] = highs[at] = 0xFFFF;
        continue;
      }
      const char c = text[window + at];
      for (const char v : {c, any_case ? text::lower(c) : c, any_case ? upper(c) : c}) {
        lows[at] |= static_cast<std::uint16_t>(1u << (static_cast<unsigned char>(v) & 0x0F));
        highs[at] |= static_cast<std::uint16_t>(1u << (static_cast<unsigned char>(v) >> 4));
      }
    }
  }
  Shape merged(const Shape& other) const {
    Shape m;
    for (std::size_t at = 0; at < lows.size(); ++at) {
      m.lows[at] = lows[at] | other.lows[at];
      m.highs[at] = highs[at] | other.highs[at];
    }
    return m;
  }
  // How many windows the tables let through for it.
  double windows() const {
    double n = 1;
    for (std::size_t at = 0; at < lows.size(); ++at)
      n *= std::popcount(lows[at]) * std::popcount(highs[at]);
    return n;
  }
};

}  // namespace

std::size_t NeedleSearch::rarest_window(const Needle& n) {
  std::size_t best = 0;
  int best_score = 0;
  for (std::size_t at = 0; at + kWindow <= n.text.size(); ++at) {
    int score = 0;
    for (std::size_t k = 0; k < kWindow; ++k) score += commonness(n.text[at + k]);
    if (at == 0 || score < best_score) {
      best = at;
      best_score = score;
    }
  }
  return best;
}

NeedleSearch::NeedleSearch(std::vector<Needle> needles) {
  static_assert(Shape::kPlaces == kWindow);
  // Needles with one window (in any case, when they are) are one group to start with.
  struct Group {
    std::vector<Placed> placed;
    Shape shape;
  };
  std::vector<Group> groups;
  std::map<std::string, std::size_t> group_of;
  for (Needle& n : without_redundant(std::move(needles))) {
    none_ = false;
    if (n.text.empty()) {
      empty_needle_ = true;
      continue;
    }
    const std::size_t window = rarest_window(n);
    std::string key = n.text.substr(window, kWindow);
    if (n.any_case) key = text::lowered(key) + '\0';
    const auto [at, added] = group_of.emplace(key, groups.size());
    if (added) groups.emplace_back();
    Group& g = groups[at->second];
    g.shape.add(n.text, n.any_case, window);
    g.placed.push_back(Placed{std::move(n), window});
  }
  // Two groups in one bucket let through every pairing of their bytes: while there are more
  // groups than buckets, the two that let through fewest windows besides their own are merged.
  while (groups.size() > kBuckets) {
    std::size_t a = 0, b = 1;
    double least = -1;
    for (std::size_t i = 0; i < groups.size(); ++i) {
      for (std::size_t j = i + 1; j < groups.size(); ++j) {
        const double extra = groups[i].shape.merged(groups[j].shape).windows() -
                             groups[i].shape.windows() - groups[j].shape.windows();
        if (least < 0 || extra < least) {
          least = extra;
          a = i;
          b = j;
        }
      }
    }
    groups[a].shape = groups[a].shape.merged(groups[b].shape);
    for (Placed& p : groups[b].placed) groups[a].placed.push_back(std::move(p));
    groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(b));
  }
  for (std::size_t bucket = 0; bucket < groups.size(); ++bucket) {
    const auto bit = static_cast<std::uint8_t>(1u << bucket);
    const Shape& shape = groups[bucket].shape;
    for (std::size_t at = 0; at < kWindow; ++at) {
      for (std::size_t half = 0; half < 16; ++half) {
        if (shape.lows[at] & (1u << half)) low_[at][half] |= bit;
        if (shape.highs[at] & (1u << half)) high_[at][half] |= bit;
      }
    }
    buckets_[bucket] = std::move(groups[bucket].placed);
  }
}

std::size_t NeedleSearch::size() const {
  std::size_t n = empty_needle_ ? 1 : 0;
  for (const auto& b : buckets_) n += b.size();
  return n;
}

bool NeedleSearch::found_at(std::string_view text, std::size_t place, unsigned buckets) const {
  for (; buckets != 0; buckets &= buckets - 1) {
    for (const Placed& p : buckets_[static_cast<std::size_t>(std::countr_zero(buckets))])
      if (place >= p.window && matches_at(text, place - p.window, p.needle)) return true;
  }
  return false;
}

bool NeedleSearch::found_among(std::string_view text, std::size_t first,
                               const std::uint8_t* buckets, std::uint32_t places) const {
  for (; places != 0; places &= places - 1) {
    const auto k = static_cast<std::size_t>(std::countr_zero(places));
    if (found_at(text, first + k, buckets[k])) return true;
  }
  return false;
}

NeedleSearch::Method NeedleSearch::best_method() {
#ifdef SW_NEEDLES_SIMD
  static const Method best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return Method::kAvx2;
    if (__builtin_cpu_supports("ssse3")) return Method::kSsse3;
    return Method::kBytewise;
  }();
  return best;
#else
  return Method::kBytewise;
#endif
}

bool NeedleSearch::found_in(std::string_view text, Method method) const {
  if (none_) return false;
  if (empty_needle_) return true;
  const Method usable = std::min(method, best_method());
  if (usable == Method::kAvx2) return found_in_avx2(text);
  if (usable == Method::kSsse3) return found_in_ssse3(text);
  return found_in_bytewise(text);
}

// Every place of the text, bytes past its end read as 0 (as the padded copies of the others).
bool NeedleSearch::found_in_bytewise(std::string_view text) const {
  for (std::size_t place = 0; place < text.size(); ++place) {
    unsigned buckets = 0xFF;
    for (std::size_t at = 0; at < kWindow; ++at) {
      const auto byte = place + at < text.size() ? static_cast<unsigned char>(text[place + at]) : 0;
      buckets &= low_[at][byte & 0x0F] & high_[at][byte >> 4];
    }
    if (buckets != 0 && found_at(text, place, buckets)) return true;
  }
  return false;
}

#ifdef SW_NEEDLES_SIMD
namespace {

constexpr std::size_t kPlaces = 16;      // places looked up at once by SSSE3
constexpr std::size_t kWidePlaces = 32;  // ... by AVX2

// Per place of the sixteen from p: the buckets whose windows may be there, a bit each.
template <std::size_t kWindow>
__attribute__((target("ssse3"))) inline __m128i buckets_from(const __m128i (&low)[kWindow],
                                                             const __m128i (&high)[kWindow],
                                                             const char* p) {
  const __m128i nibble = _mm_set1_epi8(0x0F);
  __m128i buckets = _mm_set1_epi8(-1);
  for (std::size_t at = 0; at < kWindow; ++at) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    const __m128i lows = _mm_and_si128(bytes, nibble);
    const __m128i highs = _mm_and_si128(_mm_srli_epi16(bytes, 4), nibble);
    buckets = _mm_and_si128(
        buckets, _mm_and_si128(_mm_shuffle_epi8(low[at], lows), _mm_shuffle_epi8(high[at], highs)));
  }
  return buckets;
}

// The same for thirty-two places, the tables twice (one per 128-bit lane, as the shuffle reads).
template <std::size_t kWindow>
__attribute__((target("avx2"))) inline __m256i buckets_from(const __m256i (&low)[kWindow],
                                                            const __m256i (&high)[kWindow],
                                                            const char* p) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  __m256i buckets = _mm256_set1_epi8(-1);
  for (std::size_t at = 0; at < kWindow; ++at) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + at));
    const __m256i lows = _mm256_and_si256(bytes, nibble);
    const __m256i highs = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble);
    buckets = _mm256_and_si256(buckets, _mm256_and_si256(_mm256_shuffle_epi8(low[at], lows),
                                                         _mm256_shuffle_epi8(high[at], highs)));
  }
  return buckets;
}

// The places with a bucket, a bit each.
__attribute__((target("ssse3"))) inline std::uint32_t candidates_in(__m128i buckets) {
  const int none = _mm_movemask_epi8(_mm_cmpeq_epi8(buckets, _mm_setzero_si128()));
  return static_cast<std::uint32_t>(none) ^ 0xFFFFu;
}
__attribute__((target("avx2"))) inline std::uint32_t candidates_in(__m256i buckets) {
  const int none = _mm256_movemask_epi8(_mm256_cmpeq_epi8(buckets, _mm256_setzero_si256()));
  return ~static_cast<std::uint32_t>(none);
}

// Whether found_from(block, first) holds for a block of kStep places: each block read in place
// where its bytes are all in the text, the last ones from copies padded with zeros (candidates
// are compared with the text itself, which bounds them). Inlined into each method's function, so
// its block search is compiled for that method's instructions.
template <std::size_t kStep, std::size_t kWindow, typename FoundFrom>
[[gnu::always_inline]] inline bool found_in_blocks(std::string_view text, FoundFrom&& found_from) {
  const std::size_t n = text.size();
  std::size_t first = 0;
  for (; first + kStep + kWindow - 1 <= n; first += kStep)
    if (found_from(text.data() + first, first)) return true;
  for (; first < n; first += kStep) {
    char rest[kStep + kWindow - 1] = {};
    std::memcpy(rest, text.data() + first, std::min(n - first, sizeof rest));
    if (found_from(rest, first)) return true;
  }
  return false;
}

}  // namespace

__attribute__((target("ssse3"))) bool NeedleSearch::found_in_ssse3(std::string_view text) const {
  __m128i low[kWindow], high[kWindow];
  for (std::size_t at = 0; at < kWindow; ++at) {
    low[at] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(low_[at].data()));
    high[at] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(high_[at].data()));
  }
  alignas(16) std::uint8_t per_place[kPlaces];
  return found_in_blocks<kPlaces, kWindow>(
      text, [&](const char* from, std::size_t first) __attribute__((target("ssse3"))) {
        const __m128i buckets = buckets_from(low, high, from);
        const std::uint32_t places = candidates_in(buckets);
        if (places == 0) return false;
        _mm_store_si128(reinterpret_cast<__m128i*>(per_place), buckets);
        return found_among(text, first, per_place, places);
      });
}

// As found_in_ssse3, thirty-two places at a time.
__attribute__((target("avx2"))) bool NeedleSearch::found_in_avx2(std::string_view text) const {
  __m256i low[kWindow], high[kWindow];
  for (std::size_t at = 0; at < kWindow; ++at) {
    low[at] = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(low_[at].data())));
    high[at] = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(high_[at].data())));
  }
  alignas(32) std::uint8_t per_place[kWidePlaces];
  return found_in_blocks<kWidePlaces, kWindow>(
      text, [&](const char* from, std::size_t first) __attribute__((target("avx2"))) {
        const __m256i buckets = buckets_from(low, high, from);
        const std::uint32_t places = candidates_in(buckets);
        if (places == 0) return false;
        _mm256_store_si256(reinterpret_cast<__m256i*>(per_place), buckets);
        return found_among(text, first, per_place, places);
      });
}
#else
bool NeedleSearch::found_in_ssse3(std::string_view text) const {
  return found_in_bytewise(text);
}
bool NeedleSearch::found_in_avx2(std::string_view text) const {
  return found_in_bytewise(text);
}
#endif

}  // namespace sw
