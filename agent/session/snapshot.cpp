// The tracker's state as versioned JSON, and the atomic file that holds it across restarts.
// Held (reordering) events, open arbitrations and the timeline are not saved: a restart loses at
// most the last few seconds of correlation, never a session or a console holder.
#include <algorithm>
#include <charconv>
#include <iterator>
#include <optional>
#include <tuple>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "session/tracker_impl.hpp"
#include "sessionwatch/json_escape.hpp"
#include "sessionwatch/session.hpp"

namespace sw {

using nlohmann::json;
using namespace session_detail;

namespace {

constexpr std::string_view kFormat = "sessionwatch-session-tracker";

ConsoleState parse_state(const std::string& s) {
  for (ConsoleState c : {ConsoleState::kUnknown, ConsoleState::kNone, ConsoleState::kActive,
                         ConsoleState::kDisconnected, ConsoleState::kLocked}) {
    if (to_string(c) == s) return c;
  }
  throw std::runtime_error("unknown session state '" + s + "'");
}

// Each saved struct lists its members once, with their keys; writing and reading both walk the
// list. A member is `required` (always written, must be there), `optional` (always written, but
// missing from snapshots written before it was added) or `if_set` (written when not its default).
template <class S, class Io>
void fields(S& e, Io& io) requires std::is_same_v<std::remove_const_t<S>, EvidenceRef> {
  io.required("channel", e.channel);
  io.required("record_id", e.record_id);
  io.required("event_id", e.event_id);
  io.required("time", e.time);
  io.required("role", e.role);
}

template <class S, class Io>
void fields(S& s, Io& io) requires std::is_same_v<std::remove_const_t<S>, SessionRecord> {
  io.required("session_id", s.session_id);
  io.required("logon_id", s.logon_id);
  io.required("user", s.user);
  io.required("domain", s.domain);
  io.required("sid", s.sid);
  io.required("address", s.address);
  io.required("client_name", s.client_name);
  io.required("session_name", s.session_name);
  io.required("console", s.console);
  io.required("state", s.state);
  io.required("logon_time", s.logon_time);
  io.required("state_since", s.state_since);
  io.required("last_seen", s.last_seen);
}

template <class S, class Io>
void fields(S& l, Io& io) requires std::is_same_v<std::remove_const_t<S>, Logon> {
  io.required("user", l.user);
  io.required("domain", l.domain);
  io.required("sid", l.sid);
  io.required("ip", l.ip);
  io.required("type", l.type);
  io.required("time", l.time);
  io.required("last_seen", l.last_seen);
  io.required("session_id", l.session_id);
  io.required("announced", l.announced);
}

template <class S, class Io>
void fields(S& r, Io& io) requires std::is_same_v<std::remove_const_t<S>, RefusedAttempt> {
  io.required("time", r.time);
  io.required("user", r.user);
  io.required("domain", r.domain);
  io.required("address", r.address);
  io.required("session_id", r.session_id);
  io.required("evidence", r.evidence);
}

// The host's own members; its collections are saved apart (write_host).
template <class S, class Io>
void fields(S& h, Io& io) requires std::is_same_v<std::remove_const_t<S>, Host> {
  io.required("name", h.name);
  io.if_set("short_name", h.short_name);
  io.if_set("multi_session", h.multi_session);
  io.required("console_free_known", h.console_free_known);
  io.required("console_free_since", h.console_free_since);
  io.required("last_seen", h.last_seen);
  io.optional("last_released", h.last_released);
  io.optional("last_sweep", h.last_sweep);
  io.optional("last_logon_ageing", h.last_logon_ageing);
  io.required("rebooted", h.rebooted);
  io.required("last_reboot", h.last_reboot);
}

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

template <class T>
void write_text(const T& v, std::string& out);

// Writes the members as JSON text straight into `out`, no document built: a checkpoint encodes
// every changed computer (thousands of logons each on a busy one) while the detection thread
// waits, and a document of maps cost ten times the text.
struct TextWriter {
  std::string& out;
  bool first = true;
  template <class T>
  void required(const char* key, const T& member) {
    out += first ? "\"" : ",\"";
    first = false;
    out += key;
    out += "\":";
    write_text(member, out);
  }
  template <class T>
  void optional(const char* key, const T& member) {
    required(key, member);
  }
  template <class T>
  void if_set(const char* key, const T& member) {
    if (member != T{}) required(key, member);
  }
};

template <class T>
void write_integer(T v, std::string& out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

template <class T>
void write_text(const T& v, std::string& out) {
  static_assert(!std::is_floating_point_v<T>, "the tracker saves no floating-point member");
  if constexpr (std::is_same_v<T, ConsoleState>) {
    append_json_string(to_string(v), out);
  } else if constexpr (std::is_enum_v<T>) {
    write_integer(static_cast<std::underlying_type_t<T>>(v), out);
  } else if constexpr (is_optional<T>::value) {
    if (v) {
      write_text(*v, out);
    } else {
      out += "null";
    }
  } else if constexpr (is_vector<T>::value) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      write_text(v[i], out);
    }
    out += ']';
  } else if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (std::is_integral_v<T>) {
    write_integer(v, out);
  } else if constexpr (std::is_same_v<T, std::string>) {
    append_json_string(v, out);
  } else {
    out += '{';
    TextWriter writer{out};
    fields(v, writer);
    out += '}';
  }
}

template <class T>
void from_json_value(const json& j, T& v);

// Throws on a malformed value (a required key missing, a wrong type).
struct JsonReader {
  const json& j;
  template <class T>
  void required(const char* key, T& member) {
    from_json_value(j.at(key), member);
  }
  template <class T>
  void optional(const char* key, T& member) {
    if (const auto found = j.find(key); found != j.end()) from_json_value(*found, member);
  }
  template <class T>
  void if_set(const char* key, T& member) {
    optional(key, member);
  }
};

template <class T>
void from_json_value(const json& j, T& v) {
  if constexpr (std::is_same_v<T, ConsoleState>) {
    v = parse_state(j.get<std::string>());
  } else if constexpr (std::is_enum_v<T>) {
    v = static_cast<T>(j.get<std::underlying_type_t<T>>());
  } else if constexpr (is_optional<T>::value) {
    v.reset();
    if (!j.is_null()) from_json_value(j, v.emplace());
  } else if constexpr (is_vector<T>::value) {
    v.clear();
    for (const json& x : j) from_json_value(x, v.emplace_back());
  } else if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, std::string>) {
    v = j.get<T>();
  } else {
    JsonReader reader{j};
    fields(v, reader);
  }
}

