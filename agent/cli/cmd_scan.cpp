// `sessionwatch scan`: decode files and print alerts, normalized events or counts.
#include <algorithm>
#include <cstdio>
#include <filesystem>
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
logoff/rwinsta/tscon output; the format is detected from the content, gzip is decompressed) and
prints, by default, the alerts raised for 7063/7062 refusals as JSON lines. '-' reads standard
input; a folder stands for the files in it. The events of all files are read as one stream in
event time, so the result does not depend on the order the files are given in. Files that are
not logs (executables, archives, binary data) are refused with the reason.

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
  --nxlog-time-zone Z  the zone of NXLog EventTime values written without one (NXLog writes
                       local time by default): UTC (default) or an offset such as +01:00
  -h, --help           this text

Exit status: 0 all records decoded, 1 some records were bad (the rest were read; the first
reasons are printed on stderr), 2 usage error, or a file that cannot be read or is not a log
(the others are still read).
)";

// What went wrong, for stderr: unreadable files at once, bad records counted with the first few
// reasons, notices about damaged input after them.
class ErrorLog {
 public:
  void add(const DecodeError& e) {
    switch (e.kind) {
      case DecodeError::Kind::kFile:
        ++unreadable_;
        std::fprintf(stderr, "sessionwatch scan: %s\n", e.reason.c_str());
        return;
      case DecodeError::Kind::kNotice:
        keep(notices_, e);
        return;
      case DecodeError::Kind::kRecord:
        ++bad_;
        keep(first_bad_, e);
        return;
    }
  }
  // `bad_records`: the decoders' count, which the --stats output shows too.
  void print_summary(std::uint64_t bad_records) const {
    if (bad_records > 0) {
      std::fprintf(stderr, "sessionwatch scan: %llu bad record(s); first reasons:\n",
                   static_cast<unsigned long long>(bad_records));
      for (const std::string& line : first_bad_) std::fprintf(stderr, "  %s\n", line.c_str());
    }
    for (const std::string& line : notices_) {
      std::fprintf(stderr, "sessionwatch scan: note: %s\n", line.c_str());
    }
  }
  std::uint64_t bad() const { return bad_; }
  std::uint64_t unreadable() const { return unreadable_; }

 private:
  static constexpr std::size_t kKeep = 5;
  static void keep(std::vector<std::string>& list, const DecodeError& e) {
    if (list.size() < kKeep) {
      list.push_back(e.origin + ":" + std::to_string(e.position) + ": " + e.reason);
    }
  }
  std::uint64_t bad_ = 0;
  std::uint64_t unreadable_ = 0;
  std::vector<std::string> first_bad_;
  std::vector<std::string> notices_;
};

// The files to read: a folder stands for the regular files in it (sorted, hidden ones left out),
// so `scan logs/` does what it says.
std::vector<std::string> expand_folders(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (arg == "-" || !std::filesystem::is_directory(arg, ec)) {
      out.push_back(arg);
      continue;
    }
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
      const std::string name = entry.path().filename().string();
      if (!name.empty() && name[0] != '.' && entry.is_regular_file(ec)) {
        files.push_back(entry.path().string());
      }
    }
    if (files.empty()) {
      out.push_back(arg);  // the decoder says what is wrong with it
      continue;
    }
    std::sort(files.begin(), files.end());
    out.insert(out.end(), files.begin(), files.end());
  }
  return out;
}

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

int rules_error(ScanOutput& output) {
  std::fprintf(stderr, "sessionwatch scan: %s\n", output.error().c_str());
  return kExitUsage;
}

}  // namespace

int cmd_scan(const std::vector<std::string>& args) {
  Args a(args, {"format", "rules", "input-format", "computer", "nxlog-time-zone"},
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
  if (auto z = a.value("nxlog-time-zone");
      z && !parse_utc_offset(*z, options.nxlog_time_offset_minutes)) {
    std::fputs("sessionwatch scan: --nxlog-time-zone must be UTC or an offset such as +01:00\n",
               stderr);
    return kExitUsage;
  }
  const std::string format = a.value("format").value_or("json");
  if (format != "json" && format != "table") {
    std::fputs("sessionwatch scan: --format must be json or table\n", stderr);
    return kExitUsage;
  }

  ErrorLog errors;
  DecodeStats total;
  const std::vector<std::string> files = expand_folders(a.positional());
  auto run_files = [&](EventSink& sink) { total = decode_files_merged(files, options, sink); };

  Progress progress("scanning");
  if (a.flag("events")) {
    EventsSink sink(errors, progress);
    run_files(sink);
  } else if (a.flag("stats")) {
    StatsSink sink(errors, progress);
    run_files(sink);
    std::printf("%s\n", sink.to_json(total.records_bad, total.bytes_read).dump().c_str());
  } else {
    // Files are decoded while the rules load. Standard input is not: with rules that cannot
    // load, the scan must stop before it waits for input that may never end.
    const bool reads_stdin = std::find(files.begin(), files.end(), "-") != files.end();
    ScanOutput output(a.flag("sessions")  ? ScanOutput::Mode::kSessions
                      : format == "table" ? ScanOutput::Mode::kTable
                                          : ScanOutput::Mode::kJson,
                      a.values("rules"), ScanOutput::Input::kTimeOrdered, {},
                      reads_stdin ? ScanOutput::Load::kNow : ScanOutput::Load::kInBackground);
    if (reads_stdin && !output.ok()) return rules_error(output);
    DetectingSink sink(
        output, [&](const DecodeError& e) { errors.add(e); }, progress);
    run_files(sink);
    if (!output.ok()) return rules_error(output);
    output.finish();
  }
  errors.print_summary(total.records_bad);
  if (errors.unreadable() > 0) return kExitUsage;
  return total.records_bad > 0 || errors.bad() > 0 ? kExitSomeBad : kExitOk;
}

}  // namespace sw::cli
