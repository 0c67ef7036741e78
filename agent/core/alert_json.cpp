// The alert's JSON document, written straight from the struct: the typed members merged with
// the extras in key order, with bulk appends (no tree is built, nothing per field is allocated).
#include "sessionwatch/alert_json.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>
#include <limits>

#include "sessionwatch/json_escape.hpp"

namespace sw {

namespace {

using nlohmann::json;

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
void append_json_string(std::string_view s, Appender& out) {
  if (has_invalid_utf8(s)) {
    out += json_string(s);
    return;
  }
  out.push_back('"');
  append_json_escaped(s, out);
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

// One JSON object whose members come from two places: the typed members, named by the caller in
// key order, and an extras object (nlohmann's object is a std::map: also in key order). Both are
// written merged, as the one document they describe; a typed member hides an extras member of
// the same key.
class MergedObject {
 public:
  MergedObject(Appender& out, const json* extras) : out_(out) {
    out_.push_back('{');
    if (extras && extras->is_object()) {
      const auto& members = extras->get_ref<const json::object_t&>();
      next_ = members.begin();
      end_ = members.end();
    }
  }
  ~MergedObject() {
    extras_before({});
    out_.push_back('}');
  }
  MergedObject(const MergedObject&) = delete;
  MergedObject& operator=(const MergedObject&) = delete;

  void text(std::string_view key, std::string_view value) {
    begin_member(key);
    append_json_string(value, out_);
  }
  void nullable(std::string_view key, const NullableText& value) {
    begin_member(key);
    if (value) {
      append_json_string(*value, out_);
    } else {
      out_.append("null");
    }
  }
  void number(std::string_view key, std::optional<std::uint64_t> value) {
    begin_member(key);
    if (!value) {
      out_.append("null");
      return;
    }
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, *value);
    out_.append(buf, static_cast<std::size_t>(r.ptr - buf));
  }
  // A nested object: the members `fill` writes merged with the extras' object of that key.
  // Written when `typed` (the alert has the typed part) or the extras have the key.
  template <typename Fill>
  void object(std::string_view key, bool typed, Fill&& fill) {
    const json* extras = extras_before(key);
    if (!typed && !extras) return;
    write_key(key);
    MergedObject inner(out_, extras);
    if (typed) fill(inner);
  }

 private:
  void begin_member(std::string_view key) {
    extras_before(key);
    write_key(key);
  }
  void write_key(std::string_view key) {
    assert(key > last_key_ || first_);
    last_key_ = key;
    if (!first_) out_.push_back(',');
    first_ = false;
    append_json_string(key, out_);
    out_.push_back(':');
  }
  // Writes the extras' members that sort before `key` (all of them for an empty key) and
  // returns the one named `key`, if any, skipping it.
  const json* extras_before(std::string_view key) {
    for (; next_ != end_ && (key.empty() || std::string_view(next_->first) < key); ++next_) {
      write_key(next_->first);
      append_json_value(next_->second, out_);
    }
    if (next_ != end_ && std::string_view(next_->first) == key) return &(next_++)->second;
    return nullptr;
  }

  Appender& out_;
  json::object_t::const_iterator next_{}, end_{};
  bool first_ = true;
  std::string_view last_key_;
};

void write_event(const Alert& a, MergedObject& event) {
  if (!a.event_code.empty()) event.text("code", a.event_code);
  if (!a.created.empty()) event.text("created", a.created);
  event.text("id", a.id);
}

void write_console(const AlertConsole& c, MergedObject& console) {
  console.nullable("domain", c.domain);
  console.number("session_id", c.session_id);
  console.nullable("since", c.since);
  console.nullable("state", c.state);
  console.nullable("user", c.user);
}

void write_attempt(const AlertAttempt& at, MergedObject& attempt) {
  attempt.nullable("address", at.address);
  attempt.nullable("domain", at.domain);
  attempt.nullable("user", at.user);
}

void write_sessionwatch(const Alert& a, MergedObject& sw) {
  sw.object("attempt", a.attempt.has_value(),
            [&](MergedObject& o) { write_attempt(*a.attempt, o); });
  sw.object("console", a.console.has_value(),
            [&](MergedObject& o) { write_console(*a.console, o); });
  if (!a.detection.empty()) sw.text("detection", a.detection);
  sw.object("error", a.error_code.has_value(),
            [&](MergedObject& o) { o.number("code", *a.error_code); });
  sw.object("rule", true, [&](MergedObject& o) { o.text("level", to_string(a.level)); });
}

void write_source(const AlertSource& s, MergedObject& source) {
  source.text("address", s.address);
  if (!s.ip.empty()) source.text("ip", s.ip);
  if (s.port) source.number("port", *s.port);
}

void write_document(const Alert& a, Appender& out) {
  MergedObject doc(out, &a.extras);
  doc.text("@timestamp", format_time(a.time));
  doc.object("event", true, [&](MergedObject& o) { write_event(a, o); });
  doc.object("host", !a.host.empty(), [&](MergedObject& o) { o.text("name", a.host); });
  if (!a.message.empty()) doc.text("message", a.message);
  doc.object("rule", true, [&](MergedObject& o) {
    o.text("id", a.rule_id);
    o.text("name", a.rule_name);
  });
  doc.object("sessionwatch", true, [&](MergedObject& o) { write_sessionwatch(a, o); });
  doc.object("source", a.source.has_value(), [&](MergedObject& o) { write_source(*a.source, o); });
  doc.object("user", a.user.has_value(), [&](MergedObject& o) {
    o.nullable("domain", a.user->domain);
    o.text("name", a.user->name);
  });
}

// ---- Reading a document back ----

// Takes the member `key` out of `object` when `accept` says its value is of the typed kind;
// a value of another kind stays in the extras, where the writer still finds it.
template <typename Accept>
std::optional<json> take(json& object, const char* key, Accept accept) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || !accept(*it)) return {};
  json value = std::move(*it);
  object.erase(it);
  return value;
}