template <class T>
T from_json_as(const json& j) {
  T v;
  from_json_value(j, v);
  return v;
}

std::vector<SessionRecord> sessions_of(const Host& h) {
  std::vector<SessionRecord> out;
  for (const auto& [id, s] : h.sessions) out.push_back(s);
  std::sort(out.begin(), out.end(), [](const SessionRecord& a, const SessionRecord& b) {
    return a.session_id < b.session_id;
  });
  return out;
}

using SidName = SidNameMap::Entry;

// {"sid": [domain, user], ...} by SID, so the same state always reads the same.
void write_sid_names(std::vector<const SidName*> names, std::string& out) {
  std::sort(names.begin(), names.end(),
            [](auto* a, auto* b) { return a->sid.get() < b->sid.get(); });
  names.erase(std::unique(names.begin(), names.end()), names.end());
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    append_json_string(names[i]->sid.get(), out);
    out += ":[";
    append_json_string(names[i]->name.domain.get(), out);
    out += ',';
    append_json_string(names[i]->name.user.get(), out);
    out += ']';
  }
  out += '}';
}

void write_sid_names(const Host& host, std::string& out) {
  std::vector<const SidName*> all;
  all.reserve(host.sid_names.size());
  for (const auto& entry : host.sid_names.entries()) all.push_back(&entry);
  write_sid_names(std::move(all), out);
}

// The names added or changed since the settled part, in its format.
std::string new_sid_names_text(const Host& host) {
  std::vector<const SidName*> added;
  added.reserve(host.new_sid_names.size());
  for (const SharedText& sid : host.new_sid_names) added.push_back(host.sid_names.find(sid.get()));
  std::string out;
  write_sid_names(std::move(added), out);
  return out;
}

void sid_names_from_json(const json& names, Host& h) {
  for (const auto& [sid, name] : names.items()) {
    h.sid_names.assign(SharedText(sid), {SharedText(name.at(0).get<std::string>()),
                                         SharedText(name.at(1).get<std::string>())});
  }
}

