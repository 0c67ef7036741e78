#include "rules/pattern.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace sw::rules {

namespace {

bool is_wildcard(char c) {
  return c == '*' || c == '?';
}

bool is_word(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c >= 0x80;
}

void append_literal(Atoms& atoms, std::string_view text) {
  if (text.empty()) return;
  if (!atoms.empty() && atoms.back().kind == Atom::kLiteral) {
    atoms.back().text.append(text);
  } else {
    atoms.push_back(Atom{Atom::kLiteral, std::string(text)});
  }
}

bool prefix_equal(std::string_view s, std::size_t pos, std::string_view lit, bool cased) {
  if (pos + lit.size() > s.size()) return false;
  if (cased) return std::memcmp(s.data() + pos, lit.data(), lit.size()) == 0;
  for (std::size_t i = 0; i < lit.size(); ++i) {
    if (text::lower(s[pos + i]) != lit[i]) return false;
  }
  return true;
}

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// Length of the windash alternative at s[pos], or 0.
std::size_t dash_at(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return 0;
  if (s[pos] == '-' || s[pos] == '/') return 1;
  // U+2013 en dash, U+2014 em dash, U+2015 horizontal bar: E2 80 93..95
  if (pos + 3 <= s.size() && static_cast<unsigned char>(s[pos]) == 0xE2 &&
      static_cast<unsigned char>(s[pos + 1]) == 0x80) {
    const auto c = static_cast<unsigned char>(s[pos + 2]);
    if (c >= 0x93 && c <= 0x95) return 3;
  }
  return 0;
}

}  // namespace

Atoms parse_wildcards(std::string_view value) {
  Atoms atoms;
  std::string lit;
  auto flush = [&] {
    append_literal(atoms, lit);
    lit.clear();
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\' && i + 1 < value.size() && (is_wildcard(value[i + 1]) || value[i + 1] == '\\')) {
      lit.push_back(value[++i]);
    } else if (c == '*') {
      flush();
      atoms.push_back(Atom{Atom::kStar, {}});
    } else if (c == '?') {
      flush();
      atoms.push_back(Atom{Atom::kAnyChar, {}});
    } else {
      lit.push_back(c);
    }
  }
  flush();
  normalize(atoms);
  return atoms;
}

Atoms literal_atoms(std::string_view value) {
  Atoms atoms;
  append_literal(atoms, value);
  return atoms;
}

std::optional<std::string> only_literal(const Atoms& atoms) {
  std::string out;
  for (const Atom& a : atoms) {
    if (a.kind != Atom::kLiteral) return std::nullopt;
    out += a.text;
  }
  return out;
}

void normalize(Atoms& atoms) {
  Atoms out;
  out.reserve(atoms.size());
  for (Atom& a : atoms) {
    if (a.kind == Atom::kLiteral) {
      append_literal(out, a.text);
    } else if (a.kind == Atom::kStar && !out.empty() && out.back().kind == Atom::kStar) {
      continue;
    } else {
      out.push_back(std::move(a));
    }
  }
  atoms = std::move(out);
}

void apply_windash(Atoms& atoms) {
  Atoms out;
  for (std::size_t ai = 0; ai < atoms.size(); ++ai) {
    const Atom& a = atoms[ai];
    if (a.kind != Atom::kLiteral) {
      out.push_back(a);
      continue;
    }
    const std::string& t = a.text;
    std::string lit;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const char c = t[i];
      const bool dash = c == '-' || c == '/';
      // \B before: previous byte is not a word byte (a wildcard before counts as non-word).
      const bool before_ok = i == 0 ? true : !is_word(static_cast<unsigned char>(t[i - 1]));
      const bool after_ok = i + 1 < t.size() && is_word(static_cast<unsigned char>(t[i + 1]));
      if (dash && before_ok && after_ok) {
        append_literal(out, lit);
        lit.clear();
        out.push_back(Atom{Atom::kDash, {}});
      } else {
        lit.push_back(c);
      }
    }
    append_literal(out, lit);
  }
  atoms = std::move(out);
}

