// A text line from a tool or script -> Event. The line is the message; the rest is read off the
// line only where it is unambiguous:
//
// Time: a leading timestamp, optionally in [brackets], in one of the forms
//   2024-03-01T10:22:31Z, 2024-03-01T10:22:31.123+01:00, 2024-03-01 10:22:31[.fff] (no zone: UTC),
//   Mar  1 10:22:31 (syslog; the year is the one that puts it nearest before `now`).
//   Otherwise the event gets `now`.
// Computer, first match wins:
//   "/server:HOST" (qwinsta, rwinsta, logoff, tscon, msg), "-ComputerName HOST" (PowerShell),
//   then, right after the timestamp (if any): "[HOST]" or "HOST:" where HOST looks like a machine
//   name (NetBIOS in capitals such as WS-0042, or a dotted FQDN) and is not a log level word,
//   then, after a timestamp, the syslog layout "HOST program[pid]: ..." (HOST in any case; without
//   a [pid] it needs a digit, '-' or '.' or the shape above).
//   Otherwise DecodeOptions::default_computer.
// Channel: DecodeOptions::default_channel. Provider: "sessionwatch-text". Event id 0.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/text.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw {
namespace {

using text::is_digit;

constexpr std::string_view kProvider = "sessionwatch-text";

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_host_char(char c) {
  return is_digit(c) || is_upper(c) || is_lower(c) || c == '-' || c == '_' || c == '.';
}
using text::iequals;
using text::istarts_with;
using text::lower;

// Words that open log lines the way a host name would but are not one.
bool is_level_word(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "ERROR", "ERR",  "WARN",     "WARNING", "INFO",    "INFORMATION", "DEBUG",  "TRACE",
      "FATAL", "CRIT", "CRITICAL", "NOTICE",  "NOTE",    "SUCCESS",     "FAILED", "FAILURE",
      "OK",    "FAIL", "ALERT",    "EMERG",   "VERBOSE", "USAGE",       "HINT",   "TIP"};
  for (auto k : kWords)
    if (iequals(w, k)) return true;
  return false;
}

// NetBIOS-style (capitals, digits, '-', '_'; at least one letter) or a dotted DNS name.
bool looks_like_host(std::string_view w) {
  if (w.empty() || w.size() > 253 || is_level_word(w)) return false;
  bool letter = false, lower_case = false, dot = false;
  for (char c : w) {
    if (!is_host_char(c)) return false;
    letter |= is_upper(c) || is_lower(c);
    lower_case |= is_lower(c);
    dot |= c == '.';
  }
  if (!letter || w.front() == '.' || w.back() == '.' || w.front() == '-') return false;
  if (dot) return true;
  return !lower_case && w.size() <= 15;
}

// Leading ISO 8601 timestamp: returns its length, 0 when there is none.
std::size_t iso_length(std::string_view s) {
  // yyyy-mm-dd[T ]hh:mm:ss
  if (s.size() < 19) return 0;
  static constexpr std::string_view kShape = "dddd-dd-dd?dd:dd:dd";
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const char k = kShape[i];
    if (k == 'd' && !is_digit(s[i])) return 0;
    if (k == '?' && s[i] != 'T' && s[i] != ' ' && s[i] != 't') return 0;
    if (k != 'd' && k != '?' && s[i] != k) return 0;
  }
  std::size_t n = kShape.size();
  if (n < s.size() && (s[n] == '.' || s[n] == ',')) {
    std::size_t j = n + 1;
    while (j < s.size() && is_digit(s[j])) ++j;
    if (j > n + 1) n = j;
  }
  if (n < s.size() && (s[n] == 'Z' || s[n] == 'z')) {
    ++n;
  } else if (n + 2 < s.size() && (s[n] == '+' || s[n] == '-') && is_digit(s[n + 1]) &&
             is_digit(s[n + 2])) {
    std::size_t j = n + 3;
    if (j + 2 < s.size() && s[j] == ':' && is_digit(s[j + 1]) && is_digit(s[j + 2])) {
      j += 3;
    } else if (j + 1 < s.size() && is_digit(s[j]) && is_digit(s[j + 1])) {
      j += 2;
    }
    n = j;
  }
  return n;
}

// Leading "Mar  1 10:22:31": its length and time, taking the year that puts it nearest before
// `now` (syslog lines carry none).
std::size_t syslog_time(std::string_view s, Ticks now, Ticks& out) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() < 15 || s[3] != ' ') return 0;
  int month = 0;
  for (std::size_t m = 0; m < kMonths.size(); ++m)
    if (s.substr(0, 3) == kMonths[m]) month = static_cast<int>(m) + 1;
  if (month == 0) return 0;
  std::size_t i = 4;
  if (s[i] == ' ') ++i;
  int day = 0;
  while (i < s.size() && is_digit(s[i]) && day < 100) day = day * 10 + (s[i++] - '0');
  if (day < 1 || day > 31 || i + 9 > s.size() || s[i] != ' ') return 0;
  ++i;
  const std::string_view hms = s.substr(i, 8);
  if (!(is_digit(hms[0]) && is_digit(hms[1]) && hms[2] == ':' && is_digit(hms[3]) &&
        is_digit(hms[4]) && hms[5] == ':' && is_digit(hms[6]) && is_digit(hms[7])))
    return 0;
  const std::string now_text = format_time(now);
  int year = std::stoi(now_text.substr(0, 4));
  char buf[32];
  for (int attempt = 0; attempt < 2; ++attempt, --year) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%.8sZ", year, month, day, hms.data());
    auto t = parse_time(buf);
    if (!t) return 0;
    // A day of slack for clocks a little ahead of ours.
    if (*t <= now + 86400 * kTicksPerSecond || attempt == 1) {
      out = *t;
      return i + 8;
    }
  }
  return 0;
}

