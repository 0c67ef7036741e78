// `sessionwatch scan`: decode files and print alerts, normalized events or counts.
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/scan_output.hpp"
#include "sessionwatch/decode.hpp"

namespace sw::cli {

namespace {

constexpr const char* kScanHelp = R"(Usage: sessionwatch scan [options] FILE...

Decodes each FILE (EVTX, Event XML, JSON lines from Winlogbeat or NXLog, or plain text such as
logoff/rwinsta/tscon output; the format is detected from the content) and prints, by default, the
alerts raised for 7063/7062 refusals as JSON lines. '-' reads standard input.

What to print (pick one):
  (default)            alerts, one JSON document per line (ECS field names)
  --events             every normalized event as a JSON line (Winlogbeat/ECS shape; scan reads
                       this back unchanged)
  --stats              one JSON object: records read and bad, counts per channel and event id
  --sessions           the session timeline of each computer, as text

Options:
  --format json|table  how to print alerts (default json); table is for people
  --rules DIR          load Sigma rules from DIR (repeatable); without it the built-in
                       detections run
  --input-format F     auto|evtx|xml|jsonl|text (default auto)
  --computer NAME      computer name for text lines that do not carry one
  -h, --help           this text

Exit status: 0 all records decoded, 1 some records were bad (the rest were read; the first
reasons are printed on stderr), 2 usage error or unreadable file.
)";

// Counts and remembers the first few decode errors, for the summary on stderr.
class ErrorLog {
 public:
  void add(const DecodeError& e) {
    ++count_;
    if (first_.size() < kKeep) {
      first_.push_back(e.origin + ":" + std::to_string(e.position) + ": " + e.reason);
    }
  }
  void print_summary() const {
    if (count_ == 0) return;
    std::fprintf(stderr, "sessionwatch: %llu bad record(s); first reasons:\n",
                 static_cast<unsigned long long>(count_));
    for (const std::string& line : first_) std::fprintf(stderr, "  %s\n", line.c_str());
  }
  std::uint64_t count() const { return count_; }

 private:
  static constexpr std::size_t kKeep = 5;
  std::uint64_t count_ = 0;
  std::vector<std::string> first_;
};

class EventsSink : public EventSink {
 public:
  EventsSink(ErrorLog& errors, Progress& progress) : errors_(errors), progress_(progress) {}
  void on_event(Event& event) override {
    line_.clear();
    write_event_json(event, line_);
    line_.push_back('\n');
    std::fwrite(line_.data(), 1, line_.size(), stdout);
    ++records_;
  }
  void on_error(const DecodeError& error) override { errors_.add(error); }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    progress_.update(done, total, records_);
  }

 private:
  ErrorLog& errors_;
  Progress& progress_;
  std::string line_;
  std::uint64_t records_ = 0;
};

class StatsSink : public EventSink {
 public:
  StatsSink(ErrorLog& errors, Progress& progress) : errors_(errors), progress_(progress) {}
  void on_event(Event& event) override {
    ++counts_[std::string(event.channel())][event.event_id];
    ++records_;
  }
  void on_error(const DecodeError& error) override { errors_.add(error); }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    progress_.update(done, total, records_);
  }
  nlohmann::json to_json(std::uint64_t bad, std::uint64_t bytes) const {
    nlohmann::json channels = nlohmann::json::object();
    for (const auto& [channel, ids] : counts_) {
      nlohmann::json per_id = nlohmann::json::object();
      for (const auto& [id, n] : ids) per_id[std::to_string(id)] = n;
      channels[channel] = per_id;
    }
    return {{"records_read", records_},
            {"records_bad", bad},
            {"bytes_read", bytes},
            {"channels", channels}};
  }

 private:
  ErrorLog& errors_;
  Progress& progress_;
  std::map<std::string, std::map<std::uint32_t, std::uint64_t>> counts_;
  std::uint64_t records_ = 0;
};

}  // namespace

int cmd_scan(const std::vector<std::string>& args) {
  Args a(args, {"format", "rules", "input-format", "computer"},
         {"help", "events", "stats", "sessions"}, {{'h', "help"}});
  if (a.flag("help")) {
    std::fputs(kScanHelp, stdout);
    return kExitOk;
  }
  if (!a.ok()) {
    std::fprintf(stderr, "sessionwatch scan: %s\n\n%s", a.error().c_str(), kScanHelp);
    return kExitUsage;
  }
  const int modes = a.flag("events") + a.flag("stats") + a.flag("sessions");
  if (modes > 1) {
    std::fputs("sessionwatch scan: choose one of --events, --stats, --sessions\n", stderr);
    return kExitUsage;
  }
  if (a.positional().empty()) {
    std::fprintf(stderr, "sessionwatch scan: no FILE given ('-' reads standard input)\n\n%s",
                 kScanHelp);
    return kExitUsage;
  }
  DecodeOptions options;
  if (auto f = a.value("input-format"); f && !parse_input_format(*f, options.format)) {
    std::fprintf(stderr, "sessionwatch scan: --input-format must be auto|evtx|xml|jsonl|text\n");
    return kExitUsage;
  }
  if (auto c = a.value("computer")) options.default_computer = *c;
  const std::string format = a.value("format").value_or("json");
  if (format != "json" && format != "table") {
    std::fputs("sessionwatch scan: --format must be json or table\n", stderr);
    return kExitUsage;
  }

  ErrorLog errors;
  DecodeStats total;
  bool unreadable = false;
  auto run_files = [&](EventSink& sink) {
    for (const std::string& path : a.positional()) {
      const std::uint64_t errors_before = errors.count();
      DecodeStats s = decode_file(path, options, sink);
      // Nothing read and an error reported: the file itself could not be opened or read.
      if (s.records_read == 0 && s.bytes_read == 0 && errors.count() > errors_before) {
        unreadable = true;
      }
      total.records_read += s.records_read;
      total.records_bad += s.records_bad;
      total.bytes_read += s.bytes_read;
    }
  };

  Progress progress("scanning");
  if (a.flag("events")) {
    EventsSink sink(errors, progress);
    run_files(sink);
  } else if (a.flag("stats")) {
    StatsSink sink(errors, progress);
    run_files(sink);
    std::printf("%s\n", sink.to_json(total.records_bad, total.bytes_read).dump().c_str());
  } else {
    ScanOutput output(a.flag("sessions")  ? ScanOutput::Mode::kSessions
                      : format == "table" ? ScanOutput::Mode::kTable
                                          : ScanOutput::Mode::kJson,
                      a.values("rules"));
    if (!output.ok()) {
      std::fprintf(stderr, "sessionwatch scan: %s\n", output.error().c_str());
      return kExitUsage;
    }
    DetectingSink sink(
        output, [&](const DecodeError& e) { errors.add(e); }, progress);
    run_files(sink);
    output.finish();
  }
  errors.print_summary();
  if (unreadable) return kExitUsage;
  return errors.count() > 0 ? kExitSomeBad : kExitOk;
}

}  // namespace sw::cli