// Every logon's id, in order.
std::vector<std::uint64_t> logon_ids(const Host& host) {
  std::vector<std::uint64_t> ids;
  ids.reserve(host.logons.size());
  for (const auto& entry : host.logons) ids.push_back(entry.first);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The logons of `ids` (in order, each one of the host's), each with its id among its members.
void write_logons(const Host& host, const std::vector<std::uint64_t>& ids, std::string& out) {
  out += '[';
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += '{';
    TextWriter writer{out};
    fields(host.logons.at(ids[i]), writer);
    writer.required("logon_id", ids[i]);
    out += '}';
  }
  out += ']';
}

std::string logons_text(const Host& host) {
  std::string out;
  out.reserve(host.logons.size() * 160);
  write_logons(host, logon_ids(host), out);
  return out;
}

// {"logons": [the logons added or changed since the settled part], "gone": [ids removed]}.
std::string new_logons_text(const Host& host) {
  std::vector<std::uint64_t> ids = host.changed_logons;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<std::uint64_t> gone;
  std::erase_if(ids, [&](std::uint64_t id) {
    if (host.logons.count(id)) return false;
    gone.push_back(id);
    return true;
  });
  std::string out = "{\"logons\":";
  write_logons(host, ids, out);
  out += ",\"gone\":";
  write_text(gone, out);
  out += '}';
  return out;
}

void logons_from_json(const json& logons, Host& h) {
  for (const json& l : logons) {
    h.logons[l.at("logon_id").get<std::uint64_t>()] = from_json_as<Logon>(l);
  }
}

// The new logons part over the settled logons.
void new_logons_from_json(const json& changes, Host& h) {
  logons_from_json(changes.at("logons"), h);
  for (const json& id : changes.at("gone")) h.logons.erase(id.get<std::uint64_t>());
}

// [[a, b], ...]: the host's short histories are saved as pairs.
template <class Items, class PairOf>
void write_pairs(const Items& items, PairOf pair_of, std::string& out) {
  out += '[';
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += ',';
    first = false;
    const auto [a, b] = pair_of(item);
    out += '[';
    write_text(a, out);
    out += ',';
    write_text(b, out);
    out += ']';
  }
  out += ']';
}

// `whole` false: without the logons and the SID -> name map (parts of their own).
void write_host(const Host& host, bool whole, std::string& out) {
  out += '{';
  TextWriter writer{out};
  fields(host, writer);
  writer.required("sessions", sessions_of(host));
  out += ",\"logons\":";
  if (whole) {
    write_logons(host, logon_ids(host), out);
    out += ",\"sid_names\":";
    write_sid_names(host, out);
  } else {
    out += "[]";
  }
  out += ",\"attempts\":";
  write_pairs(
      host.attempts, [](const Attempt& a) { return std::tie(a.time, a.who); }, out);
  out += ",\"recent_ends\":";
  write_pairs(
      host.recent_ends, [](const auto& end) { return std::tie(end.first, end.second); }, out);
  if (host.last_refusal) writer.required("last_refusal", *host.last_refusal);
  out += '}';
}

// A host's part: without its logons and SID names.
std::string host_text(const Host& host) {
  std::string out;
  out.reserve(256 + host.sessions.size() * 256);
  write_host(host, false, out);
  return out;
}

std::string sid_names_text(const Host& host) {
  std::string out;
  write_sid_names(host, out);
  return out;
}

// Throws on a malformed host. Members added after version 1 was first written are optional.
Host host_from_json(const json& j) {
  Host h = from_json_as<Host>(j);
  for (const json& s : j.at("sessions")) {
    SessionRecord rec = from_json_as<SessionRecord>(s);
    if (!rec.session_id) throw std::runtime_error("session without id");
    h.sessions[*rec.session_id] = std::move(rec);
  }
  logons_from_json(j.at("logons"), h);
  if (const auto names = j.find("sid_names"); names != j.end()) sid_names_from_json(*names, h);
  for (const json& a : j.at("attempts")) {
    h.attempts.push_back(Attempt{a.at(0).get<Ticks>(), a.at(1).get<std::string>()});
  }
  if (const auto ends = j.find("recent_ends"); ends != j.end()) {
    for (const json& e : *ends)
      h.recent_ends.emplace_back(e.at(0).get<std::uint32_t>(), e.at(1).get<Ticks>());
  }
  if (j.contains("last_refusal"))
    h.last_refusal = from_json_as<RefusedAttempt>(j.at("last_refusal"));
  reindex_logons(h);
  return h;
}

json header_json(Ticks released_time) {
  return {{"format", kFormat},
          {"version", SessionTracker::kSnapshotVersion},
          {"released_time", released_time}};
}

// Checks the format and version of a snapshot (or of the "session/tracker" part).
bool check_header(const json& root, std::string& error) {
  if (!root.is_object() || root.value("format", "") != kFormat) {
    error = "not a session tracker snapshot";
    return false;
  }
  const int version = root.at("version").get<int>();
  if (version != SessionTracker::kSnapshotVersion) {
    error = "snapshot version " + std::to_string(version) + " is not supported (expected " +
            std::to_string(SessionTracker::kSnapshotVersion) + ")";
    return false;
  }
  return true;
}

