// Whether any of a set of short needles occurs in a text, reading the text once for all of them.
//
// Built for filters that rule most texts out: the 7063 recognizer asks it whether an event holds
// any text one of its forms needs before it scans field by field. Each needle is matched as
// written or, when `any_case`, with ASCII letters in either case. It pays off over texts of a few
// hundred bytes and needles set up once: the rules' substring lists (rules/pattern.hpp,
// AnySubstring), searched in every short field value, stay with a skip table, which costs less
// per call there (the SigmaHQ rules over the EVTX corpus: twice the search instructions with
// NeedleSearch, and setting up hundreds of lists).
//
// How (Teddy's idea, from Hyperscan): each needle is known by four neighbouring bytes of it, its
// window (the rarest four, by how often bytes turn up in event text: "rmis" of "ermission", not
// the "erm" of every "TerminalServices"), and goes to one of eight buckets. For each of the four
// places, two 16-byte tables, indexed by a byte's low and by its high four bits, give the buckets
// whose windows may have that byte there. A place is a candidate for a bucket when all eight
// lookups name it, and only candidates are compared whole. Needles whose windows look alike
// share a bucket, so a bucket's tables admit few windows besides its own. With AVX2 the lookups
// take thirty-two places at once, one shuffle each, with SSSE3 (every x86-64 CPU since 2006 but
// AMD's before 2011) sixteen; elsewhere the same tables are read a byte at a time. Every method
// gives the same answers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sw {

class NeedleSearch {
 public:
  struct Needle {
    std::string text;
    bool any_case = false;  // ASCII letters match in either case
  };

  NeedleSearch() = default;  // no needles: found in no text
  explicit NeedleSearch(std::vector<Needle> needles);

  // How the text is read: sixteen places at a time needs SSSE3, thirty-two AVX2.
  enum class Method { kBytewise, kSsse3, kAvx2 };
  // The fastest method this CPU has.
  static Method best_method();

  // Whether some needle occurs in `text`. An empty needle occurs in every text.
  bool found_in(std::string_view text) const { return found_in(text, best_method()); }
  // The same answer by one method, for tests and benchmarks; one the CPU lacks answers by the
  // fastest it has.
  bool found_in(std::string_view text, Method method) const;

  // The needles searched: a needle that holds another is left out, since the other is found
  // wherever it is.
  std::size_t size() const;

 private:
  static constexpr std::size_t kWindow = 4;  // bytes of each needle the tables know
  static constexpr std::size_t kBuckets = 8;
  using Table = std::array<std::uint8_t, 16>;

  // A needle and where its window starts in it.
  struct Placed {
    Needle needle;
    std::size_t window = 0;
  };

  // Where the needle's rarest window starts (0 for a needle no longer than a window).
  static std::size_t rarest_window(const Needle& n);
  bool found_in_bytewise(std::string_view text) const;
  bool found_in_ssse3(std::string_view text) const;
  bool found_in_avx2(std::string_view text) const;
  // Whether a needle of one of `buckets` (a bit each) has its window at `place`.
  bool found_at(std::string_view text, std::size_t place, unsigned buckets) const;
  // Whether found_at(first + k, buckets[k]) for some k whose bit is set in `places`. Out of the
  // search's loops, which keep their tables in registers.
  [[gnu::noinline]] bool found_among(std::string_view text, std::size_t first,
                                     const std::uint8_t* buckets, std::uint32_t places) const;

  std::array<Table, kWindow> low_{}, high_{};
  std::array<std::vector<Placed>, kBuckets> buckets_;
  bool empty_needle_ = false;
  bool none_ = true;
};

}  // namespace sw
