#include "daemon/query_api.hpp"

#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "forward/output_plugin.hpp"

namespace sw::daemon {

namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxComputerName = 255;

json time_or_null(Ticks t) {
  return t == 0 ? json(nullptr) : json(format_time(t));
}

json console_json(const ConsoleInfo& c) {
  const std::string holder = account_name(c.domain, c.user);
  return {{"state", std::string(to_string(c.state))},
          {"holder", holder.empty() ? json(nullptr) : json(holder)},
          {"user", c.user.empty() ? json(nullptr) : json(c.user)},
          {"domain", c.domain.empty() ? json(nullptr) : json(c.domain)},
          {"session_id", c.session_id ? json(*c.session_id) : json(nullptr)},
          {"since", time_or_null(c.since)},
          {"logon_time", time_or_null(c.logon_time)}};
}

json session_json(const SessionRecord& s) {
  return {{"session_id", s.session_id ? json(*s.session_id) : json(nullptr)},
          {"logon_id", s.logon_id},
          {"user", s.user},
          {"domain", s.domain},
          {"sid", s.sid},
          {"address", s.address},
          {"client_name", s.client_name},
          {"session_name", s.session_name},
          {"console", s.console},
          {"state", std::string(to_string(s.state))},
          {"logon_time", time_or_null(s.logon_time)},
          {"state_since", time_or_null(s.state_since)},
          {"last_seen", time_or_null(s.last_seen)}};
}

json source_json(const EventSource& s) {
  json j = {{"time", format_time(s.time)}};
  if (s.channel.empty()) return j;  // the change came from an event released later (reordering)
  j["channel"] = s.channel;
  j["event_id"] = s.event_id;
  j["record_id"] = s.record_id;
  if (!s.file.empty()) j["file"] = s.file;
  if (s.line != 0) j["line"] = s.line;
  return j;
}

json refusal_json(const AlertSummary& a) {
  return {{"id", a.id},
          {"time", format_time(a.time)},
          {"rule", a.rule},
          {"detection", a.detection},
          {"requester", a.requester},
          {"address", a.address},
          {"holder", a.holder},
          {"holder_state", a.holder_state}};
}

std::size_t refusal_count(const HostView& h) {
  return h.refusals ? h.refusals->total : 0;
}

json host_summary(const HostView& h) {
  return {{"name", h.name},
          {"short_name", host_short_name(h.name)},
          {"console", console_json(h.console)},
          {"sessions", h.sessions->size()},
          {"refusals", refusal_count(h)},
          {"last_change", time_or_null(h.last_change)}};
}

// A name in a request or an event may hold bytes that are not UTF-8: they are replaced, never
// refused (and never thrown out of the listener).
std::string dump(const json& body, int indent) {
  return body.dump(indent, ' ', false, json::error_handler_t::replace) + "\n";
}

HttpReply error_answer(int status, std::string message) {
  return {status, dump(json{{"error", std::move(message)}}, -1)};
}

HttpReply ok(const json& body) {
  return {200, dump(body, 2)};
}

// Letters, digits, '-', '_' and '.' (DNS and NetBIOS names, IPv4 addresses), not starting with a
// dot: anything else cannot name a computer the tracker knows.
bool valid_computer_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxComputerName || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Shown in an error: bounded, and JSON escapes the rest.
std::string shown(std::string_view s) {
  constexpr std::size_t kShown = 80;
  return "'" + std::string(s.substr(0, kShown)) + (s.size() > kShown ? "...'" : "'");
}

struct Query {
  std::optional<Ticks> since;
};

// Only `since=T` is understood; anything else is a mistake worth saying.
std::optional<HttpReply> parse_query(std::string_view text, bool since_allowed, Query& out) {
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    std::string value;
    if (key != "since" || !since_allowed) {
      return error_answer(400, "unknown parameter " + shown(key) +
                                   (since_allowed ? " (only since=T)" : " (none here)"));
    }
    const std::string_view raw = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (!forward::detail::percent_decode(raw, value) || !(out.since = parse_time(value))) {
      return error_answer(400,
                          "since=" + shown(raw) + " is not a UTC time (e.g. 2026-11-20T12:00:00Z)");
    }
  }
  return std::nullopt;
}

