// Record formats. Every one of them must keep a record on one line whatever the alert holds:
// JSON escapes control characters itself; syslog and CEF fields are escaped or neutralized here.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/forward.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw::forward {

namespace {

constexpr std::array<std::string_view, 4> kFormatNames = {"json", "rfc5424", "rfc3164", "cef"};

constexpr std::array<std::string_view, 24> kFacilityNames = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};

// What a hostile value could use to end a record early or fake a field: C0 controls and DEL.
bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// rsyslog's own convention for control characters ("#012" for LF), familiar to syslog admins.
void append_octal_escape(unsigned char c, std::string& out) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "#%03o", c);
  out.append(buf, 4);
}

// Strings that came from events are UTF-8-clean already, but values taken from arbitrary JSON
// might not be: sanitize before escaping. A view of `s` itself when it is clean (the usual case),
// else of the sanitized copy in `scratch`.
std::string_view clean_utf8(std::string_view s, std::string& scratch) {
  unsigned char high = 0;
  for (unsigned char c : s) high |= c;
  if (high < 0x80 || is_valid_utf8(s)) return s;
  scratch.clear();
  append_sanitized_utf8(s, scratch);
  return scratch;
}

// RFC 5424 header fields: PRINTUSASCII (33..126) only, bounded length, "-" when empty.
void append_header_field(std::string_view s, std::size_t max_len, std::string& out) {
  s = s.substr(0, max_len);
  if (s.empty()) {
    out.push_back('-');
    return;
  }
  const std::size_t at = out.size();
  out.append(s);
  for (std::size_t i = at; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (c < 33 || c > 126) out[i] = '_';
  }
}

// RFC 3164 HOSTNAME and TAG: host name characters (letters, digits, '.', '-', '_'; anything
// else becomes '-'), ending in a letter or digit. Receivers take a HOSTNAME they cannot parse as
// the TAG (rsyslog also one that ends in '-' or '_'), so a computer named "sshd:" or
// "dc01 sshd[4242]:" would pose as program sshd.
void append_rfc3164_field(std::string_view s, std::size_t max_len, std::string& out) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  s = s.substr(0, max_len);
  while (!s.empty() && !alnum(s.back())) s.remove_suffix(1);
  if (s.empty()) {
    out.push_back('-');
    return;
  }
  for (char c : s) out.push_back(alnum(c) || c == '.' || c == '-' || c == '_' ? c : '-');
}

