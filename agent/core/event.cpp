#include "sessionwatch/event.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <deque>
#include <iterator>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

#include "core/plain_digits.hpp"
#include "sessionwatch/civil_time.hpp"

namespace sw {
namespace {

// Interning table. Names live in a deque so views handed out never move.
struct FieldTable {
  std::shared_mutex mu;
  std::deque<std::string> names;
  std::unordered_map<std::string_view, FieldId> ids;
};

constexpr std::array<std::string_view, fields::kLastSystemField + 1> kSystemFieldNames = {
    "EventID",           "Channel",   "Provider_Name", "Provider_Guid",   "Computer",
    "EventRecordID",     "Level",     "Task",          "Opcode",          "Keywords",
    "Version",           "ProcessID", "ThreadID",      "Security_UserID", "ActivityID",
    "RelatedActivityID", "Message",   "TimeCreated"};

FieldTable* make_table() {
  auto* t = new FieldTable();
  for (std::string_view name : kSystemFieldNames) {
    const auto id = static_cast<FieldId>(t->names.size());
    t->ids.emplace(t->names.emplace_back(name), id);
  }
  return t;
}

FieldTable& table() {
  static FieldTable* t = make_table();  // never destroyed: ids outlive static destructors
  return *t;
}

// append_canonical_hex for a value already known to be a hex literal.
void append_canonical_hex_literal(std::string_view s, std::string& out) {
  std::size_t i = 2;
  while (i + 1 < s.size() && s[i] == '0') ++i;
  // Written in place after one resize: a logon id or handle in nearly every event comes here.
  const std::size_t at = out.size();
  out.resize(at + 2 + (s.size() - i));
  char* to = out.data() + at;
  *to++ = '0';
  *to++ = 'x';
  for (; i < s.size(); ++i) {
    const char c = s[i];
    *to++ = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
  }
}

}  // namespace

FieldId intern_field(std::string_view name) {
  FieldTable& t = table();
  {
    std::shared_lock lock(t.mu);
    auto it = t.ids.find(name);
    if (it != t.ids.end()) return it->second;
  }
  std::unique_lock lock(t.mu);
  auto it = t.ids.find(name);
  if (it != t.ids.end()) return it->second;
  const auto id = static_cast<FieldId>(t.names.size());
  t.names.emplace_back(name);
  t.ids.emplace(t.names.back(), id);
  return id;
}

std::optional<FieldId> find_field(std::string_view name) {
  FieldTable& t = table();
  std::shared_lock lock(t.mu);
  auto it = t.ids.find(name);
  if (it == t.ids.end()) return std::nullopt;
  return it->second;
}

std::string_view field_name(FieldId id) {
  FieldTable& t = table();
  std::shared_lock lock(t.mu);
  if (id >= t.names.size()) return {};
  return t.names[id];
}

Span Event::store(std::string_view v) {
  Span s{static_cast<std::uint32_t>(buffer_.size()), static_cast<std::uint32_t>(v.size())};
  buffer_.append(v);
  return s;
}

void Event::add_field(FieldId id, std::string_view value, FieldOrigin origin) {
  Span s;
  if (is_hex_literal(value)) {
    s.offset = static_cast<std::uint32_t>(buffer_.size());
    append_canonical_hex_literal(value, buffer_);
    s.length = static_cast<std::uint32_t>(buffer_.size() - s.offset);
  } else {
    s = store(value);
  }
  fields_.push_back(Field{id, s, origin});
  field_bits_ |= field_bit(id);
}

void Event::set_field(FieldId id, std::string_view value) {
  if (field_bits_ & field_bit(id)) {
    for (Field& f : fields_) {
      if (f.id == id) {
        f.value = store(value);
        return;
      }
    }
  }
  add_field(id, value, FieldOrigin::kExtra);
}

std::optional<std::string_view> Event::payload(FieldId id) const {
  if (!(field_bits_ & field_bit(id))) return std::nullopt;
  for (const Field& f : fields_) {
    if (f.id == id) return view(f.value);
  }
  return std::nullopt;
}

std::optional<std::string_view> Event::payload(std::string_view name) const {
  auto id = find_field(name);
  if (!id) return std::nullopt;
  return payload(*id);
}

void Event::clear() {
  std::string buffer = std::move(buffer_);
  std::vector<Field> fields = std::move(fields_);
  *this = Event();
  buffer_ = std::move(buffer);
  buffer_.clear();
  fields_ = std::move(fields);
  fields_.clear();
}

std::optional<std::string_view> field_value(const Event& e, FieldId id, std::string& scratch) {
  auto number = [&](std::uint64_t n) -> std::string_view {
    scratch = std::to_string(n);
    return scratch;
  };
  auto text = [](std::string_view v) -> std::optional<std::string_view> {
    if (v.empty()) return std::nullopt;
    return v;
  };
  // System ids are interned first, so a range check skips them for payload fields.
  if (id <= fields::kLastSystemField) {
    if (id == fields::EventID) return number(e.event_id);
    if (id == fields::Channel) return text(e.channel());
    if (id == fields::Provider_Name) return text(e.provider_name());
    if (id == fields::Provider_Guid) return text(e.provider_guid());
    if (id == fields::Computer) return text(e.computer());
    if (id == fields::EventRecordID) return number(e.record_id);
    if (id == fields::Level) return number(e.level);
    if (id == fields::Task) return number(e.task);
    if (id == fields::Opcode) return number(e.opcode);
    if (id == fields::Version) return number(e.version);
    if (id == fields::ProcessID) return number(e.process_id);
    if (id == fields::ThreadID) return number(e.thread_id);
    if (id == fields::Security_UserID) return text(e.user_sid());
    if (id == fields::ActivityID) return text(e.activity_id());
    if (id == fields::RelatedActivityID) return text(e.related_activity_id());
    if (id == fields::Message) {
      if (!e.message().empty()) return e.message();
      return e.payload(id);
    }
    if (id == fields::Keywords) {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, e.keywords, 16);
      scratch.assign("0x");
      scratch.append(buf, r.ptr);
      return scratch;
    }
    if (id == fields::TimeCreated) {
      scratch = format_time(e.time_created);
      return scratch;
    }
  }
  return e.payload(id);
}

