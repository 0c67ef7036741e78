// Strict readers of the records the encoders write, after the grammars a collector applies
// (RFC 5424 section 6, RFC 3164 section 4.1, ArcSight CEF), and the values the encoders promise
// to carry: a fuzz target compares what a collector would read with what the alert held.
#pragma once

#include <array>
#include <cctype>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/utf8.hpp"

namespace sw::fuzz {

inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
inline bool is_print_us_ascii(char c) {
  return c >= 33 && c <= 126;
}

// Reads a field of `n` digits at `pos`.
inline bool digits(std::string_view s, std::size_t& pos, std::size_t n) {
  if (s.size() - pos < n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_digit(s[pos + i])) return false;
  }
  pos += n;
  return true;
}

inline bool literal(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

// "<" PRIVAL ">" with PRIVAL 0..191.
inline bool pri(std::string_view s, std::size_t& pos, int& value) {
  if (!literal(s, pos, '<')) return false;
  const std::size_t start = pos;
  value = 0;
  while (pos < s.size() && is_digit(s[pos]) && pos - start < 3)
    value = value * 10 + (s[pos++] - '0');
  return pos > start && value <= 191 && literal(s, pos, '>');
}

// 1*max PRINTUSASCII up to the next space (or the end).
inline bool token(std::string_view s, std::size_t& pos, std::size_t max, std::string_view& out) {
  const std::size_t start = pos;
  while (pos < s.size() && s[pos] != ' ') {
    if (!is_print_us_ascii(s[pos])) return false;
    ++pos;
  }
  out = s.substr(start, pos - start);
  return !out.empty() && out.size() <= max;
}

// NILVALUE / FULL-DATE "T" PARTIAL-TIME "Z" (the encoder always writes UTC).
inline bool rfc5424_timestamp(std::string_view s, std::size_t& pos) {
  if (literal(s, pos, '-')) return true;
  if (!(digits(s, pos, 4) && literal(s, pos, '-') && digits(s, pos, 2) && literal(s, pos, '-') &&
        digits(s, pos, 2) && literal(s, pos, 'T') && digits(s, pos, 2) && literal(s, pos, ':') &&
        digits(s, pos, 2) && literal(s, pos, ':') && digits(s, pos, 2)))
    return false;
  if (literal(s, pos, '.')) {
    std::size_t n = 0;
    while (pos < s.size() && is_digit(s[pos])) ++pos, ++n;
    if (n < 1 || n > 6) return false;
  }
  return literal(s, pos, 'Z');
}

struct Rfc5424 {
  int pri = 0;
  std::string sd_id;
  std::map<std::string, std::string> params;
  std::string_view msg;
};

// SD-NAME: 1*32 PRINTUSASCII except '=', SP, ']', '"'.
inline bool sd_name(std::string_view s, std::size_t& pos, std::string& out) {
  const std::size_t start = pos;
  while (pos < s.size() && is_print_us_ascii(s[pos]) && s[pos] != '=' && s[pos] != ']' &&
         s[pos] != '"')
    ++pos;
  out.assign(s.substr(start, pos - start));
  return !out.empty() && out.size() <= 32;
}

// %d34 PARAM-VALUE %d34, unescaping \" \\ \] (a '\' before anything else stays, as RFC 5424 says).
inline bool sd_value(std::string_view s, std::size_t& pos, std::string& out) {
  if (!literal(s, pos, '"')) return false;
  out.clear();
  while (pos < s.size()) {
    const char c = s[pos++];
    if (c == '"') return true;
    if (c == ']') return false;  // must have been escaped
    if (c == '\\' && pos < s.size() && (s[pos] == '"' || s[pos] == '\\' || s[pos] == ']')) {
      out.push_back(s[pos++]);
    } else {
      out.push_back(c);
    }
  }
  return false;
}

inline bool parse_rfc5424(std::string_view s, Rfc5424& out, std::string& why) {
  std::size_t pos = 0;
  std::string_view field;
  auto fail = [&](const char* what) {
    why = std::string(what) + " at byte " + std::to_string(pos);
    return false;
  };
  if (!pri(s, pos, out.pri)) return fail("PRI");
  if (!(literal(s, pos, '1') && literal(s, pos, ' '))) return fail("VERSION");
  if (!(rfc5424_timestamp(s, pos) && literal(s, pos, ' '))) return fail("TIMESTAMP");
  if (!(token(s, pos, 255, field) && literal(s, pos, ' '))) return fail("HOSTNAME");
  if (!(token(s, pos, 48, field) && literal(s, pos, ' '))) return fail("APP-NAME");
  if (!(token(s, pos, 128, field) && literal(s, pos, ' '))) return fail("PROCID");
  if (!(token(s, pos, 32, field) && literal(s, pos, ' '))) return fail("MSGID");
  if (!literal(s, pos, '[') || !sd_name(s, pos, out.sd_id)) return fail("SD-ID");
  while (literal(s, pos, ' ')) {
    std::string name, value;
    if (!sd_name(s, pos, name) || !literal(s, pos, '=') || !sd_value(s, pos, value))
      return fail("SD-PARAM");
    if (!is_valid_utf8(value)) return fail("PARAM-VALUE not UTF-8");
    if (!out.params.emplace(name, value).second) return fail("repeated SD-PARAM");
  }
  if (!literal(s, pos, ']')) return fail("end of SD-ELEMENT");
  if (!literal(s, pos, ' ')) return fail("SP before MSG");
  out.msg = s.substr(pos);
  return true;
}

// "<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: " and the rest after it.
inline bool parse_rfc3164_header(std::string_view s, std::string_view& rest, std::string& why) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::size_t pos = 0;
  int value = 0;
  std::string_view field;
  auto fail = [&](const char* what) {
    why = std::string(what) + " at byte " + std::to_string(pos);
    return false;
  };
  if (!pri(s, pos, value)) return fail("PRI");
  bool month = false;
  for (std::string_view m : kMonths) month |= s.substr(pos, 3) == m;
  if (!month) return fail("month");
  pos += 3;
  if (!literal(s, pos, ' ')) return fail("SP after month");
  if (!literal(s, pos, ' ') && !digits(s, pos, 1)) return fail("day");
  if (!(digits(s, pos, 1) && literal(s, pos, ' ') && digits(s, pos, 2) && literal(s, pos, ':') &&
        digits(s, pos, 2) && literal(s, pos, ':') && digits(s, pos, 2) && literal(s, pos, ' ')))
    return fail("time");
  if (!(token(s, pos, 255, field) && literal(s, pos, ' '))) return fail("HOSTNAME");
  if (!token(s, pos, 64, field) || field.back() != ':' || !literal(s, pos, ' ')) return fail("TAG");
  rest = s.substr(pos);
  return true;
}

