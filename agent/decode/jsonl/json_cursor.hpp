// A JSON reader that walks one line in place, for the JSON-lines decoder's fast path.
//
// simdjson's DOM indexes the line, then builds a tape with every string copied, before a value
// can be read. This reader hands each member to the decoder as it reaches it: a string without
// escapes is a view of the line, a number or literal is its text as written, a member nobody asks
// for is skipped (and still checked). Strings are scanned 16 bytes at a time.
//
// It is strict and quick to give up. Whatever it does not read exactly as simdjson's On-Demand
// reader would, it leaves to that reader by throwing NeedsExact: any grammar error, bytes that are
// not UTF-8 (checked in strings; outside them only ASCII is grammar), a control byte in a string,
// a key with an escape or a non-ASCII letter, a \u escape naming half a surrogate pair, nesting
// deeper than kMaxSkipDepth. The decoder then reads the whole line again with On-Demand, so every
// error text stays the exact reader's.
//
// The line must be followed by kPadding bytes of 0 (see start): string scans read 16 bytes at a
// time and stop at the first 0.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// The cursor's per-value steps, inlined where the decoder reads each member: out of line, their
// calls were a tenth of the decoding.
#if defined(__GNUC__)
#define SW_CURSOR_INLINE [[gnu::always_inline]] inline
#else
#define SW_CURSOR_INLINE inline
#endif

namespace sw::jsonl {

// The cursor met what only the exact (On-Demand) reader reads as written.
struct NeedsExact {};

enum class Kind { kObject, kArray, kString, kNumber, kBoolean, kNull };

class JsonCursor;

// A value: where its first byte is. Read it once (text, or as an object or array).
struct CursorValue {
  JsonCursor* cursor;
  const char* at;
};

class JsonCursor {
 public:
  static constexpr std::size_t kPadding = 64;
  // Skipped values nested deeper than this go to the exact reader.
  static constexpr int kMaxSkipDepth = 64;

  // The line at `begin`, `size` bytes, then kPadding bytes of 0. Returns the top-level value.
  CursorValue start(const char* begin, std::size_t size);
  // Whether only whitespace follows the last value read.
  bool at_end() const { return skip_blanks(pos_) == end_; }

  Kind kind(CursorValue v) const {
    switch (*v.at) {
      case '{':
        return Kind::kObject;
      case '[':
        return Kind::kArray;
      case '"':
        return Kind::kString;
      case 't':
      case 'f':
        return Kind::kBoolean;
      case 'n':
        return Kind::kNull;
      default:
        if (*v.at == '-' || (*v.at >= '0' && *v.at <= '9')) return Kind::kNumber;
        throw NeedsExact{};
    }
  }

  // The value as the exact reader gives it: strings unescaped, numbers and literals as written,
  // null as "", arrays and objects as their JSON text. Valid until the next start.
  SW_CURSOR_INLINE std::string_view text(CursorValue v) {
    if (*v.at != '"') return text_of_other(v);
    const char* p = v.at;
    const std::string_view s = read_string(p);
    pos_ = p;
    return s;
  }

  // f(key, value) for each member of the object at v, in order; what f leaves unread is skipped.
  template <typename F>
  void each_member(CursorValue v, F&& f) {
    if (*v.at != '{') throw NeedsExact{};
    const char* p = skip_blanks(v.at + 1);
    if (*p == '}') {
      pos_ = p + 1;
      return;
    }
    for (;;) {
      const std::string_view key = read_key(p);
      p = skip_blanks(p);
      if (*p != ':') throw NeedsExact{};
      p = skip_blanks(p + 1);
      pos_ = p;
      f(key, CursorValue{this, p});
      p = skip_blanks(pos_ == p ? skip_value(p, 1) : pos_);
      if (*p == '}') break;
      if (*p != ',') throw NeedsExact{};
      p = skip_blanks(p + 1);
    }
    pos_ = p + 1;
  }