// --- time ---

namespace {

bool read_digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += n;
  return true;
}

}  // namespace

Ticks now_ticks() {
  using namespace std::chrono;
  return duration_cast<duration<Ticks, std::ratio<1, kTicksPerSecond>>>(
             system_clock::now().time_since_epoch())
      .count();
}

std::string format_time(Ticks t) {
  std::int64_t days = t / (86400 * kTicksPerSecond);
  std::int64_t rem = t % (86400 * kTicksPerSecond);
  if (rem < 0) {
    rem += 86400 * kTicksPerSecond;
    --days;
  }
  const std::chrono::year_month_day date = civil_from_days(days);
  const int y = static_cast<int>(date.year());
  const unsigned m = static_cast<unsigned>(date.month());
  const unsigned d = static_cast<unsigned>(date.day());
  const std::int64_t secs = rem / kTicksPerSecond;
  const std::int64_t frac = rem % kTicksPerSecond;
  if (y < 0 || y > 9999) {  // five digits or a sign: rare enough for snprintf
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%07lldZ", y, m, d,
                  static_cast<long long>(secs / 3600), static_cast<long long>((secs / 60) % 60),
                  static_cast<long long>(secs % 60), static_cast<long long>(frac));
    return buf;
  }
  // The same text written digit by digit: snprintf cost 3,600 instructions a time, and every
  // EVTX record and --events line formats one.
  std::string out(28, '\0');
  char* w = out.data();
  const auto digits = [&w](std::int64_t v, int n) {
    for (int i = n - 1; i >= 0; --i, v /= 10) w[i] = static_cast<char>('0' + v % 10);
    w += n;
  };
  const std::pair<std::int64_t, int> parts[] = {
      {y, 4}, {m, 2}, {d, 2}, {secs / 3600, 2}, {(secs / 60) % 60, 2}, {secs % 60, 2}, {frac, 7}};
  const char after[] = "--T::.Z";
  for (std::size_t i = 0; i < std::size(parts); ++i) {
    digits(parts[i].first, parts[i].second);
    *w++ = after[i];
  }
  return out;
}

