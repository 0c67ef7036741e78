// The session timeline for `scan --sessions`.
#include <algorithm>

#include "session/names.hpp"
#include "sessionwatch/session.hpp"

namespace sw {

using session_detail::join_account;

namespace {

std::string describe_console(const ConsoleInfo& c) {
  if (c.state == ConsoleState::kUnknown) return "console unknown";
  if (c.state == ConsoleState::kNone) {
    std::string s = "console free";
    if (c.since) s += " since " + format_time(c.since);
    return s;
  }
  std::string s = "console " + (c.user.empty() ? std::string("?") : join_account(c.domain, c.user));
  if (c.session_id) s += " session " + std::to_string(*c.session_id);
  s += " " + std::string(to_string(c.state));
  if (c.since) s += " since " + format_time(c.since);
  return s;
}

void pad(std::string& line, std::size_t column) {
  line.append(line.size() < column ? column - line.size() : 1, ' ');
}

}  // namespace

std::string render_timeline(const SessionTracker& tracker, std::string_view host) {
  std::vector<std::string> hosts;
  if (host.empty()) {
    hosts = tracker.hosts();
  } else {
    hosts.emplace_back(host);
  }
  std::string out;
  for (const std::string& h : hosts) {
    out += "== " + h + " (" + describe_console(tracker.console(h)) + ")\n";
    for (const TimelineEntry& e : tracker.timeline(h)) {
      std::string line = "  " + format_time(e.time);
      pad(line, 32);
      line += e.kind;
      pad(line, 54);
      line += e.user.empty() ? "-" : join_account(e.domain, e.user);
      pad(line, 80);
      line += e.session_id ? "session " + std::to_string(*e.session_id) : "session -";
      pad(line, 94);
      line += e.address.empty() ? "-" : e.address;
      if (!e.detail.empty()) line += "  " + e.detail;
      out += line;
      out.push_back('\n');
    }
    const auto sessions = tracker.sessions(h);
    if (!sessions.empty()) {
      out += "  open sessions:\n";
      for (const SessionRecord& s : sessions) {
        std::string line = "    ";
        line += s.session_id ? "session " + std::to_string(*s.session_id) : "logon";
        if (s.logon_id) {
          char buf[24];
          std::snprintf(buf, sizeof buf, " 0x%llx", static_cast<unsigned long long>(s.logon_id));
          line += buf;
        }
        pad(line, 28);
        line += s.user.empty() ? "?" : join_account(s.domain, s.user);
        pad(line, 54);
        line += s.address.empty() ? "-" : s.address;
        line += " " + std::string(to_string(s.state));
        if (s.console) line += " console";
        if (s.state_since) line += " since " + format_time(s.state_since);
        out += line;
        out.push_back('\n');
      }
    }
  }
  return out;
}

}  // namespace sw
