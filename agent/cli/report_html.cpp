#include "cli/report_html.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "cli/commands.hpp"

namespace sw::cli {

namespace {

constexpr double kWidth = 1200;  // SVG user units across a timeline
constexpr int kMarkTop = 0, kConsoleTop = 10, kConsoleHeight = 18;
constexpr int kLaneTop = 32, kLaneHeight = 5, kLaneGap = 1, kMaxLanes = 40;
constexpr int kAxisHeight = 14;
constexpr std::size_t kTopN = 10;

const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.sub{color:#555;margin:0 0 12px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:240px;flex:1}
.card h3{font-size:13px;margin:0 0 6px;color:#444;text-transform:uppercase;letter-spacing:.03em}
.card table td{padding:1px 8px 1px 0;white-space:nowrap}.card .n{text-align:right;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:14px;align-items:center;margin:8px 0;font-size:13px}
.sw{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
section.host{content-visibility:auto;contain-intrinsic-size:auto 110px;margin:6px 0 14px}
section.host h3{font-size:14px;margin:0 0 2px}
section.host h3 small{font-weight:normal;color:#555;margin-left:8px}
svg.tl{width:100%;height:auto;display:block;background:#fafafa;border:1px solid #eee}
svg text{font:10px system-ui,sans-serif;fill:#555}
svg .hold text{fill:#fff;font-size:11px}
.active{fill:#2e7d32}.locked{fill:#f9a825}.disconnected{fill:#9e9e9e}
.ractive{fill:#1e88e5}.rdisconnected,.rlocked{fill:#bbdefb}
.mk{fill:#d32f2f;stroke:#d32f2f;stroke-width:1.5}.mk.inferred{fill:#fff}.mk.other{fill:#7b1fa2;stroke:#7b1fa2}
.ml{stroke:#d32f2f;stroke-width:1;opacity:.6}
table.alerts{border-collapse:collapse;width:100%;font-size:13px}
table.alerts th,table.alerts td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left}
table.alerts tr:target{background:#fff59d}
.bar{fill:#d32f2f}
)";

const char* kScript = R"(
window.addEventListener('error',function(e){document.body.setAttribute('data-error',String(e.message))});
(function(){var n=document.querySelectorAll('[data-alert-id]').length;
document.body.setAttribute('data-marks',String(n));document.body.setAttribute('data-ready','1');
document.body.setAttribute('data-parsed-ms',String(Math.round(performance.now())));})();
)";

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// "2026-11-20T13:02:08.0400000Z" -> "2026-11-20 13:02:08"
std::string when(Ticks t) {
  std::string s = format_time(t);
  if (s.size() >= 19) s = s.substr(0, 10) + " " + s.substr(11, 8);
  return s;
}

std::string duration(Ticks d) {
  const long long minutes = d / (60 * kTicksPerSecond);
  if (minutes < 60) return std::to_string(minutes) + " min";
  const long long hours = minutes / 60;
  if (hours < 48) return std::to_string(hours) + " h " + std::to_string(minutes % 60) + " min";
  return std::to_string(hours / 24) + " d " + std::to_string(hours % 24) + " h";
}

std::string account(const std::string& domain, const std::string& user) {
  if (user.empty()) return "?";
  return domain.empty() ? user : domain + "\\" + user;
}

std::string anchor(std::string_view host) {
  return "host-" + markup_escape(host_key(host));
}

class Scale {
 public:
  Scale(Ticks from, Ticks to) : from_(from), span_(std::max<Ticks>(to - from, kTicksPerSecond)) {}
  double x(Ticks t) const {
    return std::clamp(static_cast<double>(t - from_) * kWidth / static_cast<double>(span_), 0.0,
                      kWidth);
  }

 private:
  Ticks from_, span_;
};

// ---- Summary ----

// One holder's time on the console: consecutive holds of one session, whatever their state.
struct Tenure {
  std::string host, holder;
  Ticks start = 0, end = 0;
};

std::vector<Tenure> tenures(const ReportData& data) {
  std::vector<Tenure> out;
  for (const auto& [key, h] : data.hosts) {
    const ConsoleHold* prev = nullptr;
    for (const ConsoleHold& x : h.holds) {
      // The session id may become known later (a Security logon, then its TS-LSM session).
      const bool same =
          prev && prev->user == x.user && prev->domain == x.domain && prev->end >= x.start;
      if (same) {
        out.back().end = x.end;
      } else {
        out.push_back({h.name, account(x.domain, x.user), x.start, x.end});
      }
      prev = &x;
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Tenure& a, const Tenure& b) { return a.end - a.start > b.end - b.start; });
  if (out.size() > kTopN) out.resize(kTopN);
  return out;
}

template <typename Map>
std::vector<std::pair<std::string, std::size_t>> top(const Map& counts) {
  std::vector<std::pair<std::string, std::size_t>> out(counts.begin(), counts.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
  if (out.size() > kTopN) out.resize(kTopN);
  return out;
}

void card_begin(std::string& out, const char* title) {
  out += "<div class=card><h3>";
  out += title;
  out += "</h3><table>";
}

void card_empty(std::string& out, bool empty) {
  if (empty) out += "<tr><td>none</td></tr>";
  out += "</table></div>";
}

void most_refused(std::string& out, const ReportData& data) {
  std::map<std::string, std::size_t> counts;
  for (const auto& [key, h] : data.hosts) {
    if (!h.alerts.empty()) counts[h.name] = h.alerts.size();
  }
  card_begin(out, "Computers with most refusals");
  const auto rows = top(counts);
  for (const auto& [name, n] : rows) {
    out += "<tr><td><a href=\"#" + anchor(name) + "\">" + markup_escape(name) +
           "</a></td><td class=n>" + std::to_string(n) + "</td></tr>";
  }
  card_empty(out, rows.empty());
}

void longest_holds(std::string& out, const ReportData& data) {
  card_begin(out, "Longest console holds");
  const auto rows = tenures(data);
  for (const Tenure& t : rows) {
    out += "<tr><td>" + markup_escape(t.holder) + "</td><td><a href=\"#" + anchor(t.host) + "\">" +
           markup_escape(t.host) + "</a></td><td class=n>" + duration(t.end - t.start) +
           "</td></tr>";
  }
  card_empty(out, rows.empty());
}

void top_requesters(std::string& out, const ReportData& data) {
  std::map<std::string, std::size_t> counts;
  for (const ReportAlert& a : data.alerts)
    ++counts[a.requester.empty() ? "(unknown)" : a.requester];
  card_begin(out, "Top requesters (refused)");
  const auto rows = top(counts);
  for (const auto& [who, n] : rows) {
    out += "<tr><td>" + markup_escape(who) + "</td><td class=n>" + std::to_string(n) + "</td></tr>";
  }
  card_empty(out, rows.empty());
}

// Refusals per hour (per several hours on long ranges, at most 400 bars) as an SVG bar chart.
void per_hour(std::string& out, const ReportData& data) {
  const Ticks hour = 3600 * kTicksPerSecond;
  const Ticks span = std::max<Ticks>(data.to - data.from, 1);
  const Ticks hours = span / hour + 1;
  const Ticks per_bar = hour * ((hours + 399) / 400);
  const std::size_t bars = static_cast<std::size_t>(span / per_bar + 1);
  std::vector<std::size_t> counts(bars, 0);
  for (const ReportAlert& a : data.alerts)
    ++counts[static_cast<std::size_t>((a.time - data.from) / per_bar)];
  const std::size_t peak =
      std::max<std::size_t>(1, *std::max_element(counts.begin(), counts.end()));
  out += "<div class=card style=\"flex-basis:100%\"><h3>Refusals per ";
  out += per_bar == hour ? std::string("hour") : std::to_string(per_bar / hour) + " hours";
  out += " (peak " + std::to_string(peak) + ")</h3><svg class=tl viewBox=\"0 0 " + num(kWidth) +
         " 60\" role=img aria-label=\"refusals per hour\">";
  const double w = kWidth / static_cast<double>(bars);
  for (std::size_t i = 0; i < bars; ++i) {
    if (counts[i] == 0) continue;
    const double h = 46.0 * static_cast<double>(counts[i]) / static_cast<double>(peak);
    out += "<rect class=bar x=\"" + num(w * static_cast<double>(i)) + "\" y=\"" + num(48 - h) +
           "\" width=\"" + num(std::max(w - 0.5, 0.5)) + "\" height=\"" + num(h) + "\"><title>" +
           when(data.from + static_cast<Ticks>(i) * per_bar) + ": " + std::to_string(counts[i]) +
           "</title></rect>";
  }
  out += "<text x=\"0\" y=\"58\">" + when(data.from) + "</text><text x=\"" + num(kWidth) +
         "\" y=\"58\" text-anchor=end>" + when(data.to) + "</text></svg></div>";
}

// ---- Timelines ----

// Tick spacing for about ten labels across the range.
Ticks tick_step(Ticks span) {
  const Ticks minute = 60 * kTicksPerSecond;
  for (Ticks step : {15 * minute, 30 * minute, 60 * minute, 180 * minute, 360 * minute,
                     720 * minute, 1440 * minute, 2880 * minute, 10080 * minute}) {
    if (span / step <= 12) return step;
  }
  const Ticks day = 1440 * minute;
  return (span / 10 / day + 1) * day;  // months or years: whole days, about ten labels
}

std::string axis(const ReportData& data, const Scale& scale, int top) {
  std::string out;
  const Ticks step = tick_step(data.to - data.from);
  const bool days = step >= 1440 * 60 * kTicksPerSecond;
  for (Ticks t = (data.from / step + 1) * step; t < data.to; t += step) {
    const std::string x = num(scale.x(t));
    const bool years = step >= 30 * 1440 * 60 * kTicksPerSecond;
    const std::string label = years ? when(t).substr(0, 10) : when(t).substr(5, days ? 5 : 11);
    out += "<line x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + std::to_string(kConsoleTop) +
           "\" y2=\"" + std::to_string(top) + "\" stroke=\"#ddd\"/><text x=\"" + x + "\" y=\"" +
           std::to_string(top + 11) + "\" text-anchor=middle>" + label + "</text>";
  }
  return out;
}

void console_lane(std::string& out, const HostReport& h, const Scale& scale) {
  for (const ConsoleHold& x : h.holds) {
    const double x0 = scale.x(x.start), x1 = scale.x(x.end);
    const double w = std::max(x1 - x0, 0.5);
    const std::string state(to_string(x.state));
    const std::string who = account(x.domain, x.user);
    out += "<g class=hold><rect class=" + state + " x=\"" + num(x0) + "\" y=\"" +
           std::to_string(kConsoleTop) + "\" width=\"" + num(w) + "\" height=\"" +
           std::to_string(kConsoleHeight) + "\"><title>" + markup_escape(who) + " " + state + " " +
           when(x.start) + " to " + when(x.end) +
           (x.session_id ? " (session " + std::to_string(*x.session_id) + ")" : std::string()) +
           "</title></rect>";
    // Label the holder where there is room for the name.
    if (w > 7.0 * static_cast<double>(x.user.size()) + 8) {
      out += "<text x=\"" + num(x0 + 4) + "\" y=\"" + std::to_string(kConsoleTop + 13) + "\">" +
             markup_escape(x.user) + "</text>";
    }
    out += "</g>";
  }
}

// Greedy lanes: each remote session goes to the first lane free at its start.
std::vector<int> assign_lanes(const std::vector<RemoteSpan>& spans, std::vector<std::size_t>& order,
                              int& lanes) {
  order.resize(spans.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return spans[a].start < spans[b].start; });
  std::vector<Ticks> lane_end;
  std::vector<int> lane(spans.size(), 0);
  for (std::size_t i : order) {
    std::size_t l = 0;
    while (l < lane_end.size() && lane_end[l] > spans[i].start) ++l;
    if (l >= static_cast<std::size_t>(kMaxLanes)) l = kMaxLanes - 1;  // crowded: share the last
    if (l == lane_end.size()) lane_end.push_back(0);
    lane_end[l] = std::max(lane_end[l], spans[i].end);
    lane[i] = static_cast<int>(l);
  }
  lanes = static_cast<int>(lane_end.size());
  return lane;
}

// One path per state for all of a computer's remote sessions: a relay's busy servers have
// thousands, and one element each would make the page slow to open.
void remote_lanes(std::string& out, const HostReport& h, const Scale& scale, int& lanes) {
  std::vector<std::size_t> order;
  const std::vector<int> lane = assign_lanes(h.remote, order, lanes);
  std::map<ConsoleState, std::string> paths;
  for (std::size_t i : order) {
    const RemoteSpan& r = h.remote[i];
    const std::string y = std::to_string(kLaneTop + lane[i] * (kLaneHeight + kLaneGap));
    for (std::size_t s = 0; s < r.states.size(); ++s) {
      const Ticks from = std::max(r.states[s].first, r.start);
      const Ticks to = s + 1 < r.states.size() ? r.states[s + 1].first : r.end;
      if (to < from) continue;
      const double x0 = scale.x(from);
      paths[r.states[s].second] += "M" + num(x0) + " " + y + "h" +
                                   num(std::max(scale.x(to) - x0, 0.5)) + "v" +
                                   std::to_string(kLaneHeight) + "H" + num(x0) + "z";
    }
  }
  for (const auto& [state, d] : paths) {
    out += "<path class=r" + std::string(to_string(state)) + " d=\"" + d + "\"/>";
  }
}

std::string detection_class(const std::string& detection) {
  if (detection == "observed" || detection == "inferred") return detection;
  return "other";
}

void marks(std::string& out, const ReportData& data, const HostReport& h, const Scale& scale,
           int bottom) {
  for (std::size_t i : h.alerts) {
    const ReportAlert& a = data.alerts[i];
    // Kept whole at the edges of the range.
    const std::string x = num(std::clamp(scale.x(a.time), 5.0, kWidth - 5.0));
    out += "<a href=\"#alert-" + markup_escape(a.id) + "\"><line class=ml x1=\"" + x + "\" x2=\"" +
           x + "\" y1=\"" + std::to_string(kConsoleTop) + "\" y2=\"" + std::to_string(bottom) +
           "\"/><path class=\"mk " + detection_class(a.detection) + "\" data-alert-id=\"" +
           markup_escape(a.id) + "\" d=\"M" + x + " " + std::to_string(kConsoleTop + 1) +
           "l-4.5 -8h9z\"><title>" +
           markup_escape(a.requester.empty() ? "(unknown)" : a.requester) + " refused " +
           when(a.time) + " (" + markup_escape(a.detection.empty() ? a.rule : a.detection) + ")" +
           (a.address.empty() ? std::string() : " from " + markup_escape(a.address)) +
           (a.holder.empty() ? std::string() : "; console " + markup_escape(a.holder)) +
           "</title></path></a>";
  }
  (void)kMarkTop;
}

std::string holder_now(const HostReport& h, Ticks to) {
  if (h.holds.empty() || h.holds.back().end < to) return "console free or unknown at the end";
  const ConsoleHold& x = h.holds.back();
  return "console: " + account(x.domain, x.user) + " (" + std::string(to_string(x.state)) + ")";
}

void host_section(std::string& out, const ReportData& data, const HostReport& h) {
  const Scale scale(data.from, data.to);
  std::string body;
  int lanes = 0;
  console_lane(body, h, scale);
  remote_lanes(body, h, scale, lanes);
  const int bottom = kLaneTop + lanes * (kLaneHeight + kLaneGap);
  marks(body, data, h, scale, bottom);
  const int height = bottom + kAxisHeight;
  out += "<section class=host id=\"" + anchor(h.name) + "\"><h3>" + markup_escape(h.name) +
         "<small>" + std::to_string(h.alerts.size()) + " refusal(s), " +
         std::to_string(h.remote.size()) + " remote session(s); " +
         markup_escape(holder_now(h, data.to)) + "</small></h3><svg class=tl viewBox=\"0 0 " +
         num(kWidth) + " " + std::to_string(height) +
         "\" preserveAspectRatio=\"none\" style=\"aspect-ratio:" + num(kWidth) + "/" +
         std::to_string(height) + "\">";
  out += axis(data, scale, bottom);
  out += body;
  out += "</svg></section>\n";
}

void legend(std::string& out) {
  out +=
      "<div class=legend><span>Console:</span>"
      "<span><i class=\"sw\" style=\"background:#2e7d32\"></i>active</span>"
      "<span><i class=\"sw\" style=\"background:#f9a825\"></i>locked</span>"
      "<span><i class=\"sw\" style=\"background:#9e9e9e\"></i>disconnected</span>"
      "<span>Remote sessions (thin lanes below):</span>"
      "<span><i class=\"sw\" style=\"background:#1e88e5\"></i>connected</span>"
      "<span><i class=\"sw\" style=\"background:#bbdefb\"></i>disconnected</span>"
      "<span>Refused logon: <svg width=12 height=10><path class=mk d=\"M6 9l-4.5-8h9z\"/></svg>"
      " observed (7063/7062 in a log) <svg width=12 height=10><path class=\"mk inferred\" "
      "d=\"M6 9l-4.5-8h9z\"/></svg> inferred (refused console arbitration)</span></div>";
}

void alerts_table(std::string& out, const ReportData& data) {
  out += "<h2>Alerts (" + std::to_string(data.alerts.size()) +
         ")</h2><table class=alerts><thead><tr><th>time (UTC)</th><th>computer</th>"
         "<th>refused</th><th>from</th><th>detection</th><th>console held by</th><th>rule</th>"
         "</tr></thead><tbody>\n";
  for (const ReportAlert& a : data.alerts) {
    out += "<tr id=\"alert-" + markup_escape(a.id) + "\"><td>" + when(a.time) +
           "</td><td><a href=\"#" + anchor(a.host) + "\">" + markup_escape(a.host) +
           "</a></td><td>" + markup_escape(a.requester.empty() ? "(unknown)" : a.requester) +
           "</td><td>" + markup_escape(a.address) + "</td><td>" + markup_escape(a.detection) +
           "</td><td>" + markup_escape(a.holder) +
           (a.holder_state.empty() ? "" : " (" + markup_escape(a.holder_state) + ")") +
           "</td><td>" + markup_escape(a.rule) + "</td></tr>\n";
  }
  out += "</tbody></table>";
}

// Computers with refusals first (most first), then the rest by name.
std::vector<const HostReport*> host_order(const ReportData& data) {
  std::vector<const HostReport*> hosts;
  for (const auto& [key, h] : data.hosts) hosts.push_back(&h);
  std::stable_sort(hosts.begin(), hosts.end(), [](const HostReport* a, const HostReport* b) {
    return a->alerts.size() > b->alerts.size();
  });
  return hosts;
}

}  // namespace

std::string markup_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string render_report_html(const ReportData& data, const ReportPage& page) {
  std::string out;
  out.reserve(1 << 20);
  out +=
      "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
      "<meta name=viewport content=\"width=device-width\"><title>sessionwatch: console "
      "occupancy " +
      when(data.from) + " to " + when(data.to) + "</title><style>";
  out += kStyle;
  out += "</style></head><body>\n<h1>Who held the console, and who was refused</h1><p class=sub>" +
         when(data.from) + " to " + when(data.to) + " UTC &middot; " +
         std::to_string(data.hosts.size()) + " computer(s) &middot; " +
         std::to_string(data.alerts.size()) + " refusal alert(s) &middot; from ";
  for (std::size_t i = 0; i < page.inputs.size(); ++i) {
    out += (i ? ", " : "") + markup_escape(page.inputs[i]);
  }
  out += " &middot; generated " + markup_escape(page.generated) + "</p>\n<div class=cards>";
  most_refused(out, data);
  longest_holds(out, data);
  top_requesters(out, data);
  per_hour(out, data);
  out += "</div>\n<h2>Console occupancy per computer</h2>";
  legend(out);
  for (const HostReport* h : host_order(data)) host_section(out, data, *h);
  alerts_table(out, data);
  out += "\n<script>";
  out += kScript;
  out += "</script></body></html>\n";
  return out;
}

}  // namespace sw::cli
