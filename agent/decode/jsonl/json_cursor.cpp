#include "decode/jsonl/json_cursor.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include "sessionwatch/text.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw::jsonl {
namespace {

using text::is_digit;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits at p (after "\u"); -1 when they are not four hex digits.
std::int32_t read_hex4(const char* p) {
  std::int32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const int d = hex_value(p[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// The code point of the \u escape at p (at the backslash); p moves past it (and past the low half
// of a surrogate pair). Half a pair alone goes to the exact reader, which decides what it is.
std::uint32_t read_unicode_escape(const char*& p) {
  const std::int32_t high = read_hex4(p + 2);
  if (high < 0) throw NeedsExact{};
  p += 6;
  if (high < 0xD800 || high > 0xDFFF) return static_cast<std::uint32_t>(high);
  if (high > 0xDBFF || p[0] != '\\' || p[1] != 'u') throw NeedsExact{};
  const std::int32_t low = read_hex4(p + 2);
  if (low < 0xDC00 || low > 0xDFFF) throw NeedsExact{};
  p += 6;
  return static_cast<std::uint32_t>(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
}

// What each two-byte escape stands for ('\\' then the index); 0 where none does (the exact
// reader decides what that is). A table: a message's escapes (\n, \t) come by the dozen.
constexpr std::array<char, 256> kSimpleEscapes = [] {
  std::array<char, 256> t{};
  t['"'] = '"';
  t['\\'] = '\\';
  t['/'] = '/';
  t['b'] = '\b';
  t['f'] = '\f';
  t['n'] = '\n';
  t['r'] = '\r';
  t['t'] = '\t';
  return t;
}();

char simple_escape(char c) {
  const char plain = kSimpleEscapes[static_cast<unsigned char>(c)];
  if (plain == 0) throw NeedsExact{};
  return plain;
}

}  // namespace

CursorValue JsonCursor::start(const char* begin, std::size_t size) {
  // Unescaping never lengthens a string: the line's size, plus one 16-byte store, is enough.
  if (arena_.size() < size + 16) arena_.resize(size + 16);
  arena_next_ = arena_.data();
  end_ = begin + size;
  pos_ = begin;
  return CursorValue{this, skip_blanks(begin)};
}

std::string_view JsonCursor::text_of_other(CursorValue v) {
  const char* p = v.at;
  std::string_view t;
  switch (kind(v)) {
    case Kind::kObject:
    case Kind::kArray:
      p = skip_value(p, 1);
      t = std::string_view(v.at, static_cast<std::size_t>(p - v.at));
      break;
    case Kind::kNumber:
      p = skip_number(p);
      t = std::string_view(v.at, static_cast<std::size_t>(p - v.at));
      break;
    case Kind::kBoolean:
      p = skip_literal(p);
      t = std::string_view(v.at, static_cast<std::size_t>(p - v.at));
      break;
    case Kind::kNull:
      p = skip_literal(p);
      break;
    case Kind::kString:
      t = read_string(p);
      break;
  }
  pos_ = p;
  return t;
}

const char* JsonCursor::skip_letter(const char* s) const {
  if (static_cast<unsigned char>(*s) < 0x80) throw NeedsExact{};  // a control byte, or the end
  const std::size_t n =
      valid_utf8_sequence_length(std::string_view(s, static_cast<std::size_t>(end_ - s)), 0);
  if (n == 0) throw NeedsExact{};
  return s + n;
}

const char* JsonCursor::copy_to_special(const char* s, char*& out) {
#if defined(__SSE2__)
  for (;; s += 16, out += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), x);
    const int mask = special_bytes(x);
    if (mask != 0) {
      const int n = __builtin_ctz(static_cast<unsigned>(mask));
      out += n;
      return s + n;
    }
  }
#else
  const char* special = find_special(s);
  std::memcpy(out, s, static_cast<std::size_t>(special - s));
  out += special - s;
  return special;
#endif
}

std::string_view JsonCursor::read_string_slow(const char*& p, const char* begin,
                                              const char* special) {
  // Letters beyond ASCII but no escape yet: still a view of the line.
  const char* s = special;
  while (*s != '\\') {
    if (*s == '"') {
      p = s + 1;
      return std::string_view(begin, static_cast<std::size_t>(s - begin));
    }
    s = find_special(skip_letter(s));
  }
  // An escape: the string is written out unescaped into the arena. It is never longer than the
  // rest of the line, and each string is read once, so the arena (the line's size, plus a 16-byte
  // store) has room; checked all the same, so that reading a string twice cannot write past it.
  char* const first = arena_next_;
  const auto room = static_cast<std::size_t>(arena_.data() + arena_.size() - first);
  if (room < static_cast<std::size_t>(end_ - begin) + 16) throw NeedsExact{};
  std::memcpy(first, begin, static_cast<std::size_t>(s - begin));
  char* out = first + (s - begin);
  for (;;) {
    if (*s == '"') break;
    if (*s == '\\') {
      if (s[1] == 'u') {
        out = write_utf8_code_point(read_unicode_escape(s), out);
      } else {
        *out++ = simple_escape(s[1]);
        s += 2;
      }
      // Escapes come in runs ("\n\n", "\n\t") and often just before the closing quote: those
      // are taken without a block copy that would stop at once.
      if (*s == '\\' || *s == '"') continue;
    } else {
      const char* next = skip_letter(s);
      while (s < next) *out++ = *s++;
    }
    s = copy_to_special(s, out);
  }
  p = s + 1;
  arena_next_ = out;
  return std::string_view(first, static_cast<std::size_t>(out - first));
}

const char* JsonCursor::skip_value(const char* p, int depth) {
  if (depth > kMaxSkipDepth) throw NeedsExact{};
  switch (*p) {
    case '"':
      read_string(p);
      return p;
    case 't':
    case 'f':
    case 'n':
      return skip_literal(p);
    case '{':
    case '[':
      break;
    default:
      return skip_number(p);
  }
  const char close = *p == '{' ? '}' : ']';
  p = skip_blanks(p + 1);
  if (*p == close) return p + 1;
  for (;;) {
    if (close == '}') {
      if (*p != '"') throw NeedsExact{};
      read_string(p);
      p = skip_blanks(p);
      if (*p != ':') throw NeedsExact{};
      p = skip_blanks(p + 1);
    }
    p = skip_blanks(skip_value(p, depth + 1));
    if (*p == close) return p + 1;
    if (*p != ',') throw NeedsExact{};
    p = skip_blanks(p + 1);
  }
}

// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? ; what follows is checked by the caller.
const char* JsonCursor::skip_number(const char* p) {
  if (*p == '-') ++p;
  if (*p == '0') {
    ++p;
  } else {
    if (!is_digit(*p)) throw NeedsExact{};
    while (is_digit(*p)) ++p;
  }
  if (*p == '.') {
    ++p;
    if (!is_digit(*p)) throw NeedsExact{};
    while (is_digit(*p)) ++p;
  }
  if (*p == 'e' || *p == 'E') {
    ++p;
    if (*p == '+' || *p == '-') ++p;
    if (!is_digit(*p)) throw NeedsExact{};
    while (is_digit(*p)) ++p;
  }
  return p;
}

const char* JsonCursor::skip_literal(const char* p) {
  for (std::string_view word : {"true", "false", "null"}) {
    if (std::memcmp(p, word.data(), word.size()) == 0) return p + word.size();
  }
  throw NeedsExact{};
}

}  // namespace sw::jsonl