constexpr std::string_view kHostPartPrefix = SessionTracker::kComputerPartPrefixes[0];
constexpr std::string_view kLogonsPartPrefix = SessionTracker::kComputerPartPrefixes[1];
constexpr std::string_view kNewLogonsPartPrefix = SessionTracker::kComputerPartPrefixes[2];
constexpr std::string_view kSidsPartPrefix = SessionTracker::kComputerPartPrefixes[3];
constexpr std::string_view kNewSidsPartPrefix = SessionTracker::kComputerPartPrefixes[4];
static_assert(std::size(SessionTracker::kComputerPartPrefixes) == 5);

}  // namespace

std::string SessionTracker::snapshot() const {
  std::vector<const Host*> ordered;
  for (const auto& [key, h] : impl_->hosts) ordered.push_back(&h);
  std::sort(ordered.begin(), ordered.end(),
            [](const Host* a, const Host* b) { return a->name < b->name; });
  std::string out = header_json(impl_->released_time).dump();
  out.pop_back();  // the header's closing brace: the hosts follow
  out += ",\"hosts\":[";
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    if (i) out += ',';
    write_host(*ordered[i], true, out);
  }
  out += "]}";
  return out;
}

void SessionTracker::Impl::install(std::unordered_map<std::string, Host> restored,
                                   Ticks restored_released_time) {
  aliases.clear();
  last_alias = nullptr;
  victims.clear();
  hosts = std::move(restored);
  evicted_unsaved.clear();
  released_time = std::max(released_time, restored_released_time);
}

bool SessionTracker::restore(std::string_view text, std::string& error) {
  try {
    const json root = json::parse(text);
    if (!check_header(root, error)) return false;
    std::unordered_map<std::string, Host> hosts;
    for (const json& j : root.at("hosts")) {
      Host h = host_from_json(j);
      std::string key = host_key(h.name);
      hosts[key] = std::move(h);
    }
    impl_->install(std::move(hosts), root.at("released_time").get<Ticks>());
    return true;
  } catch (const std::exception& ex) {
    error = std::string("bad session tracker snapshot: ") + ex.what();
    return false;
  }
}

namespace {

// A part's text as it is kept until the part changes again: without the room its string grew
// into as it was written (up to half of it; for the 200 computers of the relay benchmark, 3 MB).
std::shared_ptr<const std::string> kept_text(std::string text) {
  text.shrink_to_fit();
  return std::make_shared<const std::string>(std::move(text));
}

// The text of a part, encoded again only when `unsaved` says it changed since it was last.
template <class Encode>
const std::shared_ptr<const std::string>& cached_text(std::shared_ptr<const std::string>& text,
                                                      bool unsaved, Encode encode) {
  if (unsaved || !text) text = kept_text(encode());
  return text;
}

}  // namespace

namespace {

// A collection of a host (SID names, logons) saved as two parts, so that a checkpoint costs what
// changed in it, as in a log-structured merge: the settled part (every entry when it was last
// encoded) and the entries changed since, which win on restore. The changes are merged into the
// settled part once they are more than a fraction of it (and than a minimum): a checkpoint
// encodes at most that fraction, and each entry is settled a bounded number of times.
struct Layers {
  std::string_view settled_prefix, new_prefix;
  std::shared_ptr<const std::string>& settled;  // null: to be encoded afresh
  std::shared_ptr<const std::string>& added;    // null: the store holds no part of changes
  std::size_t& settled_size;
  std::size_t size;     // entries now
  std::size_t changes;  // entries changed since the settled part, repeats included
  std::size_t min_changes;
  bool changed;  // since the last checkpoint
};
constexpr std::size_t kChangesDivisor = 8;

// `forget` clears the changes once they are settled.
template <class EncodeAll, class EncodeChanges, class Forget>
void layered_parts(Layers l, const std::string& key, bool changes_only, StateParts& out,
                   EncodeAll encode_all, EncodeChanges encode_changes, Forget forget) {
  if (!l.settled ||
      (l.changed && l.changes > std::max(l.min_changes, l.settled_size / kChangesDivisor))) {
    l.settled = kept_text(encode_all());
    l.settled_size = l.size;
    forget();
    out.push_back({std::string(l.settled_prefix) + key, l.settled});
    if (l.added && changes_only) out.push_back({std::string(l.new_prefix) + key, {}});
    l.added.reset();
    return;
  }
  if (l.changed && l.changes) l.added = kept_text(encode_changes());
  if (!changes_only) out.push_back({std::string(l.settled_prefix) + key, l.settled});
  if (l.added && (l.changed || !changes_only))
    out.push_back({std::string(l.new_prefix) + key, l.added});
}

void sid_name_parts(Host& h, const std::string& key, bool changes_only, StateParts& out) {
  layered_parts(
      Layers{kSidsPartPrefix, kNewSidsPartPrefix, h.saved_sid_names_text,
             h.saved_new_sid_names_text, h.settled_sid_names, h.sid_names.size(),
             h.new_sid_names.size(), 32, h.sid_names_unsaved},
      key, changes_only, out, [&] { return sid_names_text(h); },
      [&] { return new_sid_names_text(h); }, [&] { h.new_sid_names.clear(); });
  h.sid_names_unsaved = false;
}

void logon_parts(Host& h, const std::string& key, bool changes_only, StateParts& out) {
  layered_parts(
      Layers{kLogonsPartPrefix, kNewLogonsPartPrefix, h.saved_logons_text, h.saved_new_logons_text,
             h.settled_logons, h.logons.size(), h.changed_logons.size(), 16, h.logons_unsaved},
      key, changes_only, out, [&] { return logons_text(h); }, [&] { return new_logons_text(h); },
      [&] { h.changed_logons.clear(); });
  h.logons_unsaved = false;
}

}  // namespace