StringPattern::StringPattern(Atoms atoms, bool cased) : cased_(cased), atoms_(std::move(atoms)) {
  normalize(atoms_);
  if (!cased_) {
    for (Atom& a : atoms_) {
      if (a.kind == Atom::kLiteral) a.text = text::lowered(a.text);
    }
  }
  const std::size_t n = atoms_.size();
  auto lit = [&](std::size_t i) { return i < n && atoms_[i].kind == Atom::kLiteral; };
  auto star = [&](std::size_t i) { return i < n && atoms_[i].kind == Atom::kStar; };
  if (n == 0) {
    shape_ = Shape::kExact;
  } else if (n == 1 && lit(0)) {
    shape_ = Shape::kExact;
    literal_ = atoms_[0].text;
  } else if (n == 1 && star(0)) {
    shape_ = Shape::kAny;
  } else if (n == 2 && lit(0) && star(1)) {
    shape_ = Shape::kPrefix;
    literal_ = atoms_[0].text;
  } else if (n == 2 && star(0) && lit(1)) {
    shape_ = Shape::kSuffix;
    literal_ = atoms_[1].text;
  } else if (n == 3 && star(0) && lit(1) && star(2)) {
    shape_ = Shape::kContains;
    literal_ = atoms_[1].text;
  } else {
    shape_ = Shape::kGlob;
  }
}

std::optional<std::string_view> StringPattern::contained_literal() const {
  if (shape_ == Shape::kContains) return std::string_view(literal_);
  return std::nullopt;
}

std::optional<std::string_view> StringPattern::exact_literal() const {
  if (shape_ == Shape::kExact) return std::string_view(literal_);
  return std::nullopt;
}

bool contains(std::string_view hay, std::string_view needle, bool cased) {
  if (needle.empty()) return true;
  if (needle.size() > hay.size()) return false;
  if (cased) return hay.find(needle) != std::string_view::npos;
  // Candidates start where the needle's first byte is, in either case: memchr finds each case's
  // next one at memory speed (keyword rules search every field of every event this way).
  const char lower = needle[0];
  const char upper = (lower >= 'a' && lower <= 'z') ? static_cast<char>(lower - 32) : lower;
  const std::string_view starts = hay.substr(0, hay.size() - needle.size() + 1);
  std::size_t next_lower = starts.find(lower);
  std::size_t next_upper = upper == lower ? std::string_view::npos : starts.find(upper);
  while (next_lower != std::string_view::npos || next_upper != std::string_view::npos) {
    const std::size_t i = std::min(next_lower, next_upper);
    if (prefix_equal(hay, i, needle, false)) return true;
    if (i == next_lower) next_lower = starts.find(lower, i + 1);
    if (i == next_upper) next_upper = starts.find(upper, i + 1);
  }
  return false;
}

template <typename F>
void AnySubstring::for_each_case(char c, F&& f) const {
  const auto b = static_cast<unsigned char>(c);
  f(b);
  if (!cased_ && b >= 'a' && b <= 'z') f(static_cast<unsigned char>(b - ('a' - 'A')));
}

AnySubstring::AnySubstring(const std::vector<std::string_view>& needles, bool cased)
    : cased_(cased) {
  shortest_ = SIZE_MAX;
  for (std::string_view needle : needles) {
    shortest_ = std::min(shortest_, needle.size());
    const auto first = static_cast<unsigned char>(needle[0]);
    std::uint16_t& group = group_of_[first];
    if (group == 0) {
      groups_.emplace_back();
      group = static_cast<std::uint16_t>(groups_.size());
    }
    groups_[group - 1].emplace_back(needle);
    // A folded needle's first letter is lower case; the text may have either.
    if (!cased && first >= 'a' && first <= 'z') group_of_[first - ('a' - 'A')] = group;
  }
  skip_.fill(static_cast<std::uint32_t>(shortest_));
  for (std::string_view needle : needles) {
    for_each_case(needle[shortest_ - 1], [&](unsigned char c) { ends_window_[c] = true; });
    for (std::size_t j = 0; j + 1 < shortest_; ++j) {
      const auto shift = static_cast<std::uint32_t>(shortest_ - 1 - j);
      for_each_case(needle[j], [&](unsigned char c) { skip_[c] = std::min(skip_[c], shift); });
    }
  }
}

bool AnySubstring::found_in(std::string_view hay) const {
  if (hay.size() < shortest_) return false;
  for (std::size_t pos = 0; pos + shortest_ <= hay.size();) {
    const auto last = static_cast<unsigned char>(hay[pos + shortest_ - 1]);
    if (ends_window_[last]) {
      if (const std::uint16_t group = group_of_[static_cast<unsigned char>(hay[pos])]) {
        for (const std::string& needle : groups_[group - 1]) {
          if (prefix_equal(hay, pos, needle, cased_)) return true;
        }
      }
    }
    pos += skip_[last];
  }
  return false;
}

bool StringPattern::matches(std::string_view s) const {
  switch (shape_) {
    case Shape::kExact:
      return s.size() == literal_.size() && prefix_equal(s, 0, literal_, cased_);
    case Shape::kPrefix:
      return prefix_equal(s, 0, literal_, cased_);
    case Shape::kSuffix:
      return s.size() >= literal_.size() &&
             prefix_equal(s, s.size() - literal_.size(), literal_, cased_);
    case Shape::kContains:
      return contains(s, literal_, cased_);
    case Shape::kAny:
      return true;
    case Shape::kGlob:
      return glob(s);
  }
  return false;
}