// RFC 5424 PARAM-VALUE: '"', '\' and ']' must be escaped with '\'; control characters would let
// a value break the framing, so they become "#ooo".
void append_sd_value(std::string_view raw, std::string& out) {
  std::string scratch;
  const std::string_view clean = clean_utf8(raw, scratch);
  bool plain = true;
  for (unsigned char c : clean) plain &= !(c == '"' || c == '\\' || c == ']' || is_control(c));
  if (plain) {
    out.append(clean);
    return;
  }
  for (unsigned char c : clean) {
    if (c == '"' || c == '\\' || c == ']') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (is_control(c)) {
      append_octal_escape(c, out);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// CEF header fields: '|' and '\' escaped; line breaks are not allowed in the header at all.
void append_cef_header(std::string_view raw, std::string& out) {
  std::string scratch;
  for (unsigned char c : clean_utf8(raw, scratch)) {
    if (c == '|' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (is_control(c)) {
      out.push_back(' ');
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// CEF extension values: '\' and '=' escaped, CR/LF as the two-character sequences \r \n.
void append_cef_value(std::string_view raw, std::string& out) {
  std::string scratch;
  for (unsigned char c : clean_utf8(raw, scratch)) {
    if (c == '\\' || c == '=') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (is_control(c)) {
      out.push_back(' ');
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// A nullable text member as the formats print it: "" for null (a field left out).
std::string_view text_of(const NullableText& text) {
  return text ? std::string_view(*text) : std::string_view();
}

// What an alert without a console holder or an attempt reads as: every part unknown.
const AlertConsole kNoConsole{};
const AlertAttempt kNoAttempt{};

std::string number_text(std::optional<std::uint32_t> n) {
  return n ? std::to_string(*n) : std::string();
}

std::string_view hostname_of(const Alert& alert, const FormatOptions& options) {
  return options.hostname.empty() ? std::string_view(alert.host)
                                  : std::string_view(options.hostname);
}

// "YYYY-MM-DDThh:mm:ss.ffffffZ" (RFC 5424 allows at most 6 fraction digits; ticks have 7), or
// "-" for a year that is not 4 digits.
// Written digit by digit: snprintf was a tenth of the cost of a whole record.
void append_rfc5424_time(Ticks t, std::string& out) {
  constexpr std::int64_t kTicksPerDay = 86400 * kTicksPerSecond;
  std::int64_t days = t / kTicksPerDay;
  std::int64_t rem = t % kTicksPerDay;
  if (rem < 0) {
    rem += kTicksPerDay;
    --days;
  }
  // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) {  // no date the field can hold (FILETIME's max is year 30828)
    out.push_back('-');           // NILVALUE; the document still has the time
    return;
  }
  const std::int64_t secs = rem / kTicksPerSecond;
  const std::int64_t micros = (rem % kTicksPerSecond) / 10;
  char buf[27];
  auto put = [&buf](std::size_t at, std::int64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      buf[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, year, 4);
  buf[4] = '-';
  put(5, month, 2);
  buf[7] = '-';
  put(8, day, 2);
  buf[10] = 'T';
  put(11, secs / 3600, 2);
  buf[13] = ':';
  put(14, (secs / 60) % 60, 2);
  buf[16] = ':';
  put(17, secs % 60, 2);
  buf[19] = '.';
  put(20, micros, 6);
  buf[26] = 'Z';
  out.append(buf, sizeof buf);
}

int pri(const Alert& alert, const FormatOptions& options) {
  return options.facility * 8 + syslog_severity(alert.level);
}

void append_pri(const Alert& alert, const FormatOptions& options, std::string& out) {
  char buf[16];
  auto r = std::to_chars(buf, buf + sizeof buf, pri(alert, options));
  out.push_back('<');
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
  out.push_back('>');
}

// "Mmm dd hh:mm:ss" in UTC (RFC 3164 has no zone; UTC avoids DST ambiguity).
void append_rfc3164_time(Ticks t, std::string& out) {
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // YYYY-MM-DDThh:mm:ss.fffffffZ; the year may have more digits or a sign (year 30828 occurs in
  // real EVTX files) and is not part of this timestamp: read the rest from the end.
  const std::string iso = format_time(t);
  const std::string tail =
      iso.substr(iso.size() - std::string_view("-MM-DDThh:mm:ss.fffffffZ").size());
  int month = std::atoi(tail.substr(1, 2).c_str());
  int day = std::atoi(tail.substr(4, 2).c_str());
  if (month < 1 || month > 12) month = 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s %2d %s", kMonths[static_cast<std::size_t>(month - 1)], day,
                tail.substr(7, 8).c_str());
  out += buf;
}

void append_rfc3164_header(const Alert& alert, const FormatOptions& options, std::string& out) {
  append_pri(alert, options, out);
  append_rfc3164_time(alert.time, out);
  out.push_back(' ');
  append_rfc3164_field(hostname_of(alert, options), 255, out);
  out.push_back(' ');
  append_rfc3164_field(options.app_name, 32, out);
  out.append(": ");
}

void append_rfc5424(const Alert& alert, const FormatOptions& options, std::string& out) {
  append_pri(alert, options, out);
  out.append("1 ");
  append_rfc5424_time(alert.time, out);
  out.push_back(' ');
  append_header_field(hostname_of(alert, options), 255, out);
  out.push_back(' ');
  append_header_field(options.app_name, 48, out);
  out.append(" - ");
  // MSGID is at most 32 characters: a Sigma UUID without its hyphens fits exactly.
  if (alert.rule_id.size() > 32) {
    std::string msgid = alert.rule_id;
    std::erase(msgid, '-');
    append_header_field(msgid, 32, out);
  } else {
    append_header_field(alert.rule_id, 32, out);
  }
  out.append(" [sessionwatch@");
  char pen[16];
  auto pen_end = std::to_chars(pen, pen + sizeof pen, options.enterprise_id).ptr;
  out.append(pen, static_cast<std::size_t>(pen_end - pen));
  auto param = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    out.push_back(' ');
    out += name;
    out.append("=\"");
    append_sd_value(value, out);
    out.push_back('"');
  };
  param("event_id", alert.id);
  param("rule_id", alert.rule_id);
  param("rule_name", alert.rule_name);
  param("level", to_string(alert.level));
  param("host", alert.host);
  param("user", alert.user ? std::string_view(alert.user->name) : std::string_view());
  param("domain", alert.user ? text_of(alert.user->domain) : std::string_view());
  param("source_ip", alert.source ? std::string_view(alert.source->ip) : std::string_view());
  param("event_code", alert.event_code);
  // The answer to "who holds the console?", for a collector that parses only the SD.
  const AlertConsole& console = alert.console ? *alert.console : kNoConsole;
  const std::string holder_session = number_text(console.session_id);
  param("holder_user", text_of(console.user));
  param("holder_domain", text_of(console.domain));
  param("holder_session", holder_session);
  param("holder_state", text_of(console.state));
  param("holder_since", text_of(console.since));
  const AlertAttempt& attempt = alert.attempt ? *alert.attempt : kNoAttempt;
  param("attempt_user", text_of(attempt.user));
  param("attempt_domain", text_of(attempt.domain));
  param("attempt_address", text_of(attempt.address));
  param("detection", alert.detection);
  param("error_code", number_text(alert.error_code));
  out.append("] ");
  write_alert_json(alert, out);
}

int cef_severity(Level level) {
  switch (level) {
    case Level::kInformational:
      return 1;
    case Level::kLow:
      return 3;
    case Level::kMedium:
      return 5;
    case Level::kHigh:
      return 8;
    case Level::kCritical:
      return 10;
  }
  return 5;
}

void append_cef(const Alert& alert, const FormatOptions& options, std::string& out) {
  if (options.cef_syslog_header) append_rfc3164_header(alert, options, out);
  out.append("CEF:0|sessionwatch|sessionwatch|0.1|");
  append_cef_header(alert.rule_id, out);
  out.push_back('|');
  append_cef_header(alert.rule_name, out);
  out.push_back('|');
  out += std::to_string(cef_severity(alert.level));
  out.push_back('|');
  bool first = true;
  auto ext = [&](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!first) out.push_back(' ');
    first = false;
    out += key;
    out.push_back('=');
    append_cef_value(value, out);
  };
  ext("rt", std::to_string(alert.time / (kTicksPerSecond / 1000)));
  ext("externalId", alert.id);
  ext("dvchost", alert.host);
  ext("suser", alert.user ? std::string_view(alert.user->name) : std::string_view());
  ext("sntdom", alert.user ? text_of(alert.user->domain) : std::string_view());
  ext("src", alert.source ? std::string_view(alert.source->ip) : std::string_view());
  ext("cs1Label", "level");
  ext("cs1", to_string(alert.level));
  ext("cs2Label", "eventCode");
  ext("cs2", alert.event_code);
  // A custom field and its label, both left out when the alert has no value for it.
  auto labelled = [&](std::string_view key, std::string_view label, std::string_view value) {
    if (value.empty()) return;
    ext(std::string(key) + "Label", label);
    ext(key, value);
  };
  // The console holder is the destination user of the refused logon.
  const AlertConsole& console = alert.console ? *alert.console : kNoConsole;
  ext("duser", text_of(console.user));
  ext("dntdom", text_of(console.domain));
  labelled("cn1", "consoleSessionId", number_text(console.session_id));
  labelled("cs3", "consoleState", text_of(console.state));
  labelled("cs4", "consoleSince", text_of(console.since));
  labelled("cs5", "detection", alert.detection);
  labelled("cs6", "errorCode", number_text(alert.error_code));
  labelled("flexString1", "attemptUser",
           alert.attempt ? text_of(alert.attempt->user) : std::string_view());
  ext("msg", alert.message);
}

}  // namespace

std::string_view to_string(Format f) {
  return kFormatNames[static_cast<std::size_t>(f)];
}

bool parse_format(std::string_view s, Format& out) {
  for (std::size_t i = 0; i < kFormatNames.size(); ++i) {
    if (kFormatNames[i] == s) {
      out = static_cast<Format>(i);
      return true;
    }
  }
  return false;
}

bool parse_facility(std::string_view s, int& out) {
  for (std::size_t i = 0; i < kFacilityNames.size(); ++i) {
    if (kFacilityNames[i] == s) {
      out = static_cast<int>(i);
      return true;
    }
  }
  if (s.empty() || s.size() > 2) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > 23) return false;
  out = v;
  return true;
}

void format_alert(const Alert& alert, const FormatOptions& options, std::string& out) {
  switch (options.format) {
    case Format::kJson:
      write_alert_json(alert, out);
      return;
    case Format::kRfc5424:
      append_rfc5424(alert, options, out);
      return;
    case Format::kRfc3164:
      append_rfc3164_header(alert, options, out);
      write_alert_json(alert, out);
      return;
    case Format::kCef:
      append_cef(alert, options, out);
      return;
  }
}

}  // namespace sw::forward
