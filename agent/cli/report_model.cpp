#include "cli/report_model.hpp"

#include <algorithm>
#include <utility>

namespace sw::cli {

namespace {

bool holds_console(ConsoleState s) {
  return s == ConsoleState::kActive || s == ConsoleState::kLocked ||
         s == ConsoleState::kDisconnected;
}

bool same_hold(const ConsoleHold& h, const ConsoleInfo& c) {
  return h.state == c.state && h.user == c.user && h.domain == c.domain &&
         h.session_id == c.session_id;
}

// Remote sessions are known by their TS session id, or by their logon id before one is linked.
std::string session_key(const SessionRecord& s) {
  return s.session_id ? "s" + std::to_string(*s.session_id) : "l" + std::to_string(s.logon_id);
}

}  // namespace

HostReport& ReportRecorder::host(std::string_view name) {
  HostReport& h = data_.hosts[host_key(name)];
  // The tracker names a host by its DNS name once one was seen: keep the latest spelling.
  if (h.name.empty() || (name.find('.') != std::string_view::npos && h.name != name)) {
    h.name.assign(name);
  }
  return h;
}

void ReportRecorder::note_time(Ticks t) {
  if (first_ == 0 || t < first_) first_ = t;
  if (t > last_) last_ = t;
}

void ReportRecorder::on_state_change(const SessionTracker& tracker, std::string_view name,
                                     Ticks time) {
  note_time(time);
  HostReport& h = host(name);
  record_console(h, tracker.console(name), time);
  record_remote(h, tracker.sessions(name), time);
}

void ReportRecorder::record_console(HostReport& h, const ConsoleInfo& c, Ticks t) {
  if (h.open_hold && same_hold(*h.open_hold, c)) return;
  if (h.open_hold) {
    h.open_hold->end = t;
    h.holds.push_back(std::move(*h.open_hold));
    h.open_hold.reset();
  }
  if (!holds_console(c.state)) return;
  h.open_hold = ConsoleHold{t, t, c.user, c.domain, c.session_id, c.state};
}

void ReportRecorder::record_remote(HostReport& h, const std::vector<SessionRecord>& sessions,
                                   Ticks t) {
  std::map<std::string, RemoteSpan> still_open;
  for (const SessionRecord& s : sessions) {
    if (s.console) continue;
    const std::string key = session_key(s);
    auto it = h.open_remote.find(key);
    RemoteSpan span;
    if (it != h.open_remote.end()) {
      span = std::move(it->second);
      h.open_remote.erase(it);
    } else {
      span.start = t;
      span.session_id = s.session_id;
    }
    span.user = s.user;
    span.domain = s.domain;
    if (!s.address.empty()) span.address = s.address;
    if (span.states.empty() || span.states.back().second != s.state)
      span.states.emplace_back(t, s.state);
    still_open.emplace(key, std::move(span));
  }
  for (auto& [key, span] : h.open_remote) {  // gone since the last change: ended
    span.end = t;
    h.remote.push_back(std::move(span));
  }
  h.open_remote = std::move(still_open);
}

void ReportRecorder::on_alert(const Alert& alert) {
  note_time(alert.time);
  ReportAlert a = daemon::summarize_alert(alert);
  host(a.host);
  data_.alerts.push_back(std::move(a));
}

namespace {

// Keeps the part of [start, end] inside [from, to]; false when nothing is left.
bool clip(Ticks& start, Ticks& end, Ticks from, Ticks to) {
  if (end < from || start > to) return false;
  start = std::max(start, from);
  end = std::min(end, to);
  return true;
}

void clip_host(HostReport& h, Ticks from, Ticks to) {
  std::erase_if(h.holds, [&](ConsoleHold& x) { return !clip(x.start, x.end, from, to); });
  std::erase_if(h.remote, [&](RemoteSpan& x) { return !clip(x.start, x.end, from, to); });
  for (RemoteSpan& r : h.remote) {
    // A state before the window starts holds at its start.
    for (auto& [since, state] : r.states) since = std::max(since, from);
  }
}

}  // namespace

ReportData ReportRecorder::finish(const ReportFilter& filter) {
  ReportData out = std::move(data_);
  out.from = filter.from.value_or(first_);
  out.to = filter.to.value_or(last_);
  if (out.to < out.from) out.to = out.from;
  // Alerts arrive when decided (an arbitration after its grace time): the page reads by time.
  std::stable_sort(out.alerts.begin(), out.alerts.end(),
                   [](const ReportAlert& a, const ReportAlert& b) { return a.time < b.time; });
  std::erase_if(out.alerts, [&](const ReportAlert& a) {
    return a.time < out.from || a.time > out.to ||
           (!filter.computer.empty() && host_key(a.host) != host_key(filter.computer));
  });
  for (auto it = out.hosts.begin(); it != out.hosts.end();) {
    HostReport& h = it->second;
    if (!filter.computer.empty() && it->first != host_key(filter.computer)) {
      it = out.hosts.erase(it);
      continue;
    }
    // What is still open lasts to the end of the data.
    if (h.open_hold) {
      h.open_hold->end = std::max(h.open_hold->start, last_);
      h.holds.push_back(std::move(*h.open_hold));
    }
    for (auto& [key, span] : h.open_remote) {
      span.end = std::max(span.start, last_);
      h.remote.push_back(std::move(span));
    }
    h.open_hold.reset();
    h.open_remote.clear();
    clip_host(h, out.from, out.to);
    ++it;
  }
  for (std::size_t i = 0; i < out.alerts.size(); ++i) {
    out.hosts[host_key(out.alerts[i].host)].alerts.push_back(i);
  }
  return out;
}

}  // namespace sw::cli
