// `sessionwatch demo`: the agent itself (`run --once`) on the sample compiled into the binary.
// The sample is written out as the files a Windows collector would leave (Event XML, tool output
// as text), with a configuration that follows them; the engine reads them to their end, writes
// the alerts to a JSON-lines file output (and stdout with --format json), and exits once they
// are delivered. The table is rendered from that file: what the demo prints is what was written.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/scan_output.hpp"
#include "sessionwatch/alert_builder.hpp"
#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/alert_table.hpp"
#include "sessionwatch/daemon.hpp"

namespace sw::embedded {
extern const std::string_view sample_events_xml;
extern const std::string_view sample_tool_output_txt;
}  // namespace sw::embedded

namespace sw::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kDemoHelp =
    R"(Usage: sessionwatch demo [--format table|json] [--dir DIR] [--sessions]

Runs the agent (`sessionwatch run --once`) over the sample compiled into the binary: one
workstation (WS-FIN-07) where CORP\alice is logged on at the console and locks it, CORP\bob's
RDP logons are refused twice (Windows logs the console arbitration, not the error: sessionwatch
infers 7063), a helpdesk script logs "Error [7063]" and an inventory agent logs HRESULT
0x80071B97 (observed), plus the tool output of the same afternoon as text lines.

The sample is written to DIR/in as Event XML and text files, with DIR/sessionwatch.yaml following
them and writing alerts to DIR/alerts.jsonl; the agent reads both files to their end, merging them
in time order, delivers the alerts and exits. Each run starts afresh.

  --format table   a table for people, rendered from DIR/alerts.jsonl (the default)
  --format json    the alert documents on stdout, one JSON object per line (ECS field names),
                   from the agent's stdout output
  --dir DIR        keep the sample, configuration, state and alerts in DIR (default: a
                   temporary folder, removed at the end)
  --sessions       the session timeline instead of alerts (the scan pipeline; no agent)
)";

// Held long enough to merge the two files of the sample day in time order, as `scan` does.
constexpr std::int64_t kReorderWindowSeconds = 30LL * 86400;

std::string quoted(const fs::path& p) {
  return nlohmann::json(p.generic_string()).dump();  // a JSON string is a YAML scalar too
}

bool write_file(const fs::path& path, std::string_view data, std::string& error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  // The agent reads complete lines only: make sure the last one is terminated.
  if (!data.empty() && data.back() != '\n') out.put('\n');
  out.close();
  if (!out) error = "cannot write " + path.string();
  return static_cast<bool>(out);
}

std::optional<fs::path> make_temp_dir(std::string& error) {
  std::random_device random;
  std::error_code ec;
  const fs::path base = fs::temp_directory_path(ec);
  if (ec) {
    error = "no temporary folder: " + ec.message();
    return std::nullopt;
  }
  for (int attempt = 0; attempt < 16; ++attempt) {
    const fs::path dir = base / ("sessionwatch-demo-" + std::to_string(random()));
    if (fs::create_directory(dir, ec)) return dir;
  }
  error = "cannot create a folder in " + base.string();
  return std::nullopt;
}

// The sample's files, and a configuration that follows them, in a clean `dir`.
bool prepare(const fs::path& dir, bool json_on_stdout, fs::path& config, std::string& error) {
  std::error_code ec;
  // Each run starts afresh: the previous run's checkpoints would make this one read nothing.
  for (const char* old : {"data", "in", "alerts.jsonl", "sessionwatch.yaml"}) {
    fs::remove_all(dir / old, ec);
  }
  fs::create_directories(dir / "in", ec);
  if (ec) {
    error = "cannot create " + (dir / "in").string() + ": " + ec.message();
    return false;
  }
  if (!write_file(dir / "in" / "sample_events.xml", embedded::sample_events_xml, error) ||
      !write_file(dir / "in" / "sample_tool_output.txt", embedded::sample_tool_output_txt, error)) {
    return false;
  }
  std::ostringstream yaml;
  yaml << "# Written by `sessionwatch demo`; run it again with\n"
       << "#   sessionwatch run -c " << (dir / "sessionwatch.yaml").string()
       << " --once --reorder-window " << kReorderWindowSeconds << "\n"
       << "agent:\n"
       << "  data_dir: " << quoted(dir / "data") << "\n"
       << "  log_level: info\n"
       << "inputs:\n"
       << "  - type: file\n"
       << "    name: sample-events\n"
       << "    paths: [" << quoted(dir / "in" / "*.xml") << "]\n"
       << "    format: xml\n"
       << "  - type: file\n"
       << "    name: tool-output\n"
       << "    paths: [" << quoted(dir / "in" / "*.txt") << "]\n"
       << "    format: text\n"
       << "    computer: WS-FIN-07\n"
       << "outputs:\n"
       << "  - type: file\n"
       << "    name: alerts-file\n"
       << "    path: " << quoted(dir / "alerts.jsonl") << "\n";
  if (json_on_stdout) {
    yaml << "  - type: stdout\n"
         << "    name: console\n"
         << "    format: json\n";
  }
  config = dir / "sessionwatch.yaml";
  return write_file(config, yaml.str(), error);
}