namespace {

// The length of "2026-11-02T08:00:": what a TimeReader compares with the time it read last.
constexpr std::size_t kMinuteChars = 17;

// parse_time up to the minute and the ':' after it: the seconds since 1970 at that minute, its
// zone aside, and `pos` at the seconds.
std::optional<std::int64_t> read_minute(std::string_view s, std::size_t& pos) {
  // The last whole year 64-bit ticks (100 ns since 1970) reach: 1970 + 29,227.
  constexpr int kLastYear = 31000;
  pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0;
  // Four digits, or more for the years after 9999 that format_time writes (a FILETIME can reach
  // 30828: "never" in some Windows fields).
  std::size_t year_digits = 0;
  while (pos + year_digits < s.size() && year_digits < 6 && s[pos + year_digits] >= '0' &&
         s[pos + year_digits] <= '9')
    ++year_digits;
  if (year_digits < 4 || !read_digits(s, pos, year_digits, year)) return std::nullopt;
  if (year > kLastYear) return std::nullopt;  // beyond what Ticks hold
  if (pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!read_digits(s, pos, 2, month)) return std::nullopt;
  if (pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!read_digits(s, pos, 2, day)) return std::nullopt;
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != ' ' && s[pos] != 't')) return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, hour)) return std::nullopt;
  if (pos >= s.size() || s[pos++] != ':') return std::nullopt;
  if (!read_digits(s, pos, 2, minute)) return std::nullopt;
  if (pos >= s.size() || s[pos++] != ':') return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59)
    return std::nullopt;
  return seconds_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day), hour,
                            minute, 0);
}

// The rest of parse_time from the seconds on (the seconds, a fraction, a zone): the ticks to add
// to the minute's.
std::optional<Ticks> read_seconds_on(std::string_view s, std::size_t pos) {
  int second = 0;
  if (!read_digits(s, pos, 2, second) || second > 60) return std::nullopt;
  std::int64_t frac = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 7) {
        frac = frac * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 7; ++digits) frac *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (pos < s.size()) {
    const char z = s[pos];
    if (z == 'Z' || z == 'z') {
      ++pos;
    } else if (z == '+' || z == '-') {
      ++pos;
      int oh, om = 0;
      if (!read_digits(s, pos, 2, oh)) return std::nullopt;
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !read_digits(s, pos, 2, om)) return std::nullopt;
      offset_seconds = (oh * 3600 + om * 60) * (z == '+' ? 1 : -1);
    }
  }
  if (pos != s.size()) return std::nullopt;
  return (second - offset_seconds) * kTicksPerSecond + frac;
}

// The time whose minute starts at `minute_ticks` and whose seconds on start at `pos`.
std::optional<Ticks> at_minute(Ticks minute_ticks, std::string_view s, std::size_t pos) {
  const std::optional<Ticks> rest = read_seconds_on(s, pos);
  if (!rest) return std::nullopt;
  return minute_ticks + *rest;
}

}  // namespace

std::optional<Ticks> parse_time(std::string_view s) {
  std::size_t pos = 0;
  const std::optional<std::int64_t> minute = read_minute(s, pos);
  if (!minute) return std::nullopt;
  return at_minute(*minute * kTicksPerSecond, s, pos);
}

std::optional<Ticks> TimeReader::parse(std::string_view s) {
  if (known_ && s.size() > kMinuteChars && std::memcmp(s.data(), minute_, kMinuteChars) == 0)
    return at_minute(minute_ticks_, s, kMinuteChars);
  std::size_t pos = 0;
  const std::optional<std::int64_t> minute = read_minute(s, pos);
  if (!minute) return std::nullopt;
  // Kept only for the usual spelling, whose minute is exactly the first 17 characters.
  if (pos == kMinuteChars) {
    std::memcpy(minute_, s.data(), kMinuteChars);
    minute_ticks_ = *minute * kTicksPerSecond;
    known_ = true;
  }
  return at_minute(*minute * kTicksPerSecond, s, pos);
}

// --- numbers ---

bool is_hex_literal(std::string_view s) {
  if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
  for (std::size_t i = 2; i < s.size(); ++i) {
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

void append_canonical_hex(std::string_view s, std::string& out) {
  if (is_hex_literal(s)) {
    append_canonical_hex_literal(s, out);
  } else {
    out.append(s);
  }
}

std::optional<std::uint64_t> parse_uint(std::string_view s) {
  if (s.empty()) return std::nullopt;
  const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  std::uint64_t v = 0;
  if (!hex && s.size() <= 19) {
    if (read_plain_digits(s, v)) return v;  // every event's id and record id
    return std::nullopt;
  }
  const char* last = s.data() + s.size();
  const auto r = std::from_chars(s.data() + (hex ? 2 : 0), last, v, hex ? 16 : 10);
  if (r.ec != std::errc() || r.ptr != last) return std::nullopt;
  return v;
}

}  // namespace sw