std::string_view skip_separators(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '|' ||
                        s.front() == '-' || s.front() == ':'))
    s.remove_prefix(1);
  return s;
}

// "/server:HOST" or "-ComputerName HOST" anywhere in the line.
std::string_view named_server(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    std::size_t start = std::string_view::npos;
    if (line[i] == '/' && istarts_with(line.substr(i), "/server:")) {
      start = i + 8;
    } else if (line[i] == '-' && istarts_with(line.substr(i), "-computername ")) {
      start = i + 14;
      while (start < line.size() && line[start] == ' ') ++start;
    }
    if (start == std::string_view::npos) continue;
    if (start < line.size() && (line[start] == '"' || line[start] == '\'')) ++start;
    std::size_t end = start;
    while (end < line.size() && is_host_char(line[end])) ++end;
    const std::string_view host = line.substr(start, end - start);
    if (!host.empty() && host.find_first_not_of("0123456789.") != std::string_view::npos)
      return host;
  }
  return {};
}

// "[HOST] ..." or "HOST: ..." at the start of `rest`.
std::string_view leading_host(std::string_view rest) {
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close != std::string_view::npos) {
      const std::string_view w = rest.substr(1, close - 1);
      if (looks_like_host(w)) return w;
    }
    return {};
  }
  std::size_t end = 0;
  while (end < rest.size() && is_host_char(rest[end])) ++end;
  if (end == 0 || end >= rest.size() || rest[end] != ':') return {};
  if (end + 1 < rest.size() && rest[end + 1] != ' ' && rest[end + 1] != '\t') return {};
  const std::string_view w = rest.substr(0, end);
  return looks_like_host(w) ? w : std::string_view{};
}

bool is_syslog_tag_char(char c) {
  return is_host_char(c) || c == '/';
}

// "HOST program[pid]: ..." right after a timestamp: the syslog layout (RFC 3164), where the host
// is often in lower case. Without a [pid] the host must look like a machine name (a digit, '-' or
// '.' in it), so that "rwinsta failed: ..." does not name a computer "rwinsta".
std::string_view syslog_host(std::string_view rest) {
  std::size_t end = 0;
  while (end < rest.size() && is_host_char(rest[end])) ++end;
  if (end == 0 || end + 1 >= rest.size() || rest[end] != ' ') return {};
  const std::string_view host = rest.substr(0, end);
  std::size_t p = end + 1;
  while (p < rest.size() && is_syslog_tag_char(rest[p])) ++p;
  if (p == end + 1) return {};
  bool pid = false;
  if (p < rest.size() && rest[p] == '[') {
    const std::size_t close = rest.find(']', p);
    if (close == std::string_view::npos || close == p + 1) return {};
    for (std::size_t i = p + 1; i < close; ++i)
      if (!is_digit(rest[i])) return {};
    pid = true;
    p = close + 1;
  }
  if (p >= rest.size() || rest[p] != ':') return {};
  if (p + 1 < rest.size() && rest[p + 1] != ' ' && rest[p + 1] != '\t') return {};
  if (is_level_word(host) || host.front() == '-' || host.front() == '.' || host.back() == '.')
    return {};
  const bool named_like_a_machine = host.find_first_of("0123456789-.") != std::string_view::npos;
  return pid || named_like_a_machine || looks_like_host(host) ? host : std::string_view{};
}

}  // namespace

bool TextLineDecoder::decode(std::string_view line, Ticks now, Event& out, std::string& error) {
  out.clear();
  while (!line.empty() &&
         (line.back() == '\r' || line.back() == '\n' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  if (line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  std::string sanitized;
  // A text line is text: NUL runs (what a crash leaves in a log) are dropped, and what is still
  // binary after that (garbage appended to a log) is refused, never an event.
  if (std::memchr(line.data(), '\0', line.size())) {
    std::remove_copy(line.begin(), line.end(), std::back_inserter(sanitized), '\0');
    line = sanitized;
  }
  if (auto why = not_a_log(line)) {
    error = *why;
    return false;
  }
  if (!is_valid_utf8(line)) {
    std::string valid;
    append_sanitized_utf8(line, valid);
    sanitized = std::move(valid);
    line = sanitized;
  }
  std::string_view body = line;
  while (!body.empty() && (body.front() == ' ' || body.front() == '\t')) body.remove_prefix(1);
  if (body.empty()) {
    error = "empty line";
    return false;
  }

  out.time_created = now;
  std::string_view rest = body;
  const bool bracketed = rest.front() == '[';
  const std::string_view stamp_area = bracketed ? rest.substr(1) : rest;
  std::size_t stamp = iso_length(stamp_area);
  Ticks t = 0;
  if (stamp > 0) {
    if (auto parsed = parse_time(stamp_area.substr(0, stamp))) {
      t = *parsed;
    } else {
      stamp = 0;
    }
  } else {
    stamp = syslog_time(stamp_area, now, t);
  }
  const bool stamped =
      stamp > 0 && (!bracketed || (stamp < stamp_area.size() && stamp_area[stamp] == ']'));
  if (stamped) {
    out.time_created = t;
    rest = skip_separators(stamp_area.substr(stamp + (bracketed ? 1 : 0)));
  }

  std::string_view computer = named_server(body);
  if (computer.empty()) computer = leading_host(rest);
  if (computer.empty() && stamped) computer = syslog_host(rest);
  if (computer.empty()) computer = options_.default_computer;

  out.event_id = 0;
  out.set_provider_name(kProvider);
  out.set_channel(options_.default_channel);
  out.set_computer(computer);
  out.set_message(body);
  return true;
}

}  // namespace sw
