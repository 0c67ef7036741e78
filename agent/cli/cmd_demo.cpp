// `sessionwatch demo`: the bundled sample through the whole detection chain.
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/scan_output.hpp"

namespace sw::embedded {
extern const std::string_view sample_events_xml;
extern const std::string_view sample_tool_output_txt;
}  // namespace sw::embedded

namespace sw::cli {

namespace {
constexpr const char* kDemoHelp = R"(Usage: sessionwatch demo [--format table|json] [--sessions]

Runs the detection chain over the sample compiled into the binary: one workstation
(WS-FIN-07) where CORP\alice is logged on at the console and locks it, CORP\bob's RDP logons are
refused twice (Windows logs the console arbitration, not the error: sessionwatch infers 7063),
a helpdesk script logs "Error [7063]" and an inventory agent logs HRESULT 0x80071B97
(observed), plus the tool output of the same afternoon as text lines.

  --format table   a table for people (the default)
  --format json    the alert documents, one JSON object per line (ECS field names)
  --sessions       the session timeline instead of alerts
)";
}  // namespace

int cmd_demo(const std::vector<std::string>& args) {
  Args a(args, {"format"}, {"help", "sessions"}, {{'h', "help"}});
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
  ScanOutput output(a.flag("sessions") ? ScanOutput::Mode::kSessions
                    : format == "json" ? ScanOutput::Mode::kJson
                                       : ScanOutput::Mode::kTable,
                    {});
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
  DecodeStats xml = decode_buffer(embedded::sample_events_xml, "sample_events.xml", options, sink);
  options.format = InputFormat::kText;
  options.default_computer = "WS-FIN-07";
  DecodeStats text =
      decode_buffer(embedded::sample_tool_output_txt, "sample_tool_output.txt", options, sink);
  output.finish();
  std::fprintf(stderr, "sessionwatch demo: %llu events decoded, %zu alert(s)\n",
               static_cast<unsigned long long>(xml.records_read + text.records_read),
               output.alert_count());
  return bad > 0 ? kExitSomeBad : kExitOk;
}

}  // namespace sw::cli