std::vector<Alert> read_alerts(const fs::path& file) {
  std::vector<Alert> alerts;
  std::ifstream in(file, std::ios::binary);
  for (std::string line; std::getline(in, line);) {
    if (auto alert = parse_alert_json(line)) alerts.push_back(std::move(*alert));
  }
  return alerts;
}

// The session timeline: the scan pipeline over the embedded sample (the agent keeps no timeline).
int print_sessions() {
  ScanOutput output(ScanOutput::Mode::kSessions, {});
  if (!output.ok()) {
    std::fprintf(stderr, "sessionwatch demo: %s\n", output.error().c_str());
    return kExitUsage;
  }
  std::uint64_t bad = 0;
  Progress progress("demo");
  DetectingSink sink(
      output,
      [&](const DecodeError& e) {
        ++bad;
        std::fprintf(stderr, "sessionwatch demo: %s:%llu: %s\n", e.origin.c_str(),
                     static_cast<unsigned long long>(e.position), e.reason.c_str());
      },
      progress);
  DecodeOptions options;
  decode_buffer(embedded::sample_events_xml, "sample_events.xml", options, sink);
  options.format = InputFormat::kText;
  options.default_computer = "WS-FIN-07";
  decode_buffer(embedded::sample_tool_output_txt, "sample_tool_output.txt", options, sink);
  output.finish();
  return bad > 0 ? kExitSomeBad : kExitOk;
}

}  // namespace

int cmd_demo(const std::vector<std::string>& args) {
  Args a(args, {"format", "dir"}, {"help", "sessions"}, {{'h', "help"}});
  if (a.flag("help")) {
    std::fputs(kDemoHelp, stdout);
    return kExitOk;
  }
  const std::string format = a.value("format").value_or("table");
  if (!a.ok() || !a.positional().empty() || (format != "table" && format != "json")) {
    std::fprintf(stderr, "sessionwatch demo: %s\n\n%s",
                 a.ok() ? "bad arguments" : a.error().c_str(), kDemoHelp);
    return kExitUsage;
  }
  if (a.flag("sessions")) return print_sessions();

  std::string error;
  const bool keep = a.value("dir").has_value();
  std::optional<fs::path> dir;
  if (keep) {
    dir = fs::absolute(fs::path(*a.value("dir")));
  } else {
    dir = make_temp_dir(error);
  }
  fs::path config;
  if (!dir || !prepare(*dir, format == "json", config, error)) {
    std::fprintf(stderr, "sessionwatch demo: %s\n", error.c_str());
    return kExitSomeBad;
  }
  std::fprintf(stderr, "sessionwatch demo: sessionwatch run --once -c %s\n",
               config.string().c_str());
  std::fflush(stderr);

  RunOptions options;
  options.once = true;
  options.reorder_window_seconds = kReorderWindowSeconds;
  RunSummary summary;
  const int status = run_daemon(config.string(), options, &summary);
  const fs::path alerts_file = *dir / "alerts.jsonl";
  if (status == kDaemonExitOk && format == "table") {
    std::fputs(render_alert_table(read_alerts(alerts_file)).c_str(), stdout);
    std::fflush(stdout);
  }
  std::fprintf(
      stderr, "sessionwatch demo: %llu events read, %llu alert(s) written to %s\n",
      static_cast<unsigned long long>(summary.events_read),
      static_cast<unsigned long long>(summary.alerts),
      keep ? alerts_file.string().c_str() : "a temporary alerts.jsonl (use --dir to keep it)");
  if (!keep) {
    std::error_code ec;
    fs::remove_all(*dir, ec);
  }
  if (status != kDaemonExitOk) return status;
  return summary.events_bad > 0 ? kExitSomeBad : kExitOk;
}

}  // namespace sw::cli