void SessionTracker::snapshot_parts(bool changes_only, StateParts& out) {
  out.push_back({std::string(kHeaderPart), header_json(impl_->released_time).dump()});
  for (auto& entry : impl_->hosts) {
    const std::string& key = entry.first;
    Host& h = entry.second;  // a named reference: clang 14 cannot capture a structured binding
    const bool host_changed = h.unsaved || !h.saved_text;
    if (!changes_only || host_changed) {
      out.push_back({std::string(kHostPartPrefix) + key,
                     cached_text(h.saved_text, host_changed, [&] { return host_text(h); })});
    }
    h.unsaved = false;
    logon_parts(h, key, changes_only, out);
    sid_name_parts(h, key, changes_only, out);
  }
  if (changes_only) {
    for (const std::string& key : impl_->evicted_unsaved) {
      if (impl_->hosts.count(key)) continue;
      for (std::string_view prefix : SessionTracker::kComputerPartPrefixes)
        out.push_back({std::string(prefix) + key, {}});
    }
  }
  impl_->evicted_unsaved.clear();
}

void SessionTracker::last_parts(StateParts& out) {
  out.push_back({std::string(kHeaderPart), header_json(impl_->released_time).dump(), {}});
  for (const auto& [key, host] : impl_->hosts) {
    const Host* h = &host;
    const auto later = [h](std::string (*encode)(const Host&)) {
      return [h, encode] { return PartText(encode(*h)); };
    };
    out.push_back({std::string(kHostPartPrefix) + key, {}, later(host_text)});
    out.push_back({std::string(kLogonsPartPrefix) + key, {}, later(logons_text)});
    out.push_back({std::string(kSidsPartPrefix) + key, {}, later(sid_names_text)});
  }
}

bool SessionTracker::restore_parts(const StatePartMap& parts, std::string& error) {
  try {
    const auto header = parts.find(std::string(kHeaderPart));
    if (header == parts.end()) {
      impl_->install({}, impl_->released_time);
      return true;
    }
    const json root = json::parse(header->second);
    if (!check_header(root, error)) return false;
    std::unordered_map<std::string, Host> hosts;
    for (auto it = parts.lower_bound(std::string(kHostPartPrefix));
         it != parts.end() && it->first.starts_with(kHostPartPrefix); ++it) {
      const std::string key = it->first.substr(kHostPartPrefix.size());
      Host& h = hosts[key] = host_from_json(json::parse(it->second));
      // The settled entries, then those changed since, which win (a SID renamed since has its
      // new name). State written before logons were parts has them in the host part.
      const auto part = [&](std::string_view prefix) -> const std::string* {
        const auto found = parts.find(std::string(prefix) + key);
        return found == parts.end() ? nullptr : &found->second;
      };
      if (const std::string* logons = part(kLogonsPartPrefix))
        logons_from_json(json::parse(*logons), h);
      if (const std::string* changes = part(kNewLogonsPartPrefix))
        new_logons_from_json(json::parse(*changes), h);
      reindex_logons(h);
      for (std::string_view prefix : {kSidsPartPrefix, kNewSidsPartPrefix}) {
        if (const std::string* names = part(prefix)) sid_names_from_json(json::parse(*names), h);
      }
    }
    impl_->install(std::move(hosts), root.at("released_time").get<Ticks>());
    return true;
  } catch (const std::exception& ex) {
    error = std::string("bad session tracker state: ") + ex.what();
    return false;
  }
}

}  // namespace sw
