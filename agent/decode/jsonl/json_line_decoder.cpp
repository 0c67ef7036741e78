// JSON lines -> Event with simdjson: no per-event maps.
//
// Two readers share the code below (templates over the JSON value type). The fast one walks the
// line in place (JsonCursor, json_cursor.hpp): each member is read as it is reached, strings
// without escapes as views of the line, numbers as written. The exact one walks simdjson's
// On-Demand values. A line the fast reader does not read exactly as the exact one would (any
// doubt: invalid JSON, not UTF-8, a key with an escape, half a surrogate pair) or that the decoder
// refuses is read again by the exact one, which gives the errors it always gave. Against simdjson's
// DOM, which it replaced, the cursor reads a Winlogbeat line in 14% less time and an NXLog line in
// 33% less (bench/jsonl_decode_bench; docs/performance.md).
//
// Two shapes, told apart per line:
//  - Winlogbeat / ECS: a "winlog" object (event_id, channel, event_data, user_data, ...), with
//    "@timestamp", "message", "log.level", "host.name" and "event.code" at the top. Other top-level
//    objects (agent, ecs, ...) are ignored, except "sessionwatch", whose members become extras.
//  - NXLog im_msvistalog: flat; "EventID", "Channel", "Hostname", "EventTime", "SourceName", ...
//    are System values, and every other top-level key is an EventData field, in order.
//    NXLog's EventTime ("2021-02-12 12:34:28") carries no zone: NXLog prints the writer's local
//    time unless configured otherwise. It is taken as UTC unless a zone is configured
//    (set_nxlog_time_offset: `scan --nxlog-time-zone`, the file input's `nxlog_time_zone`); an
//    EventTime with a zone is taken as written. See docs/decoding.md.
//
// UTF-8: simdjson validates the whole line before any value is read, so every string it returns is
// valid UTF-8. A line that fails that check is passed through append_sanitized_utf8 (bad bytes
// become U+FFFD) and parsed again.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/field_name_cache.hpp"
#include "core/plain_digits.hpp"
#include "decode/jsonl/json_cursor.hpp"
#include "decode/jsonl/winlog_names.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/text.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw {
namespace {

namespace od = simdjson::ondemand;
using jsonl::CursorValue;
using jsonl::Kind;
using jsonl::NeedsExact;

Kind kind_of(od::value v) {
  switch (v.type()) {
    case od::json_type::object:
      return Kind::kObject;
    case od::json_type::array:
      return Kind::kArray;
    case od::json_type::string:
      return Kind::kString;
    case od::json_type::number:
      return Kind::kNumber;
    case od::json_type::boolean:
      return Kind::kBoolean;
    case od::json_type::null:
      break;
  }
  return Kind::kNull;
}

Kind kind_of(CursorValue v) {
  return v.cursor->kind(v);
}

od::object object_of(od::value v) {
  return v.get_object();
}
CursorValue object_of(CursorValue v) {
  return v;
}

// f(key, value) for each member, in order.
template <typename F>
void each_field(od::object obj, F&& f) {
  for (od::field field : obj) {
    const std::string_view key = field.unescaped_key();
    f(key, field.value());
  }
}
template <typename F>
void each_field(CursorValue obj, F&& f) {
  obj.cursor->each_member(obj, f);
}

template <typename F>
void each_element(od::value v, F&& f) {
  for (auto element : v.get_array()) f(element.value());
}
template <typename F>
void each_element(CursorValue v, F&& f) {
  v.cursor->each_element(v, f);
}

// Nesting below event_data/user_data deeper than this is not a Windows event.
constexpr int kMaxDepth = 32;

// A failure with a reason for the caller, thrown only inside this file.
struct LineError {
  std::string reason;
};

using text::trim;
using text::trim_right;

// Whether a key is `name`: the length first, then a compare of known length, which the compiler
// turns into a few loads. `key == "..."` called string_view::compare out of line for every key of
// matching length, about ten times a line.
template <std::size_t N>
bool is(std::string_view key, const char (&name)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), name, N - 1) == 0;
}

