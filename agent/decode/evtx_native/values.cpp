#include "decode/evtx_native/values.hpp"
#include "sessionwatch/civil_time.hpp"
#include "sessionwatch/utf8.hpp"

#include <charconv>
#include <cstring>
#include <limits>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace sw::evtx_native {
namespace {

// Seconds between 1601-01-01 and 1970-01-01, in 100 ns units.
constexpr std::int64_t kFiletimeUnixEpoch = 116444736000000000;

constexpr char kHexUpper[] = "0123456789ABCDEF";

// Windows-1252 0x80..0x9F (0 where the code page leaves a hole); the rest is Latin-1.
constexpr std::uint16_t kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void append_ansi(const std::uint8_t* data, std::size_t size, std::string& out) {
  for (std::size_t i = 0; i < size && data[i] != 0; ++i) {
    const std::uint8_t b = data[i];
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
    } else if (b < 0xA0) {
      const std::uint16_t cp = kCp1252High[b - 0x80];
      append_utf8_code_point(cp != 0 ? cp : 0xFFFD, out);
    } else {
      append_utf8_code_point(b, out);
    }
  }
}

template <typename T>
void append_number(T v, std::string& out) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_hex_number(std::uint64_t v, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
  out.append("0x");
  out.append(buf, r.ptr);
}

void append_hex_bytes(const std::uint8_t* data, std::size_t size, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + size * 2);
  char* p = out.data() + start;
  for (std::size_t i = 0; i < size; ++i) {
    *p++ = kHexUpper[data[i] >> 4];
    *p++ = kHexUpper[data[i] & 0x0F];
  }
}

void append_systemtime(const std::uint8_t* p, std::string& out) {
  const unsigned year = le16(p), month = le16(p + 2), day = le16(p + 6), hour = le16(p + 8),
                 minute = le16(p + 10), second = le16(p + 12), millis = le16(p + 14);
  // 30827 is the last year a SYSTEMTIME may hold (FILETIME's range); later ones overflow Ticks.
  if (year > 30827 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 59 || millis > 999) {
    append_hex_bytes(p, 16, out);
    return;
  }
  const std::int64_t secs =
      seconds_from_civil(static_cast<int>(year), month, day, static_cast<int>(hour),
                         static_cast<int>(minute), static_cast<int>(second));
  out.append(format_time(secs * kTicksPerSecond + static_cast<std::int64_t>(millis) * 10000));
}

// Size in bytes of one item of a fixed-size type; 0 for variable-size types.
std::size_t fixed_size(std::uint8_t type) {
  using namespace value_type;
  switch (type) {
    case kInt8:
    case kUInt8:
      return 1;
    case kInt16:
    case kUInt16:
      return 2;
    case kInt32:
    case kUInt32:
    case kReal32:
    case kBool:
    case kHexInt32:
      return 4;
    case kInt64:
    case kUInt64:
    case kReal64:
    case kFileTime:
    case kHexInt64:
      return 8;
    case kGuid:
    case kSystemTime:
      return 16;
    default:
      return 0;
  }
}

void append_fixed(std::uint8_t type, const std::uint8_t* p, std::string& out) {
  using namespace value_type;
  switch (type) {
    case kInt8:
      append_number(static_cast<std::int8_t>(p[0]), out);
      break;
    case kUInt8:
      append_number(static_cast<unsigned>(p[0]), out);
      break;
    case kInt16:
      append_number(static_cast<std::int16_t>(le16(p)), out);
      break;
    case kUInt16:
      append_number(le16(p), out);
      break;
    case kInt32:
      append_number(static_cast<std::int32_t>(le32(p)), out);
      break;
    case kUInt32:
      append_number(le32(p), out);
      break;
    case kInt64:
      append_number(static_cast<std::int64_t>(le64(p)), out);
      break;
    case kUInt64:
      append_number(le64(p), out);
      break;
    case kReal32: {
      float f;
      std::memcpy(&f, p, sizeof f);
      append_number(f, out);
      break;
    }
    case kReal64: {
      double d;
      std::memcpy(&d, p, sizeof d);
      append_number(d, out);
      break;
    }
    case kBool:
      out.append(le32(p) != 0 ? "true" : "false");
      break;
    case kHexInt32:
      append_hex_number(le32(p), out);
      break;
    case kHexInt64:
      append_hex_number(le64(p), out);
      break;
    case kFileTime:
      out.append(format_time(filetime_to_ticks(le64(p))));
      break;
    case kGuid:
      append_guid(p, out);
      break;
    case kSystemTime:
      append_systemtime(p, out);
      break;
    default:
      break;
  }
}