  // f(element) for each element of the array at v, in order.
  template <typename F>
  void each_element(CursorValue v, F&& f) {
    if (*v.at != '[') throw NeedsExact{};
    const char* p = skip_blanks(v.at + 1);
    if (*p == ']') {
      pos_ = p + 1;
      return;
    }
    for (;;) {
      pos_ = p;
      f(CursorValue{this, p});
      p = skip_blanks(pos_ == p ? skip_value(p, 1) : pos_);
      if (*p == ']') break;
      if (*p != ',') throw NeedsExact{};
      p = skip_blanks(p + 1);
    }
    pos_ = p + 1;
  }

 private:
  static const char* skip_blanks(const char* p) {
    // One comparison where there is nothing to skip, as between nearly all tokens of a line
    // written by a shipper: the four blanks are all at or below ' '.
    if (static_cast<unsigned char>(*p) > ' ') [[likely]]
      return p;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') ++p;
    return p;
  }

  // The first byte at or after s that a plain ASCII string does not hold: '"', '\\', a control
  // byte (below 0x20, the padding's 0 among them) or a byte of a multi-byte UTF-8 letter.
  SW_CURSOR_INLINE static const char* find_special(const char* s) {
#if defined(__SSE2__)
    for (;; s += 16) {
      const int mask = special_bytes(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
      if (mask != 0) return s + __builtin_ctz(static_cast<unsigned>(mask));
    }
#else
    while (*s != '"' && *s != '\\' && static_cast<unsigned char>(*s) >= 0x20 &&
           static_cast<unsigned char>(*s) < 0x80)
      ++s;
    return s;
#endif
  }
#if defined(__SSE2__)
  // Bit i set where byte i of x is special (see find_special).
  static int special_bytes(__m128i x) {
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i last_control = _mm_set1_epi8(0x1F);
    // x <= 0x1F, unsigned: min(x, 0x1F) == x. Bytes from 0x80 have their top bit set.
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, last_control), x);
    const __m128i marks =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)), control);
    return _mm_movemask_epi8(_mm_or_si128(marks, x));
  }
#endif

  // The string whose opening quote is at p; p moves past its closing quote.
  SW_CURSOR_INLINE std::string_view read_string(const char*& p) {
    const char* begin = p + 1;
    const char* special = find_special(begin);
    if (*special != '"') return read_string_slow(p, begin, special);
    p = special + 1;
    return std::string_view(begin, static_cast<std::size_t>(special - begin));
  }
  // A key: plain ASCII (the decoder holds a key as a view while it reads the members below).
  SW_CURSOR_INLINE static std::string_view read_key(const char*& p) {
    if (*p != '"') throw NeedsExact{};
    const char* begin = p + 1;
    const char* special = find_special(begin);
    if (*special != '"') throw NeedsExact{};
    p = special + 1;
    return std::string_view(begin, static_cast<std::size_t>(special - begin));
  }

  // Copies the bytes from s up to the first special one to out (both move on to it). It may write
  // up to 16 bytes past where out stops: the arena has room for that (see start).
  static const char* copy_to_special(const char* s, char*& out);
  // A string with escapes or non-ASCII letters, from its first such byte (`special`).
  std::string_view read_string_slow(const char*& p, const char* begin, const char* special);
  // Past the UTF-8 letter at s; anything else (a control byte, broken UTF-8) goes to the exact
  // reader.
  const char* skip_letter(const char* s) const;
  std::string_view text_of_other(CursorValue v);
  // Past the value at p, checking it.
  const char* skip_value(const char* p, int depth);
  static const char* skip_number(const char* p);
  static const char* skip_literal(const char* p);

  const char* end_ = nullptr;
  const char* pos_ = nullptr;  // past the last value read
  std::string arena_;          // strings with escapes, unescaped: each stays for the line
  char* arena_next_ = nullptr;
};

}  // namespace sw::jsonl