// A time parse_time accepted names its zone after the seconds: 'Z' or an offset.
bool has_zone(std::string_view time) {
  const std::size_t time_of_day = time.find_first_of("Tt ");
  if (time_of_day == std::string_view::npos) return false;
  return time.find_first_of("Zz+-", time_of_day) != std::string_view::npos;
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  // Three numbers a line (event id, record id, event code) are plain digits: read in one pass,
  // without the trim and the general parse below.
  if (read_plain_digits(s, out)) return true;
  s = trim(s);
  // Most text that comes here is a name (a level, a task, an opcode), and no number starts with
  // anything but a digit or a minus sign: neither parse below is tried for it.
  if (s.empty() || !((s[0] >= '0' && s[0] <= '9') || s[0] == '-')) return false;
  if (auto v = parse_uint(s)) {
    out = *v;
    return true;
  }
  // Signed decimal (NXLog prints Keywords as a signed 64-bit number).
  std::int64_t sv = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), sv);
  if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) {
    out = static_cast<std::uint64_t>(sv);
    return true;
  }
  return false;
}

}  // namespace

struct JsonLineDecoder::Impl {
  od::parser parser;
  jsonl::JsonCursor cursor;
  std::string padded;     // the line, copied with padding after it (pad)
  std::string sanitized;  // the line after U+FFFD replacement, when it was not UTF-8
  std::string name;       // dotted name being built while flattening
  FieldNameCache names;
  TimeReader times;  // a log's lines share their minute: read from the seconds on

  // Top-level keys of a line whose shape is not known yet (NXLog payload candidates).
  std::string pending_buf;
  struct Pending {
    std::uint32_t name_off, name_len, value_off, value_len;
  };
  std::vector<Pending> pending;

  Event* out = nullptr;
  bool fast_reader = true;
  std::uint64_t lines_read_again = 0;
  bool has_event_id = false;
  bool winlog_shape = false;
  bool nxlog_shape = false;
  bool has_time_created = false;
  bool has_level = false;
  std::uint8_t nxlog_severity_level = 0;
  std::uint32_t fallback_event_id = 0;
  bool has_fallback_event_id = false;
  std::string_view fallback_computer;
  Ticks nxlog_offset = 0;  // east of UTC, for an EventTime without a zone

  bool decode(std::string_view line, Event& event, std::string& error);

  // --- value helpers ---
  // The value as text: strings unescaped, numbers and booleans as written, null as "".
  std::string_view scalar_text(od::value v) {
    const od::json_type type = v.type();
    switch (type) {
      case od::json_type::string:
        return v.get_string();
      case od::json_type::number:
      case od::json_type::boolean:
        return trim_right(v.raw_json_token());
      case od::json_type::null:
        return {};
      case od::json_type::array: {
        od::array a = v.get_array();
        return trim_right(a.raw_json());
      }
      case od::json_type::object: {
        od::object o = v.get_object();
        return trim_right(o.raw_json());
      }
    }
    return {};
  }

  std::string_view scalar_text(CursorValue v) { return v.cursor->text(v); }

  template <typename V>
  std::uint64_t number_of(V v, std::string_view what) {
    std::uint64_t n = 0;
    if (!parse_u64(scalar_text(v), n)) throw LineError{std::string(what) + " is not a number"};
    return n;
  }

  template <typename T>
  T narrow(std::uint64_t n, std::string_view what) {
    if (n > static_cast<std::uint64_t>(static_cast<T>(~T{0})))
      throw LineError{std::string(what) + " out of range"};
    return static_cast<T>(n);
  }

  template <typename V>
  void set_event_id(V v) {
    out->event_id = narrow<std::uint32_t>(number_of(v, "event id"), "event id");
    has_event_id = true;
  }

  // Numeric when it is a number; Winlogbeat prints task/opcode names, which are not kept.
  template <typename T, typename V>
  void set_if_numeric(V v, T& target, std::string_view what) {
    const std::string_view t = scalar_text(v);
    std::uint64_t n;
    if (!t.empty() && parse_u64(t, n)) target = narrow<T>(n, what);
  }

