// String matching primitives of the rule engine: Sigma wildcard strings compiled to atoms and
// matched case-insensitively without allocating, plus the value encodings Sigma modifiers apply.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/ip_address.hpp"
#include "sessionwatch/text.hpp"

namespace sw::rules {

// One piece of a Sigma string value.
struct Atom {
  enum Kind : std::uint8_t {
    kLiteral,  // text, compared byte-wise (ASCII case folded unless cased)
    kStar,     // '*': any run of bytes
    kAnyChar,  // '?': one UTF-8 code point
    kDash,     // windash: '-', '/', en dash, em dash or horizontal bar
  };
  Kind kind = kLiteral;
  std::string text;
};
using Atoms = std::vector<Atom>;

// Parses Sigma's wildcard syntax: '*' and '?' are wildcards; a backslash escapes a following
// wildcard or backslash, and is literal before anything else.
Atoms parse_wildcards(std::string_view value);
// A value taken literally (no wildcard interpretation).
Atoms literal_atoms(std::string_view value);
// Literal text of atoms that hold no wildcard; nullopt otherwise.
std::optional<std::string> only_literal(const Atoms& atoms);
// Merges adjacent literals and repeated stars.
void normalize(Atoms& atoms);
// Turns command-line flag dashes/slashes (after a non-word byte, before a word byte) into kDash.
void apply_windash(Atoms& atoms);

// A compiled string matcher over atoms, with fast paths for the common shapes.
class StringPattern {
 public:
  StringPattern() = default;
  StringPattern(Atoms atoms, bool cased);
  bool matches(std::string_view s) const;
  // Text of a single-literal exact pattern (for indexing), or nullopt.
  std::optional<std::string_view> exact_literal() const;
  // Text of a `*text*` pattern (folded unless cased), or nullopt.
  std::optional<std::string_view> contained_literal() const;
  bool cased() const { return cased_; }

 private:
  enum class Shape : std::uint8_t { kExact, kPrefix, kSuffix, kContains, kAny, kGlob };
  bool glob(std::string_view s) const;
  Shape shape_ = Shape::kExact;
  bool cased_ = false;
  std::string literal_;  // folded unless cased_
  Atoms atoms_;          // literals folded unless cased_
};

// Case-(in)sensitive substring search; `needle` already folded when !cased.
bool contains(std::string_view hay, std::string_view needle, bool cased);

// Whether any of several substrings occurs in a text, in one pass over it: each byte is looked
// up among the needles' first bytes, where a search per needle would pass over the text once per
// needle and case (keyword lists search every field of every event this way).
class AnySubstring {
 public:
  // Needles folded unless `cased`, none empty.
  AnySubstring(const std::vector<std::string_view>& needles, bool cased);
  bool found_in(std::string_view hay) const;

 private:
  // Per byte: 1 + the index in groups_ of the needles starting with it; 0 for none.
  std::array<std::uint16_t, 256> group_of_{};
  // Horspool over windows as long as the shortest needle: past a window ending in byte c, no
  // needle can start sooner than skip_[c] on; only a window ending in a byte some needle has
  // there (ends_window_) is compared.
  std::array<std::uint32_t, 256> skip_{};
  std::array<bool, 256> ends_window_{};
  // Calls f with the byte and, for a needle folded to lower case, its upper-case letter.
  template <typename F>
  void for_each_case(char c, F&& f) const;
  std::vector<std::vector<std::string>> groups_;
  std::size_t shortest_ = 0;
  bool cased_ = false;
};

// --- encodings (Sigma value modifiers) ---
std::string base64_encode(std::string_view data);
// The three shifted encodings whose stable middle part appears wherever `data` sits in a
// base64 stream.
std::vector<std::string> base64_offsets(std::string_view data);
// UTF-8 -> UTF-16 bytes; false on invalid UTF-8.
bool utf16_encode(std::string_view utf8, bool big_endian, bool bom, std::string& out);

// --- IP addresses ---
using sw::IpAddress;
using sw::parse_ip;
struct Cidr {
  IpAddress network;
  int prefix = 0;  // in bits of the address family
  bool contains(const IpAddress& ip) const;
};
std::optional<Cidr> parse_cidr(std::string_view s);

}  // namespace sw::rules