struct Cef {
  std::vector<std::string> header;  // CEF:0, vendor, product, version, signature id, name, severity
  std::map<std::string, std::string> extension;
};

// Header fields split at unescaped '|', "\|" and "\\" unescaped; extension pairs "key=value"
// separated by spaces, where an unescaped '=' always ends a key ("\=", "\\", "\n", "\r" in
// values).
inline bool parse_cef(std::string_view s, Cef& out, std::string& why) {
  if (s.substr(0, 6) != "CEF:0|") {
    why = "no CEF:0| prefix";
    return false;
  }
  std::size_t pos = 0;
  std::string field;
  while (out.header.size() < 7) {
    if (pos >= s.size()) {
      why = "header ends early";
      return false;
    }
    const char c = s[pos++];
    if (c == '|') {
      out.header.push_back(field);
      field.clear();
    } else if (c == '\\' && pos < s.size() && (s[pos] == '|' || s[pos] == '\\')) {
      field.push_back(s[pos++]);
    } else {
      field.push_back(c);
    }
  }
  // Unescaped '=' positions, and each key before one of them.
  const std::string_view ext = s.substr(pos);
  std::vector<std::pair<std::size_t, std::size_t>> keys;  // key start, '=' position
  for (std::size_t i = 0; i < ext.size(); ++i) {
    if (ext[i] == '\\') {
      ++i;
      continue;
    }
    if (ext[i] != '=') continue;
    const std::size_t space = ext.rfind(' ', i);
    const std::size_t start = space == std::string_view::npos ? 0 : space + 1;
    if (start == i) {
      why = "empty extension key";
      return false;
    }
    for (std::size_t k = start; k < i; ++k) {
      if (!std::isalnum(static_cast<unsigned char>(ext[k]))) {
        why = "bad extension key " + std::string(ext.substr(start, i - start));
        return false;
      }
    }
    if (!keys.empty() && start == 0) {
      why = "extension key without a space before it";
      return false;
    }
    keys.emplace_back(start, i);
  }
  if (!ext.empty() && (keys.empty() || keys.front().first != 0)) {
    why = "extension does not start with a key";
    return false;
  }
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const std::size_t value_end = k + 1 < keys.size() ? keys[k + 1].first - 1 : ext.size();
    const std::string_view raw = ext.substr(keys[k].second + 1, value_end - keys[k].second - 1);
    std::string value;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size()) {
        const char e = raw[++i];
        value.push_back(e == 'n' ? '\n' : e == 'r' ? '\r' : e);
      } else {
        value.push_back(raw[i]);
      }
    }
    const std::string key(ext.substr(keys[k].first, keys[k].second - keys[k].first));
    if (!out.extension.emplace(key, value).second) {
      why = "repeated extension key " + key;
      return false;
    }
  }
  return true;
}

// What the encoders promise to carry of a raw value: invalid UTF-8 replaced by U+FFFD, and
// control characters, which could end a record, neutralized (RFC 5424 values: "#ooo"; CEF header:
// a space; CEF extension: "\n" and "\r" kept as escapes, others a space).
inline std::string sanitized(std::string_view raw) {
  std::string out;
  if (is_valid_utf8(raw)) return std::string(raw);
  append_sanitized_utf8(raw, out);
  return out;
}

inline bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

inline std::string expected_sd_value(std::string_view raw) {
  std::string out;
  for (unsigned char c : sanitized(raw)) {
    if (is_control(c)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "#%03o", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

inline std::string expected_cef_header(std::string_view raw) {
  std::string out = sanitized(raw);
  for (char& c : out) {
    if (is_control(static_cast<unsigned char>(c))) c = ' ';
  }
  return out;
}

inline std::string expected_cef_value(std::string_view raw) {
  std::string out = sanitized(raw);
  for (char& c : out) {
    if (c != '\n' && c != '\r' && is_control(static_cast<unsigned char>(c))) c = ' ';
  }
  return out;
}

}  // namespace sw::fuzz