  void set_level_text(std::string_view t) {
    std::uint64_t n;
    if (parse_u64(t, n)) {
      out->level = narrow<std::uint8_t>(n, "level");
    } else {
      out->level = jsonl::level_from_name(t);
    }
    has_level = true;
  }

  template <typename V>
  void set_keywords(V v) {
    if (kind_of(v) == Kind::kArray) {
      std::uint64_t bits = 0;
      each_element(v, [&](auto element) {
        const std::string_view t = scalar_text(element);
        std::uint64_t n;
        if (is_hex_literal(t) && parse_u64(t, n)) {
          bits |= n;
        } else {
          bits |= jsonl::keyword_from_name(t);
        }
      });
      out->keywords = bits;
      return;
    }
    const std::string_view t = scalar_text(v);
    std::uint64_t n;
    out->keywords = parse_u64(t, n) ? n : jsonl::keyword_from_name(t);
  }

  void set_time(std::string_view t, std::string_view what) {
    auto ticks = times.parse(trim(t));
    if (!ticks)
      throw LineError{std::string(what) + " is not a time: " + std::string(t.substr(0, 64))};
    out->time_created = *ticks;
  }

  // Adds every leaf below `obj` as a field named by its path ("a.b.c"), in order.
  template <typename O>
  void flatten(O obj, std::size_t prefix_len, FieldOrigin origin, int depth, bool user_data_root) {
    if (depth > kMaxDepth) throw LineError{"objects nested deeper than 32 levels"};
    each_field(obj, [&](std::string_view key, auto v) {
      if (user_data_root && is(key, "xml_name")) {
        out->set_user_data_name(scalar_text(v));
        return;
      }
      const bool leaf = kind_of(v) != Kind::kObject;
      if (leaf && prefix_len == 0) {  // most of event_data: the key is the whole name
        out->add_field(names.get(key), scalar_text(v), origin);
        return;
      }
      name.resize(prefix_len);
      if (prefix_len > 0) name.push_back('.');
      name.append(key);
      if (!leaf) {
        flatten(object_of(v), name.size(), origin, depth + 1, false);
        return;
      }
      out->add_field(names.get(name), scalar_text(v), origin);
    });
  }

  // "sessionwatch": {"error_code": "7063", "extra": {"Name": "value"}} -> extras
  // "sessionwatch.error_code" and "Name" (see write_event_json).
  template <typename O>
  void read_extras(O obj) {
    each_field(obj, [&](std::string_view key, auto v) {
      if (is(key, "extra") && kind_of(v) == Kind::kObject) {
        name.clear();
        flatten(object_of(v), 0, FieldOrigin::kExtra, 1, false);
        return;
      }
      name.assign("sessionwatch.");
      name.append(key);
      if (kind_of(v) == Kind::kObject) {
        flatten(object_of(v), name.size(), FieldOrigin::kExtra, 1, false);
      } else {
        out->add_field(names.get(name), scalar_text(v), FieldOrigin::kExtra);
      }
    });
  }

  template <typename O>
  void read_winlog(O winlog);
  template <typename V>
  void read_winlog_member(std::string_view key, V v);
  template <typename V>
  void read_top_level(std::string_view key, V v);
  template <typename V>
  void keep_pending(V v, int depth);
  void reset();
  // The line copied into `padded`, zeros after it: both readers read past a line's end.
  const char* pad(std::string_view line);
  bool parse_fast(std::string_view line);
  void parse_exact(std::string_view line);
};

template <typename O>
void JsonLineDecoder::Impl::read_winlog(O winlog) {
  each_field(winlog, [&](std::string_view key, auto v) { read_winlog_member(key, v); });
}