// Wildcard matching with backtracking to the last star only: every atom between stars matches
// deterministically, so this is correct and O(len(s) * len(pattern)) at worst.
bool StringPattern::glob(std::string_view s) const {
  std::size_t ai = 0, si = 0;
  std::size_t star_ai = SIZE_MAX, star_si = 0;
  const std::size_t n = atoms_.size();
  while (true) {
    if (ai < n) {
      const Atom& a = atoms_[ai];
      if (a.kind == Atom::kStar) {
        star_ai = ai++;
        star_si = si;
        continue;
      }
      std::size_t len = 0;
      bool ok = false;
      if (a.kind == Atom::kLiteral) {
        ok = prefix_equal(s, si, a.text, cased_);
        len = a.text.size();
      } else if (a.kind == Atom::kAnyChar) {
        ok = si < s.size();
        len = ok ? std::min(utf8_length(static_cast<unsigned char>(s[si])), s.size() - si) : 0;
      } else {
        len = dash_at(s, si);
        ok = len > 0;
      }
      if (ok) {
        si += len;
        ++ai;
        continue;
      }
    } else if (si == s.size()) {
      return true;
    }
    if (star_ai == SIZE_MAX || star_si >= s.size()) return false;
    si = ++star_si;
    ai = star_ai + 1;
  }
}

// --- encodings ---

std::string base64_encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (static_cast<unsigned char>(data[i]) << 16) |
                            (static_cast<unsigned char>(data[i + 1]) << 8) |
                            static_cast<unsigned char>(data[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::vector<std::string> base64_offsets(std::string_view data) {
  // Shift the value by 0, 1 and 2 bytes; drop the leading characters that depend on the unknown
  // preceding bytes and the trailing ones that depend on what follows.
  static constexpr std::size_t kStart[3] = {0, 2, 3};
  static constexpr std::size_t kEndCut[3] = {0, 3, 2};
  std::vector<std::string> out;
  for (std::size_t shift = 0; shift < 3; ++shift) {
    std::string shifted(shift, ' ');
    shifted.append(data);
    std::string enc = base64_encode(shifted);
    const std::size_t cut = kEndCut[(data.size() + shift) % 3];
    const std::size_t end = enc.size() >= cut ? enc.size() - cut : 0;
    const std::size_t start = std::min(kStart[shift], end);
    out.push_back(enc.substr(start, end - start));
  }
  return out;
}

bool utf16_encode(std::string_view s, bool big_endian, bool bom, std::string& out) {
  auto put = [&](std::uint16_t u) {
    if (big_endian) {
      out.push_back(static_cast<char>(u >> 8));
      out.push_back(static_cast<char>(u & 0xff));
    } else {
      out.push_back(static_cast<char>(u & 0xff));
      out.push_back(static_cast<char>(u >> 8));
    }
  };
  if (bom) put(0xFEFF);
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp;
    std::size_t len = utf8_length(c);
    if (i + len > s.size()) return false;
    if (len == 1) {
      if (c >= 0x80) return false;
      cp = c;
    } else {
      cp = c & (0xFF >> (len + 1));
      for (std::size_t k = 1; k < len; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (cc & 0x3F);
      }
    }
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(static_cast<std::uint16_t>(0xD800 + (cp >> 10)));
      put(static_cast<std::uint16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      put(static_cast<std::uint16_t>(cp));
    }
  }
  return true;
}

// --- IP addresses ---

std::optional<Cidr> parse_cidr(std::string_view s) {
  Cidr c;
  const std::size_t slash = s.find('/');
  auto ip = parse_ip(s.substr(0, slash));
  if (!ip) return std::nullopt;
  c.network = *ip;
  const int max_bits = ip->v4 ? 32 : 128;
  if (slash == std::string_view::npos) {
    c.prefix = max_bits;
    return c;
  }
  std::string_view bits = s.substr(slash + 1);
  auto r = std::from_chars(bits.data(), bits.data() + bits.size(), c.prefix);
  if (r.ec != std::errc() || r.ptr != bits.data() + bits.size() || c.prefix < 0 ||
      c.prefix > max_bits)
    return std::nullopt;
  return c;
}

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.v4 != network.v4) return false;
  const int offset = network.v4 ? 96 : 0;
  const int bits = prefix + offset;
  for (int b = offset; b < bits; ++b) {
    const int byte = b / 8, shift = 7 - b % 8;
    if (((ip.bytes[byte] >> shift) & 1) != ((network.bytes[byte] >> shift) & 1)) return false;
  }
  return true;
}

}  // namespace sw::rules
