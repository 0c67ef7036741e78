// `sessionwatch report`: the console-occupancy page, drawn by the detection chain `scan` runs.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/report_from_agent.hpp"
#include "cli/report_html.hpp"
#include "cli/report_model.hpp"
#include "cli/scan_output.hpp"
#include "sessionwatch/decode.hpp"

namespace sw::cli {

namespace {

constexpr const char* kReportHelp = R"(Usage: sessionwatch report [options] -o report.html FILE...
       sessionwatch report --from-agent URL [--computer NAME] -o report.html

Reads the same files as 'sessionwatch scan' (EVTX, Event XML, Winlogbeat/NXLog JSON lines, tool
output; '-' is standard input), runs the same detections and writes one self-contained HTML page
(no network access, nothing to install) that shows, per computer:
  - who held the console when, shaded active / locked / disconnected,
  - the remote sessions as thin lanes beneath,
  - each refused logon (7063/7062 observed in a log, or inferred from a refused console
    arbitration) as a red mark: hover for requester, time and detection, click for its row in
    the alerts table below (each mark carries data-alert-id="<the alert's event.id>"),
and on top: the computers with most refusals, the longest console holds, the top requesters
and the refusals per hour.

With --from-agent, the page shows a running agent's state instead of files: who holds each
console now and since when, the open remote sessions, and the recent refusals the agent keeps
(docs/query.md), up to the last event the agent saw.

Options:
  -o, --output FILE    the page to write (required; '-' writes to standard output)
  --rules DIR          load Sigma rules from DIR (repeatable); without it the built-in
                       detections run, as with scan
  --from T, --to T     only this time range (UTC, 2026-11-20T08:00:00Z or 2026-11-20); the
                       default is the time the input spans
  --computer NAME      only this computer (FQDN or short name, any case)
  --from-agent URL     draw the running agent at URL (its metrics.listen address, e.g.
                       http://127.0.0.1:9464) instead of files
  --token-file FILE    with --from-agent: the agent's bearer token (else SESSIONWATCH_TOKEN)
  -h, --help           this text

Examples:
  sessionwatch report -o console.html Security.evtx TerminalServices-LocalSessionManager.evtx
  sessionwatch report --from-agent http://127.0.0.1:9464 -o now.html

Exit status: 0 written and all records decoded, 1 written but some records were bad (the first
reasons are printed on stderr), 2 usage error, unreadable input or the page cannot be written,
3 the agent could not be asked (--from-agent).
)";

std::optional<Ticks> parse_report_time(const std::string& s) {
  if (auto t = parse_time(s)) return t;
  if (s.size() == 10) return parse_time(s + "T00:00:00Z");  // a date alone: its start
  return std::nullopt;
}

bool write_page(const std::string& path, const std::string& html) {
  if (path == "-") return std::fwrite(html.data(), 1, html.size(), stdout) == html.size();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(html.data(), static_cast<std::streamsize>(html.size()));
  out.close();
  return static_cast<bool>(out);
}

std::string now_text() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  return format_time(static_cast<Ticks>(seconds) * kTicksPerSecond).substr(0, 19) + "Z";
}

// Decode errors: the first few on stderr as they come, then a count.
struct DecodeProblems {
  std::uint64_t count = 0;
  bool unreadable = false;
  void add(const DecodeError& e) {
    if (++count <= 5) {
      std::fprintf(stderr, "sessionwatch report: %s:%llu: %s\n", e.origin.c_str(),
                   static_cast<unsigned long long>(e.position), e.reason.c_str());
    }
  }
};

// The same decode -> detector chain as scan, with the recorder on the tracker and the alerts.
bool record(const Args& a, ReportRecorder& recorder, DecodeProblems& problems) {
  ScanOutput output(ScanOutput::Mode::kCollect, a.values("rules"), ScanOutput::Input::kTimeOrdered,
                    [&recorder](const SessionTracker& tracker, std::string_view host, Ticks t) {
                      recorder.on_state_change(tracker, host, t);
                    });
  if (!output.ok()) {
    std::fprintf(stderr, "sessionwatch report: %s\n", output.error().c_str());
    return false;
  }
  Progress progress("reading");
  DetectingSink sink(
      output, [&](const DecodeError& e) { problems.add(e); }, progress);
  // One stream in event time across the files, as scan reads them: the same alerts, in any order
  // of arguments.
  const DecodeStats s = decode_files_merged(a.positional(), DecodeOptions{}, sink);
  if (s.records_read == 0 && s.bytes_read == 0 && problems.count > 0) problems.unreadable = true;
  output.finish();
  for (const Alert& alert : output.alerts()) recorder.on_alert(alert);
  return true;
}

int usage_error(const std::string& why) {
  std::fprintf(stderr, "sessionwatch report: %s\n\n%s", why.c_str(), kReportHelp);
  return kExitUsage;
}

int report_agent(const Args& a) {
  constexpr int kExitNoAgent = 3;
  if (!a.positional().empty()) return usage_error("--from-agent reads no FILE");
  if (a.value("from") || a.value("to") || !a.values("rules").empty()) {
    return usage_error("--from, --to and --rules read files; not with --from-agent");
  }
  AgentEndpoint agent;
  std::string error;
  if (!make_agent_endpoint(*a.value("from-agent"), a.value("token-file"), agent, error)) {
    return usage_error(error);
  }
  ReportData data;
  if (!report_from_agent(agent, a.value("computer").value_or(std::string()), data, error)) {
    std::fprintf(stderr, "sessionwatch report: %s\n", error.c_str());
    return kExitNoAgent;
  }
  const std::string out = *a.value("output");
  if (!write_page(out, render_report_html(data, ReportPage{{"agent " + agent.url}, now_text()}))) {
    std::fprintf(stderr, "sessionwatch report: cannot write %s\n", out.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

int cmd_report(const std::vector<std::string>& args) {
  Args a(args, {"output", "rules", "from", "to", "computer", "from-agent", "token-file"}, {"help"},
         {{'h', "help"}, {'o', "output"}});
  if (a.flag("help")) {
    std::fputs(kReportHelp, stdout);
    return kExitOk;
  }
  const auto usage = usage_error;
  if (!a.ok()) return usage(a.error());
  if (!a.value("output")) return usage("-o FILE is required");
  if (a.value("from-agent")) return report_agent(a);
  if (a.value("token-file")) return usage("--token-file goes with --from-agent");
  if (a.positional().empty()) return usage("no FILE given ('-' reads standard input)");
  ReportFilter filter;
  const std::optional<std::string> from = a.value("from"), to = a.value("to");
  if (from && !(filter.from = parse_report_time(*from))) return usage("--from: not a UTC time");
  if (to && !(filter.to = parse_report_time(*to))) return usage("--to: not a UTC time");
  filter.computer = a.value("computer").value_or(std::string());

  ReportRecorder recorder;
  DecodeProblems problems;
  if (!record(a, recorder, problems)) return kExitUsage;
  if (problems.count > 5) {
    std::fprintf(stderr, "sessionwatch report: %llu bad record(s) in all\n",
                 static_cast<unsigned long long>(problems.count));
  }
  const ReportData data = recorder.finish(filter);
  const std::string out = *a.value("output");
  if (!write_page(out, render_report_html(data, ReportPage{a.positional(), now_text()}))) {
    std::fprintf(stderr, "sessionwatch report: cannot write %s\n", out.c_str());
    return kExitUsage;
  }
  if (problems.unreadable) return kExitUsage;
  return problems.count > 0 ? kExitSomeBad : kExitOk;
}

}  // namespace sw::cli