template <typename V>
void JsonLineDecoder::Impl::read_winlog_member(std::string_view key, V v) {
  if (is(key, "event_id")) {
    set_event_id(v);
  } else if (is(key, "channel")) {
    out->set_channel(scalar_text(v));
  } else if (is(key, "provider_name")) {
    out->set_provider_name(scalar_text(v));
  } else if (is(key, "provider_guid")) {
    out->set_provider_guid(scalar_text(v));
  } else if (is(key, "record_id")) {
    out->record_id = number_of(v, "record id");
  } else if (is(key, "computer_name")) {
    out->set_computer(scalar_text(v));
  } else if (is(key, "event_data")) {
    if (kind_of(v) != Kind::kObject) throw LineError{"winlog.event_data is not an object"};
    name.clear();
    flatten(object_of(v), 0, FieldOrigin::kEventData, 1, false);
  } else if (is(key, "user_data")) {
    if (kind_of(v) != Kind::kObject) throw LineError{"winlog.user_data is not an object"};
    name.clear();
    flatten(object_of(v), 0, FieldOrigin::kUserData, 1, true);
  } else if (is(key, "process")) {
    if (kind_of(v) != Kind::kObject) return;
    each_field(object_of(v), [&](std::string_view pk, auto pv) {
      if (is(pk, "pid")) {
        out->process_id = narrow<std::uint32_t>(number_of(pv, "process id"), "process id");
      } else if (is(pk, "thread") && kind_of(pv) == Kind::kObject) {
        each_field(object_of(pv), [&](std::string_view tk, auto tv) {
          if (is(tk, "id"))
            out->thread_id = narrow<std::uint32_t>(number_of(tv, "thread id"), "thread id");
        });
      }
    });
  } else if (is(key, "activity_id")) {
    out->set_activity_id(scalar_text(v));
  } else if (is(key, "related_activity_id")) {
    out->set_related_activity_id(scalar_text(v));
  } else if (is(key, "user")) {
    if (kind_of(v) != Kind::kObject) return;
    each_field(object_of(v), [&](std::string_view uk, auto uv) {
      if (is(uk, "identifier")) out->set_user_sid(scalar_text(uv));
    });
  } else if (is(key, "version")) {
    set_if_numeric(v, out->version, "version");
  } else if (is(key, "opcode")) {
    set_if_numeric(v, out->opcode, "opcode");
  } else if (is(key, "task")) {
    set_if_numeric(v, out->task, "task");
  } else if (is(key, "keywords")) {
    set_keywords(v);
  } else if (is(key, "time_created")) {
    set_time(scalar_text(v), "winlog.time_created");
    has_time_created = true;
  } else if (is(key, "qualifiers")) {
    out->qualifiers = narrow<std::uint16_t>(number_of(v, "qualifiers"), "qualifiers");
    out->has_qualifiers = true;
  } else if (is(key, "level")) {
    set_level_text(scalar_text(v));
  }
}

template <typename V>
void JsonLineDecoder::Impl::keep_pending(V v, int depth) {
  if (depth > kMaxDepth) throw LineError{"objects nested deeper than 32 levels"};
  if (kind_of(v) == Kind::kObject) {
    const std::size_t base = name.size();
    each_field(object_of(v), [&](std::string_view key, auto member) {
      name.resize(base);
      name.push_back('.');
      name.append(key);
      keep_pending(member, depth + 1);
    });
    return;
  }
  const std::string_view value = scalar_text(v);
  Pending p;
  p.name_off = static_cast<std::uint32_t>(pending_buf.size());
  p.name_len = static_cast<std::uint32_t>(name.size());
  pending_buf.append(name);
  p.value_off = static_cast<std::uint32_t>(pending_buf.size());
  p.value_len = static_cast<std::uint32_t>(value.size());
  pending_buf.append(value);
  pending.push_back(p);
}