void append_scalar(std::uint8_t type, const std::uint8_t* data, std::size_t size,
                   std::string& out) {
  using namespace value_type;
  switch (type) {
    case kNull:
      return;
    case kString:
      append_utf16(data, size / 2, out);
      return;
    case kAnsiString:
      append_ansi(data, size, out);
      return;
    case kBinary:
    case kEvtHandle:
    case kEvtXml:
    case kBinXml:
      append_hex_bytes(data, size, out);
      return;
    case kSizeT:
      if (size == 4) {
        append_hex_number(le32(data), out);
      } else if (size == 8) {
        append_hex_number(le64(data), out);
      } else {
        append_hex_bytes(data, size, out);
      }
      return;
    case kSid: {
      std::size_t used = 0;
      if (!append_sid(data, size, out, used)) append_hex_bytes(data, size, out);
      return;
    }
    default:
      break;
  }
  const std::size_t n = fixed_size(type);
  if (n == 0 || size != n) {
    append_hex_bytes(data, size, out);
    return;
  }
  append_fixed(type, data, out);
}

constexpr std::string_view kArraySeparator = ", ";

}  // namespace

bool append_array_item(std::uint8_t type, const std::uint8_t* data, std::size_t size,
                       std::size_t& pos, std::string& out) {
  using namespace value_type;
  if (pos >= size) return false;
  const std::uint8_t item_type = type & ~kArrayFlag;
  if (item_type == kString) {
    // NUL-terminated UTF-16 strings back to back.
    std::size_t end = pos;
    while (size - end >= 2 && le16(data + end) != 0) end += 2;
    append_utf16(data + pos, (end - pos) / 2, out);
    pos = size - end >= 2 ? end + 2 : size;
    return true;
  }
  if (item_type == kAnsiString) {
    std::size_t end = pos;
    while (end < size && data[end] != 0) ++end;
    append_ansi(data + pos, end - pos, out);
    pos = end < size ? end + 1 : size;
    return true;
  }
  if (item_type == kSid) {
    std::size_t used = 0;
    if (!append_sid(data + pos, size - pos, out, used)) {
      append_hex_bytes(data + pos, size - pos, out);
      pos = size;
    } else {
      pos += used;
    }
    return true;
  }
  std::size_t n = fixed_size(item_type);
  if (item_type == kSizeT) n = size % 8 == 0 ? 8 : 4;
  if (n == 0 || size % n != 0) {
    append_hex_bytes(data + pos, size - pos, out);
    pos = size;
    return true;
  }
  append_scalar(item_type, data + pos, n, out);
  pos += n;
  return true;
}

namespace {

void append_array(std::uint8_t type, const std::uint8_t* data, std::size_t size, std::string& out) {
  std::size_t pos = 0;
  bool first = true;
  while (pos < size) {
    if (!first) out.append(kArraySeparator);
    first = false;
    append_array_item(type, data, size, pos, out);
  }
}

}  // namespace

