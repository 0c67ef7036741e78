// Record formats. Every one of them must keep a record on one line whatever the alert holds:
// JSON escapes control characters itself; syslog and CEF fields are escaped or neutralized here.
#include <algorithm>
#include <array>
#include <charconv>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <cstdio>
#include <cstring>

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

// A string (or an integer, rendered into `scratch`) at a dotted path of the document, or ""
// (never throws on odd documents). A view into the document: no copy per field and alert.
std::string_view doc_string(const nlohmann::json& doc, std::initializer_list<std::string_view> path,
                            std::string& scratch) {
  const nlohmann::json* node = &doc;
  for (std::string_view key : path) {
    if (!node->is_object()) return {};
    const auto& object = node->get_ref<const nlohmann::json::object_t&>();
    auto it = object.find(key);
    if (it == object.end()) return {};
    node = &it->second;
  }
  if (node->is_string()) return node->get_ref<const std::string&>();
  if (node->is_number_integer()) {
    scratch = std::to_string(node->get<std::int64_t>());
    return scratch;
  }
  return {};
}

// Appends to a std::string through a raw cursor. std::string::push_back is an out-of-line call
// per character with libstdc++ (extern template), which was a third of the JSON writer's time.
class Appender {
 public:
  explicit Appender(std::string& s) : s_(s), n_(s.size()) {}
  ~Appender() { s_.resize(n_); }
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  void push_back(char c) {
    reserve(1);
    s_.data()[n_++] = c;
  }
  void append(const char* p, std::size_t n) {
    reserve(n);
    std::memcpy(s_.data() + n_, p, n);
    n_ += n;
  }
  void append(std::string_view v) { append(v.data(), v.size()); }
  Appender& operator+=(std::string_view v) {
    append(v);
    return *this;
  }

 private:
  void reserve(std::size_t n) {
    // Grows by a bounded step (std::string doubles its capacity underneath), so an appender on
    // a large shared buffer never zero-fills more than it is about to write.
    if (n_ + n > s_.size()) s_.resize(n_ + std::max<std::size_t>(n, 1024));
  }
  std::string& s_;
  std::size_t n_;
};

// nlohmann's dump(-1, ' ', false, replace) writes one byte at a time through a virtual adapter.
// This writer produces the same bytes with bulk appends; anything unusual (invalid UTF-8, floats,
// binary) is still handed to nlohmann.
bool needs_json_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

bool has_non_ascii(std::string_view s) {
  std::size_t i = 0;
#ifdef __SSE2__
  __m128i any = _mm_setzero_si128();
  for (; i + 16 <= s.size(); i += 16) {
    any = _mm_or_si128(any, _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i)));
  }
  if (_mm_movemask_epi8(any) != 0) return true;
#endif
  unsigned char high = 0;
  for (; i < s.size(); ++i) high |= static_cast<unsigned char>(s[i]);
  return high >= 0x80;
}

// Index of the first byte at or after `from` that JSON must escape, or s.size(). Sixteen bytes
// per step where SSE2 exists (every x86-64): the message field is most of a record.
std::size_t find_json_escape(std::string_view s, std::size_t from) {
  std::size_t i = from;
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // Signed compare: bytes >= 0x80 also test "< 0x20"; the movemask of v itself removes them.
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmplt_epi8(v, space));
    const int mask = _mm_movemask_epi8(special) & ~_mm_movemask_epi8(v);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < s.size(); ++i) {
    if (needs_json_escape(static_cast<unsigned char>(s[i]))) return i;
  }
  return s.size();
}

void append_json_string(std::string_view s, Appender& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (has_non_ascii(s) && !is_valid_utf8(s)) {
    out += nlohmann::json(std::string(s))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out.push_back('"');
  std::size_t run = 0;  // start of the pending bytes that need no escape
  for (std::size_t i = find_json_escape(s, 0); i < s.size(); i = find_json_escape(s, i + 1)) {
    const auto c = static_cast<unsigned char>(s[i]);
    out.append(s.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\f':
        out.push_back('f');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\r':
        out.push_back('r');
        break;
      case '\t':
        out.push_back('t');
        break;
      default:
        out.append("u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_json_value(const nlohmann::json& j, Appender& out) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, value] : j.get_ref<const nlohmann::json::object_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(key, out);
        out.push_back(':');
        append_json_value(value, out);
      }
      out.push_back('}');
      return;
    }
    case nlohmann::json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& value : j.get_ref<const nlohmann::json::array_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_value(value, out);
      }
      out.push_back(']');
      return;
    }
    case nlohmann::json::value_t::string:
      append_json_string(j.get_ref<const std::string&>(), out);
      return;
    case nlohmann::json::value_t::boolean:
      out.append(j.get<bool>() ? "true" : "false");
      return;
    case nlohmann::json::value_t::null:
      out.append("null");
      return;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: {
      char buf[24];
      auto r = j.is_number_unsigned() ? std::to_chars(buf, buf + sizeof buf, j.get<std::uint64_t>())
                                      : std::to_chars(buf, buf + sizeof buf, j.get<std::int64_t>());
      out.append(buf, static_cast<std::size_t>(r.ptr - buf));
      return;
    }
    default:  // floats (nlohmann's shortest round-trip form), binary, discarded
      out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
  }
}

