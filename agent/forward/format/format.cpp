// Record formats. Every one of them must keep a record on one line whatever the alert holds:
// JSON escapes control characters itself; syslog and CEF fields are escaped or neutralized here.
#include <array>
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
// might not be: sanitize before escaping.
std::string clean_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  append_sanitized_utf8(s, out);
  return out;
}

// RFC 5424 header fields: PRINTUSASCII (33..126) only, bounded length, "-" when empty.
void append_header_field(std::string_view s, std::size_t max_len, std::string& out) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if (n == max_len) break;
    out.push_back(c >= 33 && c <= 126 ? static_cast<char>(c) : '_');
    ++n;
  }
  if (n == 0) out.push_back('-');
}

// RFC 5424 PARAM-VALUE: '"', '\' and ']' must be escaped with '\'; control characters would let
// a value break the framing, so they become "#ooo".
void append_sd_value(std::string_view raw, std::string& out) {
  for (unsigned char c : clean_utf8(raw)) {
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
  for (unsigned char c : clean_utf8(raw)) {
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
  for (unsigned char c : clean_utf8(raw)) {
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

// A string at a dotted path of the document, or "" (never throws on odd documents).
std::string doc_string(const nlohmann::json& doc, std::initializer_list<const char*> path) {
  const nlohmann::json* node = &doc;
  for (const char* key : path) {
    if (!node->is_object()) return {};
    auto it = node->find(key);
    if (it == node->end()) return {};
    node = &*it;
  }
  if (node->is_string()) return node->get<std::string>();
  if (node->is_number_integer()) return std::to_string(node->get<std::int64_t>());
  return {};
}

void append_json(const Alert& alert, std::string& out) {
  out += alert.doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view hostname_of(const Alert& alert, const FormatOptions& options) {
  return options.hostname.empty() ? std::string_view(alert.host)
                                  : std::string_view(options.hostname);
}

int pri(const Alert& alert, const FormatOptions& options) {
  return options.facility * 8 + syslog_severity(alert.level);
}

void append_pri(const Alert& alert, const FormatOptions& options, std::string& out) {
  out.push_back('<');
  out += std::to_string(pri(alert, options));
  out.push_back('>');
}

// "Mmm dd hh:mm:ss" in UTC (RFC 3164 has no zone; UTC avoids DST ambiguity).
void append_rfc3164_time(Ticks t, std::string& out) {
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string iso = format_time(t);  // YYYY-MM-DDThh:mm:ss.fffffffZ
  int month = std::atoi(iso.substr(5, 2).c_str());
  int day = std::atoi(iso.substr(8, 2).c_str());
  if (month < 1 || month > 12) month = 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s %2d %s", kMonths[static_cast<std::size_t>(month - 1)], day,
                iso.substr(11, 8).c_str());
  out += buf;
}

void append_rfc3164_header(const Alert& alert, const FormatOptions& options, std::string& out) {
  append_pri(alert, options, out);
  append_rfc3164_time(alert.time, out);
  out.push_back(' ');
  append_header_field(hostname_of(alert, options), 255, out);
  out.push_back(' ');
  append_header_field(options.app_name, 32, out);
  out.append(": ");
}

void append_rfc5424(const Alert& alert, const FormatOptions& options, std::string& out) {
  append_pri(alert, options, out);
  out.append("1 ");
  // TIME-SECFRAC allows at most 6 digits; our ticks have 7.
  std::string ts = format_time(alert.time);
  if (ts.size() == 28) ts.erase(26, 1);
  out += ts;
  out.push_back(' ');
  append_header_field(hostname_of(alert, options), 255, out);
  out.push_back(' ');
  append_header_field(options.app_name, 48, out);
  out.append(" - ");
  // MSGID is at most 32 characters: a Sigma UUID without its hyphens fits exactly.
  std::string msgid = alert.rule_id;
  if (msgid.size() > 32) std::erase(msgid, '-');
  append_header_field(msgid, 32, out);
  out.append(" [sessionwatch@");
  out += std::to_string(options.enterprise_id);
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
  param("user", doc_string(alert.doc, {"user", "name"}));
  param("domain", doc_string(alert.doc, {"user", "domain"}));
  param("source_ip", doc_string(alert.doc, {"source", "ip"}));
  param("event_code", doc_string(alert.doc, {"event", "code"}));
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
  ext("suser", doc_string(alert.doc, {"user", "name"}));
  ext("sntdom", doc_string(alert.doc, {"user", "domain"}));
  ext("src", doc_string(alert.doc, {"source", "ip"}));
  ext("cs1Label", "level");
  ext("cs1", to_string(alert.level));
  ext("cs2Label", "eventCode");
  ext("cs2", doc_string(alert.doc, {"event", "code"}));
  ext("msg", doc_string(alert.doc, {"message"}));
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
