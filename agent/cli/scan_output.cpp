#include "cli/scan_output.hpp"

#include <cstdio>
#include <utility>

#include "sessionwatch/alert_builder.hpp"
#include "sessionwatch/session.hpp"

namespace sw::cli {

ScanOutput::ScanOutput(Mode mode, const std::vector<std::string>& rule_paths,
                       decltype(TrackerOptions::on_state_change) on_state_change)
    : mode_(mode) {
  DetectorOptions options;
  options.rule_paths = rule_paths;
  options.tracker.on_state_change = std::move(on_state_change);
  // A scan reads whole files one after another (Security.evtx, then the TS-LSM log, ...): hold
  // events long enough to see every file's events in time order, within a memory cap.
  options.tracker.reorder_window = 30LL * 86400 * kTicksPerSecond;
  options.tracker.max_buffered_events = 500000;
  std::vector<std::string> problems;
  detector_ = Detector::create(options, problems);
  if (!detector_) {
    error_ = "cannot load rules:";
    for (const std::string& p : problems) error_ += "\n  " + p;
  }
}

void ScanOutput::on_alert(Alert&& alert) {
  ++alert_count_;
  switch (mode_) {
    case Mode::kJson: {
      const std::string line =
          alert.doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      break;
    }
    case Mode::kTable:
    case Mode::kCollect:
      table_.push_back(std::move(alert));
      break;
    case Mode::kSessions:
      break;
  }
}

void ScanOutput::finish() {
  detector_->flush([this](Alert&& a) { on_alert(std::move(a)); });
  if (mode_ == Mode::kTable) {
    std::fputs(render_alert_table(table_).c_str(), stdout);
  } else if (mode_ == Mode::kSessions) {
    std::fputs(render_timeline(detector_->tracker()).c_str(), stdout);
  }
  std::fflush(stdout);
}

DetectingSink::DetectingSink(ScanOutput& output, std::function<void(const DecodeError&)> on_error,
                             Progress& progress)
    : output_(output),
      on_error_(std::move(on_error)),
      progress_(progress),
      callback_([this](Alert&& a) { output_.on_alert(std::move(a)); }) {}

void DetectingSink::on_event(Event& event) {
  ++records_;
  output_.detector().process(event, callback_);
}

}  // namespace sw::cli
