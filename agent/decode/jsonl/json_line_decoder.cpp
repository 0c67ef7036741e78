// JSON lines -> Event with simdjson On-Demand: one pass over the line, no DOM, no per-event maps.
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

#include <charconv>
#include <cstring>

#include "core/field_name_cache.hpp"
#include "decode/jsonl/winlog_names.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/text.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw {
namespace {

namespace od = simdjson::ondemand;

// Nesting below event_data/user_data deeper than this is not a Windows event.
constexpr int kMaxDepth = 32;

// A failure with a reason for the caller, thrown only inside this file.
struct LineError {
  std::string reason;
};

using text::trim;
using text::trim_right;

// A time parse_time accepted names its zone after the seconds: 'Z' or an offset.
bool has_zone(std::string_view time) {
  const std::size_t time_of_day = time.find_first_of("Tt ");
  if (time_of_day == std::string_view::npos) return false;
  return time.find_first_of("Zz+-", time_of_day) != std::string_view::npos;
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  s = trim(s);
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
  std::string padded;     // the line, copied with simdjson's padding after it
  std::string sanitized;  // the line after U+FFFD replacement, when it was not UTF-8
  std::string name;       // dotted name being built while flattening
  std::string text;       // scalar rendered as text
  FieldNameCache names;

  // Top-level keys of a line whose shape is not known yet (NXLog payload candidates).
  std::string pending_buf;
  struct Pending {
    std::uint32_t name_off, name_len, value_off, value_len;
  };
  std::vector<Pending> pending;

  Event* out = nullptr;
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
  void parse(std::string_view line);

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

  std::uint64_t number_of(od::value v, std::string_view what) {
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

  void set_event_id(od::value v) {
    out->event_id = narrow<std::uint32_t>(number_of(v, "event id"), "event id");
    has_event_id = true;
  }

  // Numeric when it is a number; Winlogbeat prints task/opcode names, which are not kept.
  template <typename T>
  void set_if_numeric(od::value v, T& target, std::string_view what) {
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

  void set_keywords(od::value v) {
    if (v.type() == od::json_type::array) {
      std::uint64_t bits = 0;
      for (auto element : v.get_array()) {
        const std::string_view t = scalar_text(element.value());
        std::uint64_t n;
        if (is_hex_literal(t) && parse_u64(t, n)) {
          bits |= n;
        } else {
          bits |= jsonl::keyword_from_name(t);
        }
      }
      out->keywords = bits;
      return;
    }
    const std::string_view t = scalar_text(v);
    std::uint64_t n;
    out->keywords = parse_u64(t, n) ? n : jsonl::keyword_from_name(t);
  }

  void set_time(std::string_view t, std::string_view what) {
    auto ticks = parse_time(trim(t));
    if (!ticks)
      throw LineError{std::string(what) + " is not a time: " + std::string(t.substr(0, 64))};
    out->time_created = *ticks;
  }

  // Adds every leaf below `obj` as a field named by its path ("a.b.c"), in order.
  void flatten(od::object obj, std::size_t prefix_len, FieldOrigin origin, int depth,
               bool user_data_root) {
    if (depth > kMaxDepth) throw LineError{"objects nested deeper than 32 levels"};
    for (od::field f : obj) {
      const std::string_view key = f.unescaped_key();
      od::value v = f.value();
      if (user_data_root && key == "xml_name") {
        out->set_user_data_name(scalar_text(v));
        continue;
      }
      name.resize(prefix_len);
      if (prefix_len > 0) name.push_back('.');
      name.append(key);
      if (v.type() == od::json_type::object) {
        flatten(v.get_object(), name.size(), origin, depth + 1, false);
        continue;
      }
      out->add_field(names.get(name), scalar_text(v), origin);
    }
  }

  // "sessionwatch": {"error_code": "7063", "extra": {"Name": "value"}} -> extras
  // "sessionwatch.error_code" and "Name" (see write_event_json).
  void read_extras(od::object obj) {
    for (od::field f : obj) {
      const std::string_view key = f.unescaped_key();
      od::value v = f.value();
      if (key == "extra" && v.type() == od::json_type::object) {
        name.clear();
        flatten(v.get_object(), 0, FieldOrigin::kExtra, 1, false);
        continue;
      }
      name.assign("sessionwatch.");
      name.append(key);
      if (v.type() == od::json_type::object) {
        flatten(v.get_object(), name.size(), FieldOrigin::kExtra, 1, false);
      } else {
        out->add_field(names.get(name), scalar_text(v), FieldOrigin::kExtra);
      }
    }
  }

  void read_winlog(od::object winlog);
  void read_top_level(std::string_view key, od::value v);
  void keep_pending(od::value v, int depth);
};

void JsonLineDecoder::Impl::read_winlog(od::object winlog) {
  for (od::field f : winlog) {
    const std::string_view key = f.unescaped_key();
    od::value v = f.value();
    if (key == "event_id") {
      set_event_id(v);
    } else if (key == "channel") {
      out->set_channel(scalar_text(v));
    } else if (key == "provider_name") {
      out->set_provider_name(scalar_text(v));
    } else if (key == "provider_guid") {
      out->set_provider_guid(scalar_text(v));
    } else if (key == "record_id") {
      out->record_id = number_of(v, "record id");
    } else if (key == "computer_name") {
      out->set_computer(scalar_text(v));
    } else if (key == "event_data") {
      if (v.type() != od::json_type::object) throw LineError{"winlog.event_data is not an object"};
      name.clear();
      flatten(v.get_object(), 0, FieldOrigin::kEventData, 1, false);
    } else if (key == "user_data") {
      if (v.type() != od::json_type::object) throw LineError{"winlog.user_data is not an object"};
      name.clear();
      flatten(v.get_object(), 0, FieldOrigin::kUserData, 1, true);
    } else if (key == "process") {
      if (v.type() != od::json_type::object) continue;
      for (od::field pf : v.get_object()) {
        const std::string_view pk = pf.unescaped_key();
        od::value pv = pf.value();
        if (pk == "pid") {
          out->process_id = narrow<std::uint32_t>(number_of(pv, "process id"), "process id");
        } else if (pk == "thread" && pv.type() == od::json_type::object) {
          for (od::field tf : pv.get_object()) {
            if (tf.unescaped_key().value() == "id")
              out->thread_id =
                  narrow<std::uint32_t>(number_of(tf.value(), "thread id"), "thread id");
          }
        }
      }
    } else if (key == "activity_id") {
      out->set_activity_id(scalar_text(v));
    } else if (key == "related_activity_id") {
      out->set_related_activity_id(scalar_text(v));
    } else if (key == "user") {
      if (v.type() != od::json_type::object) continue;
      for (od::field uf : v.get_object()) {
        if (uf.unescaped_key().value() == "identifier") out->set_user_sid(scalar_text(uf.value()));
      }
    } else if (key == "version") {
      set_if_numeric(v, out->version, "version");
    } else if (key == "opcode") {
      set_if_numeric(v, out->opcode, "opcode");
    } else if (key == "task") {
      set_if_numeric(v, out->task, "task");
    } else if (key == "keywords") {
      set_keywords(v);
    } else if (key == "time_created") {
      set_time(scalar_text(v), "winlog.time_created");
      has_time_created = true;
    } else if (key == "qualifiers") {
      out->qualifiers = narrow<std::uint16_t>(number_of(v, "qualifiers"), "qualifiers");
      out->has_qualifiers = true;
    } else if (key == "level") {
      set_level_text(scalar_text(v));
    }
  }
}

void JsonLineDecoder::Impl::keep_pending(od::value v, int depth) {
  if (depth > kMaxDepth) throw LineError{"objects nested deeper than 32 levels"};
  if (v.type() == od::json_type::object) {
    const std::size_t base = name.size();
    for (od::field f : v.get_object()) {
      name.resize(base);
      name.push_back('.');
      name.append(f.unescaped_key().value());
      keep_pending(f.value(), depth + 1);
    }
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

void JsonLineDecoder::Impl::read_top_level(std::string_view key, od::value v) {
  // Winlogbeat / ECS.
  if (key == "winlog") {
    if (v.type() != od::json_type::object) throw LineError{"winlog is not an object"};
    winlog_shape = true;
    read_winlog(v.get_object());
    return;
  }
  if (key == "@timestamp") {
    winlog_shape = true;
    if (!has_time_created) set_time(scalar_text(v), "@timestamp");
    return;
  }
  if (key == "message") {
    out->set_message(scalar_text(v));
    return;
  }
  if (v.type() == od::json_type::object && (key == "event" || key == "host" || key == "log")) {
    for (od::field f : v.get_object()) {
      const std::string_view k = f.unescaped_key();
      if (key == "event" && k == "code") {
        // Other ECS producers put non-numeric codes here; only a number is an event id.
        std::uint64_t code = 0;
        if (parse_u64(scalar_text(f.value()), code) && code <= 0xFFFFFFFFu) {
          fallback_event_id = static_cast<std::uint32_t>(code);
          has_fallback_event_id = true;
        }
      } else if (key == "host" && k == "name") {
        const std::string_view host = scalar_text(f.value());
        if (out->computer().empty()) out->set_computer(host);
      } else if (key == "log" && k == "level") {
        set_level_text(scalar_text(f.value()));
      }
    }
    return;
  }
  if (key == "sessionwatch" && v.type() == od::json_type::object) {
    read_extras(v.get_object());
    return;
  }
  // NXLog im_msvistalog.
  if (!winlog_shape) {
    if (key == "EventID") {
      nxlog_shape = true;
      set_event_id(v);
      return;
    }
    if (key == "Channel") return out->set_channel(scalar_text(v));
    if (key == "Hostname") return out->set_computer(scalar_text(v));
    if (key == "SourceName") return out->set_provider_name(scalar_text(v));
    if (key == "ProviderGuid") return out->set_provider_guid(scalar_text(v));
    if (key == "Message") return out->set_message(scalar_text(v));
    if (key == "EventTime") {
      const std::string_view t = scalar_text(v);
      set_time(t, "EventTime");
      if (!has_zone(trim(t))) out->time_created -= nxlog_offset;
      return;
    }
    if (key == "RecordNumber") {
      out->record_id = number_of(v, "RecordNumber");
      return;
    }
    if (key == "Keywords") return set_keywords(v);
    if (key == "Version") return set_if_numeric(v, out->version, "Version");
    if (key == "Task") return set_if_numeric(v, out->task, "Task");
    if (key == "OpcodeValue") return set_if_numeric(v, out->opcode, "OpcodeValue");
    if (key == "ExecutionProcessID") return set_if_numeric(v, out->process_id, "process id");
    if (key == "ExecutionThreadID") return set_if_numeric(v, out->thread_id, "thread id");
    if (key == "ActivityID") return out->set_activity_id(scalar_text(v));
    if (key == "RelatedActivityID") return out->set_related_activity_id(scalar_text(v));
    if (key == "UserID") return out->set_user_sid(scalar_text(v));
    if (key == "Level") return set_level_text(scalar_text(v));
    if (key == "Qualifiers") {
      out->qualifiers = narrow<std::uint16_t>(number_of(v, "Qualifiers"), "Qualifiers");
      out->has_qualifiers = true;
      return;
    }
    if (key == "SeverityValue") {
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

void JsonLineDecoder::Impl::parse(std::string_view line) {
  padded.resize(line.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded.data(), line.data(), line.size());
  od::document doc = parser.iterate(padded.data(), line.size(), padded.size());
  od::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS)
    throw LineError{"not a JSON object (one object per line expected)"};
  for (od::field f : obj) {
    read_top_level(f.unescaped_key(), f.value());
  }
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS)
    throw LineError{"content after the JSON object"};
}

bool JsonLineDecoder::Impl::decode(std::string_view line, Event& event, std::string& error) {
  event.clear();
  out = &event;
  has_event_id = winlog_shape = nxlog_shape = has_time_created = has_level = false;
  has_fallback_event_id = false;
  nxlog_severity_level = 0;
  pending.clear();
  pending_buf.clear();

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
    try {
      parse(line);
    } catch (const simdjson::simdjson_error& e) {
      if (e.error() != simdjson::UTF8_ERROR) throw;
      // Not UTF-8: replace the bad bytes and read it again.
      sanitized.clear();
      append_sanitized_utf8(line, sanitized);
      event.clear();
      has_event_id = winlog_shape = nxlog_shape = has_time_created = has_level = false;
      has_fallback_event_id = false;
      pending.clear();
      pending_buf.clear();
      parse(sanitized);
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

void JsonLineDecoder::set_nxlog_time_offset(int minutes) {
  impl_->nxlog_offset = Ticks{minutes} * 60 * kTicksPerSecond;
}

}  // namespace sw
