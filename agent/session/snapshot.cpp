// The tracker's state as versioned JSON, and the atomic file that holds it across restarts.
// Held (reordering) events, open arbitrations and the timeline are not saved: a restart loses at
// most the last few seconds of correlation, never a session or a console holder.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "session/tracker_impl.hpp"
#include "sessionwatch/session.hpp"

#include "session/durable_file.hpp"

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

}  // namespace

std::string SessionTracker::snapshot() const {
  json hosts = json::array();
  std::vector<const Host*> ordered;
  for (const auto& [key, h] : impl_->hosts) ordered.push_back(&h);
  std::sort(ordered.begin(), ordered.end(),
            [](const Host* a, const Host* b) { return a->name < b->name; });
  for (const Host* h : ordered) {
    json j;
    j["name"] = h->name;
    if (!h->short_name.empty()) j["short_name"] = h->short_name;
    if (h->multi_session) j["multi_session"] = true;
    j["console_free_known"] = h->console_free_known;
    j["console_free_since"] = h->console_free_since;
    j["last_seen"] = h->last_seen;
    j["rebooted"] = h->rebooted;
    j["last_reboot"] = h->last_reboot;
    json sessions = json::array();
    for (const SessionRecord& s : sessions_of(*h)) sessions.push_back(session_to_json(s));
    j["sessions"] = std::move(sessions);
    json logons = json::array();
    std::vector<std::pair<std::uint64_t, const Logon*>> sorted_logons;
    for (const auto& [id, l] : h->logons) sorted_logons.emplace_back(id, &l);
    std::sort(sorted_logons.begin(), sorted_logons.end());
    for (const auto& [id, lp] : sorted_logons) {
      const Logon& l = *lp;
      logons.push_back({{"logon_id", id},
                        {"user", l.user},
                        {"domain", l.domain},
                        {"sid", l.sid},
                        {"ip", l.ip},
                        {"type", l.type},
                        {"time", l.time},
                        {"last_seen", l.last_seen},
                        {"session_id", l.session_id ? json(*l.session_id) : json(nullptr)},
                        {"announced", l.announced}});
    }
    j["logons"] = std::move(logons);
    json names = json::object();
    for (const auto& [sid, name] : h->sid_names) names[sid] = {name.first, name.second};
    j["sid_names"] = std::move(names);
    json attempts = json::array();
    for (const Attempt& a : h->attempts) attempts.push_back({a.time, a.who});
    j["attempts"] = std::move(attempts);
    if (h->last_refusal) {
      const RefusedAttempt& r = *h->last_refusal;
      j["last_refusal"] = {{"time", r.time},
                           {"user", r.user},
                           {"domain", r.domain},
                           {"address", r.address},
                           {"session_id", r.session_id ? json(*r.session_id) : json(nullptr)},
                           {"evidence", evidence_to_json(r.evidence)}};
    }
    hosts.push_back(std::move(j));
  }
  json root = {{"format", kFormat},
               {"version", kSnapshotVersion},
               {"released_time", impl_->released_time},
               {"hosts", std::move(hosts)}};
  return root.dump();
}

bool SessionTracker::restore(std::string_view text, std::string& error) {
  try {
    const json root = json::parse(text);
    if (!root.is_object() || root.value("format", "") != kFormat) {
      error = "not a session tracker snapshot";
      return false;
    }
    const int version = root.at("version").get<int>();
    if (version != kSnapshotVersion) {
      error = "snapshot version " + std::to_string(version) + " is not supported (expected " +
              std::to_string(kSnapshotVersion) + ")";
      return false;
    }
    std::unordered_map<std::string, Host> hosts;
    for (const json& j : root.at("hosts")) {
      Host h;
      h.name = j.at("name").get<std::string>();
      h.short_name = j.value("short_name", std::string());
      h.multi_session = j.value("multi_session", false);
      h.console_free_known = j.at("console_free_known").get<bool>();
      h.console_free_since = j.at("console_free_since").get<Ticks>();
      h.last_seen = j.at("last_seen").get<Ticks>();
      h.rebooted = j.at("rebooted").get<bool>();
      h.last_reboot = j.at("last_reboot").get<Ticks>();
      for (const json& s : j.at("sessions")) {
        SessionRecord rec = session_from_json(s);
        if (!rec.session_id) throw std::runtime_error("session without id");
        h.sessions[*rec.session_id] = std::move(rec);
      }
      for (const json& l : j.at("logons")) {
        Logon logon;
        logon.user = l.at("user").get<std::string>();
        logon.domain = l.at("domain").get<std::string>();
        logon.sid = l.at("sid").get<std::string>();
        logon.ip = l.at("ip").get<std::string>();
        logon.type = l.at("type").get<std::uint8_t>();
        logon.time = l.at("time").get<Ticks>();
        logon.last_seen = l.at("last_seen").get<Ticks>();
        if (!l.at("session_id").is_null())
          logon.session_id = l.at("session_id").get<std::uint32_t>();
        logon.announced = l.at("announced").get<bool>();
        h.logons[l.at("logon_id").get<std::uint64_t>()] = std::move(logon);
      }
      for (const auto& [sid, name] : j.at("sid_names").items()) {
        h.sid_names[sid] = {name.at(0).get<std::string>(), name.at(1).get<std::string>()};
      }
      for (const json& a : j.at("attempts")) {
        h.attempts.push_back(Attempt{a.at(0).get<Ticks>(), a.at(1).get<std::string>()});
      }
      if (j.contains("last_refusal")) {
        const json& r = j.at("last_refusal");
        RefusedAttempt ra;
        ra.time = r.at("time").get<Ticks>();
        ra.user = r.at("user").get<std::string>();
        ra.domain = r.at("domain").get<std::string>();
        ra.address = r.at("address").get<std::string>();
        if (!r.at("session_id").is_null()) ra.session_id = r.at("session_id").get<std::uint32_t>();
        ra.evidence = evidence_from_json(r.at("evidence"));
        h.last_refusal = std::move(ra);
      }
      reindex_logons(h);
      std::string key = host_key(h.name);
      hosts[key] = std::move(h);
    }
    impl_->aliases.clear();
    impl_->hosts = std::move(hosts);
    const Ticks released = root.at("released_time").get<Ticks>();
    impl_->released_time = std::max(impl_->released_time, released);
    return true;
  } catch (const std::exception& ex) {
    error = std::string("bad session tracker snapshot: ") + ex.what();
    return false;
  }
}

bool SessionTracker::save_snapshot(const std::filesystem::path& path, std::string& error) const {
  const std::string data = snapshot();
  std::filesystem::path temp = path;
  temp += ".tmp";
  std::FILE* f = std::fopen(temp.string().c_str(), "wb");
  if (!f) {
    error = "cannot create " + temp.string();
    return false;
  }
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = ok && flush_to_disk(f);
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    error = "cannot write " + temp.string();
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    return false;
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    error = "cannot rename " + temp.string() + " to " + path.string() + ": " + ec.message();
    return false;
  }
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  if (!flush_directory(dir)) {
    error = "cannot flush directory " + dir.string();
    return false;
  }
  return true;
}

bool SessionTracker::load_snapshot(const std::filesystem::path& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path.string();
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (!restore(text.str(), error)) {
    error = path.string() + ": " + error;
    return false;
  }
  return true;
}

}  // namespace sw