template <typename V>
void JsonLineDecoder::Impl::read_top_level(std::string_view key, V v) {
  // Winlogbeat / ECS.
  if (is(key, "winlog")) {
    if (kind_of(v) != Kind::kObject) throw LineError{"winlog is not an object"};
    winlog_shape = true;
    read_winlog(object_of(v));
    return;
  }
  if (is(key, "@timestamp")) {
    winlog_shape = true;
    if (!has_time_created) set_time(scalar_text(v), "@timestamp");
    return;
  }
  if (is(key, "message")) {
    out->set_message(scalar_text(v));
    return;
  }
  if (kind_of(v) == Kind::kObject && (is(key, "event") || is(key, "host") || is(key, "log"))) {
    each_field(object_of(v), [&](std::string_view k, auto member) {
      if (is(key, "event") && is(k, "code")) {
        // Other ECS producers put non-numeric codes here; only a number is an event id.
        std::uint64_t code = 0;
        if (parse_u64(scalar_text(member), code) && code <= 0xFFFFFFFFu) {
          fallback_event_id = static_cast<std::uint32_t>(code);
          has_fallback_event_id = true;
        }
      } else if (is(key, "host") && is(k, "name")) {
        const std::string_view host = scalar_text(member);
        if (out->computer().empty()) out->set_computer(host);
      } else if (is(key, "log") && is(k, "level")) {
        set_level_text(scalar_text(member));
      }
    });
    return;
  }
  if (is(key, "sessionwatch") && kind_of(v) == Kind::kObject) {
    read_extras(object_of(v));
    return;
  }
  // NXLog im_msvistalog.
  if (!winlog_shape) {
    if (is(key, "EventID")) {
      nxlog_shape = true;
      set_event_id(v);
      return;
    }
    if (is(key, "Channel")) return out->set_channel(scalar_text(v));
    if (is(key, "Hostname")) return out->set_computer(scalar_text(v));
    if (is(key, "SourceName")) return out->set_provider_name(scalar_text(v));
    if (is(key, "ProviderGuid")) return out->set_provider_guid(scalar_text(v));
    if (is(key, "Message")) return out->set_message(scalar_text(v));
    if (is(key, "EventTime")) {
      const std::string_view t = scalar_text(v);
      set_time(t, "EventTime");
      if (!has_zone(trim(t))) out->time_created -= nxlog_offset;
      return;
    }
    if (is(key, "RecordNumber")) {
      out->record_id = number_of(v, "RecordNumber");
      return;
    }
    if (is(key, "Keywords")) return set_keywords(v);
    if (is(key, "Version")) return set_if_numeric(v, out->version, "Version");
    if (is(key, "Task")) return set_if_numeric(v, out->task, "Task");
    if (is(key, "OpcodeValue")) return set_if_numeric(v, out->opcode, "OpcodeValue");
    if (is(key, "ExecutionProcessID")) return set_if_numeric(v, out->process_id, "process id");
    if (is(key, "ExecutionThreadID")) return set_if_numeric(v, out->thread_id, "thread id");
    if (is(key, "ActivityID")) return out->set_activity_id(scalar_text(v));
    if (is(key, "RelatedActivityID")) return out->set_related_activity_id(scalar_text(v));
    if (is(key, "UserID")) return out->set_user_sid(scalar_text(v));
    if (is(key, "Level")) return set_level_text(scalar_text(v));
    if (is(key, "Qualifiers")) {
      out->qualifiers = narrow<std::uint16_t>(number_of(v, "Qualifiers"), "Qualifiers");
      out->has_qualifiers = true;
      return;
    }
    if (is(key, "SeverityValue")) {
      // NXLog's own scale (1 debug .. 5 critical), used only when the line has no Level.
      std::uint64_t s = 0;
      if (parse_u64(scalar_text(v), s) && s >= 1 && s <= 5)
        nxlog_severity_level = static_cast<std::uint8_t>(6 - s);
      return;
    }
    // System values NXLog derives or adds; not event data.
    static constexpr std::string_view kNxlogSystem[] = {
        "EventType",        "Severity",         "Opcode",           "Category",
        "Domain",           "AccountName",      "AccountType",      "EventReceivedTime",
        "SourceModuleName", "SourceModuleType", "EventTimeWritten", "ERRORMSG"};
    for (auto k : kNxlogSystem)
      if (key == k) return;
    name.assign(key);
    keep_pending(v, 1);
  }
}

void JsonLineDecoder::Impl::reset() {
  out->clear();
  has_event_id = winlog_shape = nxlog_shape = has_time_created = has_level = false;
  has_fallback_event_id = false;
  nxlog_severity_level = 0;
  pending.clear();
  pending_buf.clear();
}