bool is_text(const json& j) {
  return j.is_string();
}
bool is_text_or_null(const json& j) {
  return j.is_string() || j.is_null();
}

std::string take_text(json& object, const char* key) {
  auto v = take(object, key, is_text);
  return v ? v->get<std::string>() : std::string();
}

NullableText take_nullable(json& object, const char* key) {
  auto v = take(object, key, is_text_or_null);
  if (!v || v->is_null()) return std::nullopt;
  return v->get<std::string>();
}

template <typename Number>
std::optional<Number> take_number(json& object, const char* key) {
  auto v = take(object, key, [](const json& j) {
    return j.is_number_unsigned() && j.get<std::uint64_t>() <= std::numeric_limits<Number>::max();
  });
  if (!v) return std::nullopt;
  return static_cast<Number>(v->template get<std::uint64_t>());
}

// The object at `key`, or nullptr when there is none.
json* child(json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

// An object the typed members were all taken out of is no part of the extras.
void drop_if_empty(json& object, const char* key) {
  if (json* c = child(object, key); c && c->empty()) object.erase(key);
}

void read_sessionwatch(json& sw, Alert& a) {
  if (json* at = child(sw, "attempt")) {
    a.attempt = AlertAttempt{take_nullable(*at, "user"), take_nullable(*at, "domain"),
                             take_nullable(*at, "address")};
  }
  if (json* c = child(sw, "console")) {
    AlertConsole console;
    console.user = take_nullable(*c, "user");
    console.domain = take_nullable(*c, "domain");
    if (auto id = take(*c, "session_id", [](const json& j) { return j.is_null(); }); !id)
      console.session_id = take_number<std::uint32_t>(*c, "session_id");
    console.state = take_nullable(*c, "state");
    console.since = take_nullable(*c, "since");
    a.console = std::move(console);
  }
  a.detection = take_text(sw, "detection");
  if (json* e = child(sw, "error")) a.error_code = take_number<std::uint32_t>(*e, "code");
  if (json* r = child(sw, "rule")) {
    if (!parse_level(take_text(*r, "level"), a.level)) a.level = Level::kMedium;
  }
  for (const char* key : {"attempt", "console", "error", "rule"}) drop_if_empty(sw, key);
}

void read_user_and_source(json& doc, Alert& a) {
  if (json* u = child(doc, "user")) {
    a.user = AlertUser{take_text(*u, "name"), take_nullable(*u, "domain")};
  }
  if (json* s = child(doc, "source")) {
    AlertSource source;
    source.address = take_text(*s, "address");
    source.ip = take_text(*s, "ip");
    source.port = take_number<std::uint16_t>(*s, "port");
    a.source = std::move(source);
  }
}

}  // namespace

void write_alert_json(const Alert& alert, std::string& out) {
  Appender appender(out);
  write_document(alert, appender);
}

nlohmann::json alert_to_json(const Alert& alert) {
  std::string text;
  write_alert_json(alert, text);
  return json::parse(text);
}

Alert alert_from_json(json doc) {
  Alert a;
  if (!doc.is_object()) return a;
  if (auto t = take(doc, "@timestamp", is_text))
    a.time = parse_time(t->get<std::string>()).value_or(0);
  if (json* e = child(doc, "event")) {
    a.event_code = take_text(*e, "code");
    a.created = take_text(*e, "created");
    a.id = take_text(*e, "id");
  }
  if (json* h = child(doc, "host")) a.host = take_text(*h, "name");
  a.message = take_text(doc, "message");
  if (json* r = child(doc, "rule")) {
    a.rule_id = take_text(*r, "id");
    a.rule_name = take_text(*r, "name");
  }
  if (json* sw = child(doc, "sessionwatch")) read_sessionwatch(*sw, a);
  read_user_and_source(doc, a);
  for (const char* key : {"event", "host", "rule", "sessionwatch", "source", "user"})
    drop_if_empty(doc, key);
  a.extras = std::move(doc);
  return a;
}

std::optional<Alert> parse_alert_json(std::string_view line) {
  json doc = json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return alert_from_json(std::move(doc));
}

}  // namespace sw
