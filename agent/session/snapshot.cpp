// The tracker's state as versioned JSON, and the atomic file that holds it across restarts.
// Held (reordering) events, open arbitrations and the timeline are not saved: a restart loses at
// most the last few seconds of correlation, never a session or a console holder.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "session/tracker_impl.hpp"
#include "sessionwatch/session.hpp"

namespace sw {

using nlohmann::json;
using namespace session_detail;

namespace {

constexpr std::string_view kFormat = "sessionwatch-session-tracker";

json session_to_json(const SessionRecord& s) {
  json j;
  j["session_id"] = s.session_id ? json(*s.session_id) : json(nullptr);
  j["logon_id"] = s.logon_id;
  j["user"] = s.user;
  j["domain"] = s.domain;
  j["sid"] = s.sid;
  j["address"] = s.address;
  j["client_name"] = s.client_name;
  j["session_name"] = s.session_name;
  j["console"] = s.console;
  j["state"] = to_string(s.state);
  j["logon_time"] = s.logon_time;
  j["state_since"] = s.state_since;
  j["last_seen"] = s.last_seen;
  return j;
}

ConsoleState parse_state(const std::string& s) {
  for (ConsoleState c : {ConsoleState::kUnknown, ConsoleState::kNone, ConsoleState::kActive,
                         ConsoleState::kDisconnected, ConsoleState::kLocked}) {
    if (to_string(c) == s) return c;
  }
  throw std::runtime_error("unknown session state '" + s + "'");
}

SessionRecord session_from_json(const json& j) {
  SessionRecord s;
  if (!j.at("session_id").is_null()) s.session_id = j.at("session_id").get<std::uint32_t>();
  s.logon_id = j.at("logon_id").get<std::uint64_t>();
  s.user = j.at("user").get<std::string>();
  s.domain = j.at("domain").get<std::string>();
  s.sid = j.at("sid").get<std::string>();
  s.address = j.at("address").get<std::string>();
  s.client_name = j.at("client_name").get<std::string>();
  s.session_name = j.at("session_name").get<std::string>();
  s.console = j.at("console").get<bool>();
  s.state = parse_state(j.at("state").get<std::string>());
  s.logon_time = j.at("logon_time").get<Ticks>();
  s.state_since = j.at("state_since").get<Ticks>();
  s.last_seen = j.at("last_seen").get<Ticks>();
  return s;
}

json evidence_to_json(const std::vector<EvidenceRef>& list) {
  json a = json::array();
  for (const EvidenceRef& e : list) {
    a.push_back({{"channel", e.channel},
                 {"record_id", e.record_id},
                 {"event_id", e.event_id},
                 {"time", e.time},
                 {"role", e.role}});
  }
  return a;
}

std::vector<EvidenceRef> evidence_from_json(const json& a) {
  std::vector<EvidenceRef> out;
  for (const json& e : a) {
    out.push_back(EvidenceRef{e.at("channel").get<std::string>(),
                              e.at("record_id").get<std::uint64_t>(),
                              e.at("event_id").get<std::uint32_t>(), e.at("time").get<Ticks>(),
                              e.at("role").get<std::string>()});
  }
  return out;
}

std::vector<SessionRecord> sessions_of(const Host& h) {
  std::vector<SessionRecord> out;
  for (const auto& [id, s] : h.sessions) out.push_back(s);
  std::sort(out.begin(), out.end(), [](const SessionRecord& a, const SessionRecord& b) {
    return a.session_id < b.session_id;
  });
  return out;
}

json sid_names_to_json(const Host& host) {
  json names = json::object();
  for (const auto& [sid, name] : host.sid_names) names[sid] = {name.first, name.second};
  return names;
}

void sid_names_from_json(const json& names, Host& h) {
  for (const auto& [sid, name] : names.items()) {
    h.sid_names[sid] = {name.at(0).get<std::string>(), name.at(1).get<std::string>()};
  }
}

// `with_sid_names` false: without the SID -> name map (a part of its own).
json host_to_json(const Host& host, bool with_sid_names = true) {
  json j;
  j["name"] = host.name;
  if (!host.short_name.empty()) j["short_name"] = host.short_name;
  if (host.multi_session) j["multi_session"] = true;
  j["console_free_known"] = host.console_free_known;
  j["console_free_since"] = host.console_free_since;
  j["last_seen"] = host.last_seen;
  j["last_released"] = host.last_released;
  j["last_sweep"] = host.last_sweep;
  j["last_logon_ageing"] = host.last_logon_ageing;
  j["rebooted"] = host.rebooted;
  j["last_reboot"] = host.last_reboot;
  json sessions = json::array();
  for (const SessionRecord& s : sessions_of(host)) sessions.push_back(session_to_json(s));
  j["sessions"] = std::move(sessions);
  json logons = json::array();
  std::vector<std::pair<std::uint64_t, const Logon*>> sorted_logons;
  for (const auto& [id, l] : host.logons) sorted_logons.emplace_back(id, &l);
  std::sort(sorted_logons.begin(), sorted_logons.end());
  for (const auto& [id, lp] : sorted_logons) {
    const Logon& l = *lp;
    logons.push_back({{"logon_id", id},
                      {"user", l.user},
                      {"domain", l.domain},
                      {"sid", l.sid},
                      {"ip", l.ip},
                      {"type", static_cast<std::uint8_t>(l.type)},
                      {"time", l.time},
                      {"last_seen", l.last_seen},
                      {"session_id", l.session_id ? json(*l.session_id) : json(nullptr)},
                      {"announced", l.announced}});
  }
  j["logons"] = std::move(logons);
  if (with_sid_names) j["sid_names"] = sid_names_to_json(host);
  json attempts = json::array();
  for (const Attempt& a : host.attempts) attempts.push_back({a.time, a.who});
  j["attempts"] = std::move(attempts);
  json ends = json::array();
  for (const auto& [id, when] : host.recent_ends) ends.push_back({id, when});
  j["recent_ends"] = std::move(ends);
  if (host.last_refusal) {
    const RefusedAttempt& r = *host.last_refusal;
    j["last_refusal"] = {{"time", r.time},
                         {"user", r.user},
                         {"domain", r.domain},
                         {"address", r.address},
                         {"session_id", r.session_id ? json(*r.session_id) : json(nullptr)},
                         {"evidence", evidence_to_json(r.evidence)}};
  }
  return j;
}

Logon logon_from_json(const json& l) {
  Logon logon;
  logon.user = l.at("user").get<std::string>();
  logon.domain = l.at("domain").get<std::string>();
  logon.sid = l.at("sid").get<std::string>();
  logon.ip = l.at("ip").get<std::string>();
  logon.type = static_cast<LogonType>(l.at("type").get<std::uint8_t>());
  logon.time = l.at("time").get<Ticks>();
  logon.last_seen = l.at("last_seen").get<Ticks>();
  if (!l.at("session_id").is_null()) logon.session_id = l.at("session_id").get<std::uint32_t>();
  logon.announced = l.at("announced").get<bool>();
  return logon;
}

RefusedAttempt refusal_from_json(const json& r) {
  RefusedAttempt ra;
  ra.time = r.at("time").get<Ticks>();
  ra.user = r.at("user").get<std::string>();
  ra.domain = r.at("domain").get<std::string>();
  ra.address = r.at("address").get<std::string>();
  if (!r.at("session_id").is_null()) ra.session_id = r.at("session_id").get<std::uint32_t>();
  ra.evidence = evidence_from_json(r.at("evidence"));
  return ra;
}

// Throws on a malformed host. Fields added after version 1 was first written are optional.
Host host_from_json(const json& j) {
  Host h;
  h.name = j.at("name").get<std::string>();
  h.short_name = j.value("short_name", std::string());
  h.multi_session = j.value("multi_session", false);
  h.console_free_known = j.at("console_free_known").get<bool>();
  h.console_free_since = j.at("console_free_since").get<Ticks>();
  h.last_seen = j.at("last_seen").get<Ticks>();
  h.last_released = j.value("last_released", Ticks{0});
  h.last_sweep = j.value("last_sweep", Ticks{0});
  h.last_logon_ageing = j.value("last_logon_ageing", Ticks{0});
  h.rebooted = j.at("rebooted").get<bool>();
  h.last_reboot = j.at("last_reboot").get<Ticks>();
  for (const json& s : j.at("sessions")) {
    SessionRecord rec = session_from_json(s);
    if (!rec.session_id) throw std::runtime_error("session without id");
    h.sessions[*rec.session_id] = std::move(rec);
  }
  for (const json& l : j.at("logons")) {
    h.logons[l.at("logon_id").get<std::uint64_t>()] = logon_from_json(l);
  }
  if (const auto names = j.find("sid_names"); names != j.end()) sid_names_from_json(*names, h);
  for (const json& a : j.at("attempts")) {
    h.attempts.push_back(Attempt{a.at(0).get<Ticks>(), a.at(1).get<std::string>()});
  }
  if (const auto ends = j.find("recent_ends"); ends != j.end()) {
    for (const json& e : *ends)
      h.recent_ends.emplace_back(e.at(0).get<std::uint32_t>(), e.at(1).get<Ticks>());
  }
  if (j.contains("last_refusal")) h.last_refusal = refusal_from_json(j.at("last_refusal"));
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

constexpr std::string_view kHeaderPart = "session/tracker";
constexpr std::string_view kHostPartPrefix = "session/host/";
constexpr std::string_view kSidsPartPrefix = "session/sids/";

}  // namespace

std::string SessionTracker::snapshot() const {
  json hosts = json::array();
  std::vector<const Host*> ordered;
  for (const auto& [key, h] : impl_->hosts) ordered.push_back(&h);
  std::sort(ordered.begin(), ordered.end(),
            [](const Host* a, const Host* b) { return a->name < b->name; });
  for (const Host* h : ordered) hosts.push_back(host_to_json(*h));
  json root = header_json(impl_->released_time);
  root["hosts"] = std::move(hosts);
  return root.dump();
}

void SessionTracker::Impl::install(std::unordered_map<std::string, Host> restored,
                                   Ticks restored_released_time) {
  aliases.clear();
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

void SessionTracker::snapshot_parts(bool changes_only, StateParts& out) {
  out.push_back({std::string(kHeaderPart), header_json(impl_->released_time).dump()});
  for (auto& [key, h] : impl_->hosts) {
    if (!changes_only || h.unsaved) {
      out.push_back({std::string(kHostPartPrefix) + key, host_to_json(h, false).dump()});
    }
    if (!changes_only || h.sid_names_unsaved) {
      out.push_back({std::string(kSidsPartPrefix) + key, sid_names_to_json(h).dump()});
    }
    h.unsaved = h.sid_names_unsaved = false;
  }
  if (changes_only) {
    for (const std::string& key : impl_->evicted_unsaved) {
      if (impl_->hosts.count(key)) continue;
      out.push_back({std::string(kHostPartPrefix) + key, {}});
      out.push_back({std::string(kSidsPartPrefix) + key, {}});
    }
  }
  impl_->evicted_unsaved.clear();
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
      const auto names = parts.find(std::string(kSidsPartPrefix) + key);
      if (names != parts.end()) sid_names_from_json(json::parse(names->second), h);
    }
    impl_->install(std::move(hosts), root.at("released_time").get<Ticks>());
    return true;
  } catch (const std::exception& ex) {
    error = std::string("bad session tracker state: ") + ex.what();
    return false;
  }
}

}  // namespace sw