Ticks filetime_to_ticks(std::uint64_t filetime) {
  if (filetime > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return std::numeric_limits<std::int64_t>::max() - kFiletimeUnixEpoch;
  return static_cast<std::int64_t>(filetime) - kFiletimeUnixEpoch;
}

void append_utf16(const std::uint8_t* data, std::size_t units, std::string& out) {
  std::size_t i = 0;
  // ASCII fast path: event text is overwhelmingly ASCII. Several units at a time while none is
  // zero (the end) or above 0x7F, written into room made once.
  const std::size_t start = out.size();
  out.resize(start + units);
  char* w = out.data() + start;
#ifdef __SSE2__
  // Eight at a time where SSE2 is there (every x86-64): a unit in 1..0x7F is positive and below
  // 0x80 as a signed 16-bit number, and packing keeps its low byte.
  const __m128i zero = _mm_setzero_si128(), above_ascii = _mm_set1_epi16(0x80);
  for (; i + 8 <= units; i += 8) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 2 * i));
    const __m128i ascii = _mm_and_si128(_mm_cmpgt_epi16(x, zero), _mm_cmplt_epi16(x, above_ascii));
    if (_mm_movemask_epi8(ascii) != 0xFFFF) break;
    _mm_storel_epi64(reinterpret_cast<__m128i*>(w + i), _mm_packus_epi16(x, x));
  }
#endif
  constexpr std::uint64_t kLow = 0x0001000100010001, kHigh = 0x8000800080008000;
  for (; i + 4 <= units; i += 4) {
    const std::uint64_t x = le64(data + 2 * i);
    if ((x & 0xFF80FF80FF80FF80) != 0 || ((x - kLow) & ~x & kHigh) != 0) break;
    for (int k = 0; k < 4; ++k) w[i + k] = static_cast<char>(x >> (16 * k));
  }
  for (; i < units; ++i) {
    const std::uint16_t u = le16(data + 2 * i);
    if (u == 0 || u >= 0x80) break;
    w[i] = static_cast<char>(u);
  }
  out.resize(start + i);
  if (i < units && le16(data + 2 * i) == 0) return;
  for (; i < units; ++i) {
    const std::uint32_t u = le16(data + 2 * i);
    if (u == 0) return;
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 1 < units) {
        const std::uint32_t low = le16(data + 2 * (i + 1));
        if (low >= 0xDC00 && low <= 0xDFFF) {
          append_utf8_code_point(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00), out);
          ++i;
          continue;
        }
      }
      append_utf8_code_point(0xFFFD, out);
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      append_utf8_code_point(0xFFFD, out);
    } else {
      append_utf8_code_point(u, out);
    }
  }
}

void append_guid(const std::uint8_t* p, std::string& out) {
  char buf[38];
  char* w = buf;
  auto hex = [&](std::uint64_t v, int digits) {
    for (int d = digits - 1; d >= 0; --d) *w++ = kHexUpper[(v >> (4 * d)) & 0xF];
  };
  *w++ = '{';
  hex(le32(p), 8);
  *w++ = '-';
  hex(le16(p + 4), 4);
  *w++ = '-';
  hex(le16(p + 6), 4);
  *w++ = '-';
  hex(p[8], 2);
  hex(p[9], 2);
  *w++ = '-';
  for (int i = 10; i < 16; ++i) hex(p[i], 2);
  *w++ = '}';
  out.append(buf, static_cast<std::size_t>(w - buf));
}

bool append_sid(const std::uint8_t* p, std::size_t size, std::string& out, std::size_t& used) {
  if (size < 8) return false;
  const std::size_t sub_count = p[1];
  used = 8 + 4 * sub_count;
  if (used > size) return false;
  std::uint64_t authority = 0;
  for (int i = 2; i < 8; ++i) authority = (authority << 8) | p[i];
  out.append("S-");
  append_number(static_cast<unsigned>(p[0]), out);
  out.push_back('-');
  if (authority >> 32) {
    // Windows prints authorities that do not fit 32 bits as 0x + 12 hex digits.
    out.append("0x");
    for (int i = 2; i < 8; ++i) {
      out.push_back(kHexUpper[p[i] >> 4]);
      out.push_back(kHexUpper[p[i] & 0xF]);
    }
  } else {
    append_number(authority, out);
  }
  for (std::size_t i = 0; i < sub_count; ++i) {
    out.push_back('-');
    append_number(le32(p + 8 + 4 * i), out);
  }
  return true;
}

void append_value(std::uint8_t type, const std::uint8_t* data, std::size_t size, std::string& out) {
  if (type & value_type::kArrayFlag) {
    append_array(type, data, size, out);
  } else {
    append_scalar(type, data, size, out);
  }
}

}  // namespace sw::evtx_native