HttpReply list_hosts(const LiveState& state, Ticks now) {
  json hosts = json::array();
  for (const auto& h : state.hosts()) hosts.push_back(host_summary(*h));
  const std::size_t count = hosts.size();
  return ok({{"as_of", format_time(now)}, {"count", count}, {"hosts", std::move(hosts)}});
}

HttpReply console_answer(const HostView& h, Ticks now) {
  json sources = json::array();
  for (const EventSource& s : h.sources) sources.push_back(source_json(s));
  json body = {{"as_of", format_time(now)},          {"host", h.name},
               {"console", console_json(h.console)}, {"last_change", time_or_null(h.last_change)},
               {"sources", std::move(sources)},      {"refusals", refusal_count(h)}};
  body["remediation"] = {{"quser", quser_command(h.name)}};
  if (!h.console.user.empty()) body["remediation"]["logoff"] = logoff_command(h.name, h.console);
  return ok(body);
}

HttpReply sessions_answer(const HostView& h, Ticks now) {
  json sessions = json::array();
  for (const SessionRecord& s : *h.sessions) sessions.push_back(session_json(s));
  return ok({{"as_of", format_time(now)}, {"host", h.name}, {"sessions", std::move(sessions)}});
}

HttpReply refusals_answer(const HostView& h, const Query& q, Ticks now) {
  json refusals = json::array();
  std::uint64_t kept = 0;
  if (h.refusals) {
    kept = h.refusals->recent.size();
    for (const AlertSummary& a : h.refusals->recent) {
      if (!q.since || a.time >= *q.since) refusals.push_back(refusal_json(a));
    }
  }
  const std::uint64_t total = h.refusals ? h.refusals->total : 0;
  return ok({{"as_of", format_time(now)},
             {"host", h.name},
             {"since", q.since ? json(format_time(*q.since)) : json(nullptr)},
             {"refusals", std::move(refusals)},
             {"total", total},
             {"dropped", total - kept}});
}

HttpReply host_answer(const LiveState& state, std::string_view computer, std::string_view what,
                      std::string_view query_text, Ticks now) {
  std::string name;
  if (!forward::detail::percent_decode(computer, name) || !valid_computer_name(name)) {
    return error_answer(
        400, shown(computer) + " is not a computer name (letters, digits, '-', '_' and '.')");
  }
  if (what != "console" && what != "sessions" && what != "refusals") {
    return error_answer(404, "no " + shown(what) + " for a computer: try /v1/hosts/" + name +
                                 "/console, /sessions or /refusals");
  }
  Query query;
  if (auto bad = parse_query(query_text, what == "refusals", query)) return *bad;
  const auto host = state.find(name);
  if (!host) {
    return error_answer(404, "unknown computer " + shown(name) +
                                 ": this agent has read no event from it (GET /v1/hosts lists "
                                 "the computers it knows)");
  }
  if (what == "console") return console_answer(*host, now);
  if (what == "sessions") return sessions_answer(*host, now);
  return refusals_answer(*host, query, now);
}

}  // namespace

std::string quser_command(std::string_view host) {
  return "quser /server:" + std::string(host);
}

std::string logoff_command(std::string_view host, const ConsoleInfo& console) {
  const std::string id = console.session_id ? std::to_string(*console.session_id) : "<ID>";
  return "logoff " + id + " /server:" + std::string(host);
}

HttpReply answer_query(const LiveState& state, std::string_view target, Ticks now) {
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  constexpr std::string_view kHosts = "/v1/hosts";
  if (path == kHosts || path == "/v1/hosts/") {
    Query none;
    if (auto bad = parse_query(query, false, none)) return *bad;
    return list_hosts(state, now);
  }
  if (path.substr(0, kHosts.size() + 1) != "/v1/hosts/") {
    return error_answer(404, "no " + shown(path) +
                                 ": try /v1/hosts or /v1/hosts/{computer}/console, /sessions, "
                                 "/refusals");
  }
  const std::string_view rest = path.substr(kHosts.size() + 1);
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return error_answer(404, "name what to ask of the computer: /v1/hosts/" +
                                 std::string(rest.substr(0, kMaxComputerName)) +
                                 "/console, /sessions or /refusals");
  }
  return host_answer(state, rest.substr(0, slash), rest.substr(slash + 1), query, now);
}

}  // namespace sw::daemon