void append_json(const Alert& alert, std::string& out) {
  Appender appender(out);
  append_json_value(alert.doc, appender);
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
  std::string scratch;
  param("user", doc_string(alert.doc, {"user", "name"}, scratch));
  param("domain", doc_string(alert.doc, {"user", "domain"}, scratch));
  param("source_ip", doc_string(alert.doc, {"source", "ip"}, scratch));
  param("event_code", doc_string(alert.doc, {"event", "code"}, scratch));
  // The answer to "who holds the console?", for a collector that parses only the SD.
  param("holder_user", doc_string(alert.doc, {"sessionwatch", "console", "user"}, scratch));
  param("holder_domain", doc_string(alert.doc, {"sessionwatch", "console", "domain"}, scratch));
  param("holder_session",
        doc_string(alert.doc, {"sessionwatch", "console", "session_id"}, scratch));
  param("holder_state", doc_string(alert.doc, {"sessionwatch", "console", "state"}, scratch));
  param("holder_since", doc_string(alert.doc, {"sessionwatch", "console", "since"}, scratch));
  param("attempt_user", doc_string(alert.doc, {"sessionwatch", "attempt", "user"}, scratch));
  param("attempt_domain", doc_string(alert.doc, {"sessionwatch", "attempt", "domain"}, scratch));
  param("attempt_address", doc_string(alert.doc, {"sessionwatch", "attempt", "address"}, scratch));
  param("detection", doc_string(alert.doc, {"sessionwatch", "detection"}, scratch));
  param("error_code", doc_string(alert.doc, {"sessionwatch", "error", "code"}, scratch));
  out.append("] ");
  append_json(alert, out);
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
  std::string scratch;
  ext("suser", doc_string(alert.doc, {"user", "name"}, scratch));
  ext("sntdom", doc_string(alert.doc, {"user", "domain"}, scratch));
  ext("src", doc_string(alert.doc, {"source", "ip"}, scratch));
  ext("cs1Label", "level");
  ext("cs1", to_string(alert.level));
  ext("cs2Label", "eventCode");
  ext("cs2", doc_string(alert.doc, {"event", "code"}, scratch));
  // A custom field and its label, both left out when the alert has no value for it.
  auto labelled = [&](std::string_view key, std::string_view label, std::string_view value) {
    if (value.empty()) return;
    ext(std::string(key) + "Label", label);
    ext(key, value);
  };
  // The console holder is the destination user of the refused logon.
  ext("duser", doc_string(alert.doc, {"sessionwatch", "console", "user"}, scratch));
  ext("dntdom", doc_string(alert.doc, {"sessionwatch", "console", "domain"}, scratch));
  labelled("cn1", "consoleSessionId",
           doc_string(alert.doc, {"sessionwatch", "console", "session_id"}, scratch));
  labelled("cs3", "consoleState",
           doc_string(alert.doc, {"sessionwatch", "console", "state"}, scratch));
  labelled("cs4", "consoleSince",
           doc_string(alert.doc, {"sessionwatch", "console", "since"}, scratch));
  labelled("cs5", "detection", doc_string(alert.doc, {"sessionwatch", "detection"}, scratch));
  labelled("cs6", "errorCode", doc_string(alert.doc, {"sessionwatch", "error", "code"}, scratch));
  labelled("flexString1", "attemptUser",
           doc_string(alert.doc, {"sessionwatch", "attempt", "user"}, scratch));
  ext("msg", doc_string(alert.doc, {"message"}, scratch));
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
      append_json(alert, out);
      return;
    case Format::kRfc5424:
      append_rfc5424(alert, options, out);
      return;
    case Format::kRfc3164:
      append_rfc3164_header(alert, options, out);
      append_json(alert, out);
      return;
    case Format::kCef:
      append_cef(alert, options, out);
      return;
  }
}

}  // namespace sw::forward
