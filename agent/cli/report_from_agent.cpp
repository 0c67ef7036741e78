// `sessionwatch report --from-agent URL`: the report's data drawn from a running agent's query
// API instead of files: each computer's console holder as one hold up to the last event the agent
// saw, its open remote sessions as lanes, its recent refusals as marks.
#include "cli/report_from_agent.hpp"

#include <algorithm>

#include "cli/agent_client.hpp"

namespace sw::cli {

namespace {

using json = nlohmann::json;

std::string text(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>();
}

Ticks time_at(const json& j, const char* key) {
  return parse_time(text(j, key)).value_or(0);
}

std::optional<std::uint32_t> session_id(const json& j) {
  if (!j.is_object() || !j.contains("session_id") || !j["session_id"].is_number_unsigned()) {
    return std::nullopt;
  }
  return j["session_id"].get<std::uint32_t>();
}

ConsoleState state_of(const std::string& s) {
  for (ConsoleState c : {ConsoleState::kNone, ConsoleState::kActive, ConsoleState::kDisconnected,
                         ConsoleState::kLocked}) {
    if (to_string(c) == s) return c;
  }
  return ConsoleState::kUnknown;
}

// The first known of these times, else `fallback`.
Ticks first_known(std::initializer_list<Ticks> times, Ticks fallback) {
  for (Ticks t : times) {
    if (t != 0) return t;
  }
  return fallback;
}

class Drawing {
 public:
  explicit Drawing(ReportData& data) : data_(data) {}

  void add_console(HostReport& h, const json& answer) {
    const json& c = answer["console"];
    const ConsoleState state = state_of(text(c, "state"));
    note(time_at(answer, "last_change"));
    if (state != ConsoleState::kActive && state != ConsoleState::kLocked &&
        state != ConsoleState::kDisconnected) {
      return;
    }
    const Ticks start = first_known({time_at(c, "since"), time_at(c, "logon_time")}, 0);
    h.open_hold =
        ConsoleHold{start, start, text(c, "user"), text(c, "domain"), session_id(c), state};
    note(start);
  }

  void add_sessions(HostReport& h, const json& answer) {
    for (const json& s : answer["sessions"]) {
      note(time_at(s, "last_seen"));
      if (s.value("console", false)) continue;
      RemoteSpan span;
      span.start = first_known({time_at(s, "logon_time"), time_at(s, "state_since")}, 0);
      span.user = text(s, "user");
      span.domain = text(s, "domain");
      span.address = text(s, "address");
      span.session_id = session_id(s);
      span.states.emplace_back(first_known({time_at(s, "state_since")}, span.start),
                               state_of(text(s, "state")));
      note(span.start);
      h.open_remote.emplace(std::to_string(h.open_remote.size()), std::move(span));
    }
  }

  void add_refusals(const std::string& host, const json& answer) {
    for (const json& r : answer["refusals"]) {
      ReportAlert a;
      a.id = text(r, "id");
      a.time = time_at(r, "time");
      a.host = host;
      a.requester = text(r, "requester");
      a.address = text(r, "address");
      a.detection = text(r, "detection");
      a.holder = text(r, "holder");
      a.holder_state = text(r, "holder_state");
      a.rule = text(r, "rule");
      note(a.time);
      data_.alerts.push_back(std::move(a));
    }
  }

  // What is open lasts to the last event the agent saw; starts it did not see start the page.
  void close() {
    data_.from = first_;
    data_.to = std::max(last_, first_);
    for (auto& [key, h] : data_.hosts) {
      if (h.open_hold) {
        ConsoleHold hold = std::move(*h.open_hold);
        if (hold.start == 0) hold.start = data_.from;
        hold.end = data_.to;
        h.holds.push_back(std::move(hold));
      }
      for (auto& [k, span] : h.open_remote) {
        if (span.start == 0) span.start = data_.from;
        for (auto& [since, state] : span.states) since = std::max(since, span.start);
        span.end = data_.to;
        h.remote.push_back(std::move(span));
      }
      h.open_hold.reset();
      h.open_remote.clear();
    }
    std::stable_sort(data_.alerts.begin(), data_.alerts.end(),
                     [](const ReportAlert& a, const ReportAlert& b) { return a.time < b.time; });
    for (std::size_t i = 0; i < data_.alerts.size(); ++i) {
      data_.hosts[host_key(data_.alerts[i].host)].alerts.push_back(i);
    }
  }

 private:
  void note(Ticks t) {
    if (t == 0) return;
    if (first_ == 0 || t < first_) first_ = t;
    last_ = std::max(last_, t);
  }

  ReportData& data_;
  Ticks first_ = 0, last_ = 0;
};

bool get(const AgentEndpoint& agent, const std::string& target, json& out, std::string& error) {
  AgentAnswer answer;
  if (!agent_get(agent, target, answer, error)) return false;
  if (answer.status != 200) {
    error = agent_error(answer);
    return false;
  }
  out = std::move(answer.body);
  return true;
}

}  // namespace

bool report_from_agent(const AgentEndpoint& agent, const std::string& computer, ReportData& out,
                       std::string& error) {
  json hosts;
  if (!get(agent, "/v1/hosts", hosts, error)) return false;
  Drawing drawing(out);
  bool found = computer.empty();
  for (const json& listed : hosts["hosts"]) {
    const std::string name = text(listed, "name");
    if (!computer.empty() && host_key(name) != host_key(computer)) continue;
    found = true;
    const std::string base = "/v1/hosts/" + url_path_segment(name) + "/";
    json console, sessions, refusals;
    if (!get(agent, base + "console", console, error) ||
        !get(agent, base + "sessions", sessions, error) ||
        !get(agent, base + "refusals", refusals, error)) {
      return false;
    }
    HostReport& h = out.hosts[host_key(name)];
    h.name = name;
    drawing.add_console(h, console);
    drawing.add_sessions(h, sessions);
    drawing.add_refusals(name, refusals);
  }
  if (!found) {
    error = "the agent at " + agent.url + " knows no computer '" + computer + "'";
    return false;
  }
  drawing.close();
  return true;
}

}  // namespace sw::cli