const char* JsonLineDecoder::Impl::pad(std::string_view line) {
  // Zeros, not what a longer line before left: on a malformed line On-Demand's answer can depend
  // on the padding's bytes (the same line gave another error after another line; found by fuzzing
  // the readers against each other), and the cursor stops its scans at a 0.
  constexpr std::size_t kPadding =
      std::max<std::size_t>(jsonl::JsonCursor::kPadding, simdjson::SIMDJSON_PADDING);
  padded.resize(line.size() + kPadding);
  std::memcpy(padded.data(), line.data(), line.size());
  std::memset(padded.data() + line.size(), 0, kPadding);
  return padded.data();
}

bool JsonLineDecoder::Impl::parse_fast(std::string_view line) {
  try {
    const CursorValue root = cursor.start(pad(line), line.size());
    each_field(root, [&](std::string_view key, CursorValue v) { read_top_level(key, v); });
    return cursor.at_end();
  } catch (const NeedsExact&) {
    return false;
  } catch (const LineError&) {
    return false;  // the exact reader finds it again, with the text it always gave
  }
}

void JsonLineDecoder::Impl::parse_exact(std::string_view line) {
  const char* text = pad(line);  // before padded.size() is read: arguments have no order
  od::document doc = parser.iterate(text, line.size(), padded.size());
  od::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS)
    throw LineError{"not a JSON object (one object per line expected)"};
  each_field(obj, [&](std::string_view key, od::value v) { read_top_level(key, v); });
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS)
    throw LineError{"content after the JSON object"};
}

bool JsonLineDecoder::Impl::decode(std::string_view line, Event& event, std::string& error) {
  out = &event;
  reset();

  line = trim(line);
  if (line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  if (line.empty()) {
    error = "empty line";
    return false;
  }
  if (line.size() > 0xFFFFFFFFu / 2) {
    error = "line too long";
    return false;
  }
  try {
    if (!fast_reader || !parse_fast(line)) {
      if (fast_reader) ++lines_read_again;
      reset();
      try {
        parse_exact(line);
      } catch (const simdjson::simdjson_error& e) {
        if (e.error() != simdjson::UTF8_ERROR) throw;
        // Not UTF-8: replace the bad bytes and read it again.
        sanitized.clear();
        append_sanitized_utf8(line, sanitized);
        reset();
        parse_exact(sanitized);
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    error = std::string("invalid JSON: ") + e.what();
    return false;
  } catch (const LineError& e) {
    error = e.reason;
    return false;
  } catch (const std::bad_alloc&) {
    error = "line too large to decode";
    return false;
  }

  if (!has_event_id && has_fallback_event_id) {
    event.event_id = fallback_event_id;
    has_event_id = true;
  }
  if (!has_event_id) {
    error = "no event id (winlog.event_id, event.code or EventID)";
    return false;
  }
  if (!has_level && nxlog_severity_level != 0) event.level = nxlog_severity_level;
  if (!winlog_shape) {
    for (const Pending& p : pending) {
      const std::string_view n(pending_buf.data() + p.name_off, p.name_len);
      const std::string_view v(pending_buf.data() + p.value_off, p.value_len);
      event.add_field(names.get(n), v, FieldOrigin::kEventData);
    }
  }
  return true;
}

JsonLineDecoder::JsonLineDecoder() : impl_(std::make_unique<Impl>()) {}
JsonLineDecoder::~JsonLineDecoder() = default;
JsonLineDecoder::JsonLineDecoder(JsonLineDecoder&&) noexcept = default;
JsonLineDecoder& JsonLineDecoder::operator=(JsonLineDecoder&&) noexcept = default;

bool JsonLineDecoder::decode(std::string_view line, Event& out, std::string& error) {
  return impl_->decode(line, out, error);
}

void JsonLineDecoder::use_fast_reader(bool on) {
  impl_->fast_reader = on;
}

std::uint64_t JsonLineDecoder::lines_read_again() const {
  return impl_->lines_read_again;
}

void JsonLineDecoder::set_nxlog_time_offset(int minutes) {
  impl_->nxlog_offset = Ticks{minutes} * 60 * kTicksPerSecond;
}

}  // namespace sw
