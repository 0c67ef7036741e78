// Event -> one Winlogbeat/ECS-shaped JSON object that JsonLineDecoder reads back to the same Event.
//
// Shape (members with a zero/empty value are left out):
//   {"@timestamp": full precision, "message", "log":{"level": name or number},
//    "event":{"code": event id}, "host":{"name": computer},
//    "winlog":{"event_id", "channel", "provider_name", "provider_guid", "record_id",
//              "computer_name", "time_created", "version", "task", "opcode" (numbers: the names
//              Winlogbeat prints are not known here), "keywords": [names of standard bits, then
//              the other bits as one hex string], "qualifiers" (sessionwatch's addition),
//              "process":{"pid", "thread":{"id"}}, "activity_id", "related_activity_id",
//              "user":{"identifier"}, "event_data":{...}, "user_data":{"xml_name", ...}},
//    "sessionwatch":{extras}}
// Payload fields keep their names verbatim (dotted names stay flat keys). Extras named
// "sessionwatch.X" are written as sessionwatch.X; other extras go under sessionwatch.extra.
// Field order is kept within event_data, user_data, sessionwatch and sessionwatch.extra.
// Event::origin and source_offset describe where the event was read, not the event; not written.
#include <charconv>
#include <cstdint>
#include <cstring>

#include "decode/jsonl/winlog_names.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/json_escape.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw {
namespace {

constexpr std::string_view kExtraPrefix = "sessionwatch.";

// Decoders hand over valid UTF-8; anything else is repaired here (one U+FFFD per invalid byte).
void append_escaped(std::string_view s, std::string& out) {
  if (has_invalid_utf8(s)) {
    std::string repaired;
    append_sanitized_utf8(s, repaired);
    append_json_escaped(repaired, out);
    return;
  }
  append_json_escaped(s, out);
}

void append_string(std::string_view s, std::string& out) {
  out += '"';
  append_escaped(s, out);
  out += '"';
}

void append_number(std::uint64_t n, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

// Writes `"key":` with the separator its position needs.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void key(std::string_view k) {
    out_.append(first_ ? "\"" : ",\"", first_ ? 1 : 2);
    first_ = false;
    append_escaped(k, out_);
    out_.append("\":", 2);
  }
  void string(std::string_view k, std::string_view v) {
    key(k);
    append_string(v, out_);
  }
  void string_if(std::string_view k, std::string_view v) {
    if (!v.empty()) string(k, v);
  }
  void number_as_string(std::string_view k, std::uint64_t v) {
    key(k);
    out_.push_back('"');
    append_number(v, out_);
    out_.push_back('"');
  }
  void number_if(std::string_view k, std::uint64_t v) {
    if (v == 0) return;
    key(k);
    append_number(v, out_);
  }
  void close() { out_.push_back('}'); }
  std::string& out() { return out_; }

 private:
  std::string& out_;
  bool first_ = true;
};

void write_fields(const Event& e, FieldOrigin origin, ObjectWriter& w) {
  for (const Field& f : e.fields())
    if (f.origin == origin) w.string(field_name(f.id), e.value(f));
}

bool has_origin(const Event& e, FieldOrigin origin) {
  for (const Field& f : e.fields())
    if (f.origin == origin) return true;
  return false;
}

}  // namespace

void write_event_json(const Event& e, std::string& out) {
  out.reserve(out.size() + e.buffer_size() + 64 * e.fields().size() + 512);
  const std::string time = format_time(e.time_created);
  ObjectWriter top(out);
  top.string("@timestamp", time);
  top.string_if("message", e.message());
  if (e.level != 0) {
    top.key("log");
    ObjectWriter log(out);
    if (e.level < jsonl::kLevelNames.size()) {
      log.string("level", jsonl::kLevelNames[e.level]);
    } else {
      log.number_as_string("level", e.level);
    }
    log.close();
  }
  {
    top.key("event");
    ObjectWriter event(out);
    event.number_as_string("code", e.event_id);
    event.close();
  }
  if (!e.computer().empty()) {
    top.key("host");
    ObjectWriter host(out);
    host.string("name", e.computer());
    host.close();
  }

  top.key("winlog");
  ObjectWriter w(out);
  w.number_as_string("event_id", e.event_id);
  w.string_if("channel", e.channel());
  w.string_if("provider_name", e.provider_name());
  w.string_if("provider_guid", e.provider_guid());
  if (e.record_id != 0) w.number_as_string("record_id", e.record_id);
  w.string_if("computer_name", e.computer());
  w.string("time_created", time);
  w.number_if("version", e.version);
  w.number_if("task", e.task);
  w.number_if("opcode", e.opcode);
  if (e.keywords != 0) {
    w.key("keywords");
    out.push_back('[');
    std::uint64_t rest = e.keywords;
    bool first = true;
    for (const auto& k : jsonl::kKeywordNames) {
      if ((rest & k.bit) == 0) continue;
      if (!first) out.push_back(',');
      first = false;
      append_string(k.name, out);
      rest &= ~k.bit;
    }
    if (rest != 0) {
      if (!first) out.push_back(',');
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, rest, 16);
      out.append("\"0x");
      out.append(buf, r.ptr);
      out.push_back('"');
    }
    out.push_back(']');
  }
  if (e.has_qualifiers) {
    w.key("qualifiers");
    append_number(e.qualifiers, out);
  }
  if (e.process_id != 0 || e.thread_id != 0) {
    w.key("process");
    ObjectWriter p(out);
    p.number_if("pid", e.process_id);
    if (e.thread_id != 0) {
      p.key("thread");
      ObjectWriter t(out);
      t.number_if("id", e.thread_id);
      t.close();
    }
    p.close();
  }
  w.string_if("activity_id", e.activity_id());
  w.string_if("related_activity_id", e.related_activity_id());
  if (!e.user_sid().empty()) {
    w.key("user");
    ObjectWriter u(out);
    u.string("identifier", e.user_sid());
    u.close();
  }
  if (has_origin(e, FieldOrigin::kEventData)) {
    w.key("event_data");
    ObjectWriter d(out);
    write_fields(e, FieldOrigin::kEventData, d);
    d.close();
  }
  if (!e.user_data_name().empty() || has_origin(e, FieldOrigin::kUserData)) {
    w.key("user_data");
    ObjectWriter d(out);
    write_fields(e, FieldOrigin::kUserData, d);
    d.string_if("xml_name", e.user_data_name());
    d.close();
  }
  w.close();

  if (has_origin(e, FieldOrigin::kExtra)) {
    top.key("sessionwatch");
    ObjectWriter s(out);
    bool other = false;
    for (const Field& f : e.fields()) {
      if (f.origin != FieldOrigin::kExtra) continue;
      const std::string_view name = field_name(f.id);
      if (name.substr(0, kExtraPrefix.size()) == kExtraPrefix) {
        s.string(name.substr(kExtraPrefix.size()), e.value(f));
      } else {
        other = true;
      }
    }
    if (other) {
      s.key("extra");
      ObjectWriter x(out);
      for (const Field& f : e.fields()) {
        if (f.origin != FieldOrigin::kExtra) continue;
        const std::string_view name = field_name(f.id);
        if (name.substr(0, kExtraPrefix.size()) != kExtraPrefix) x.string(name, e.value(f));
      }
      x.close();
    }
    s.close();
  }
  top.close();
}

}  // namespace sw
