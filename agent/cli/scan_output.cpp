#include "cli/scan_output.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "sessionwatch/alert_builder.hpp"
#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/alert_table.hpp"
#include "sessionwatch/session.hpp"

namespace sw::cli {

ScanOutput::ScanOutput(Mode mode, const std::vector<std::string>& rule_paths, Input input,
                       decltype(TrackerOptions::on_state_change) on_state_change, Load load)
    : mode_(mode) {
  DetectorOptions options;
  options.rule_paths = rule_paths;
  options.tracker.on_state_change = std::move(on_state_change);
  // Only --sessions prints the timeline; kept for every computer it is up to 256 entries each.
  if (mode != Mode::kSessions) options.tracker.max_timeline_per_host = 0;
  if (input == Input::kTimeOrdered) {
    // decode_files_merged already hands the events of every file over in time order.
    options.tracker.reorder_window = 0;
  } else {
    // Sources read one after another (the demo's sample XML, then its tool output): hold events
    // long enough to see them in time order, within a memory cap.
    options.tracker.reorder_window = 30LL * 86400 * kTicksPerSecond;
    options.tracker.max_buffered_events = 500000;
  }
  if (load == Load::kInBackground) {
    loading_ = std::async(std::launch::async,
                          [this, options = std::move(options)] { load_rules(options); });
  } else {
    load_rules(options);
  }
}

void ScanOutput::load_rules(const DetectorOptions& options) {
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
      std::string line;
      write_alert_json(alert, line);
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
    // Alerts come out when they are decided (a correlation, an arbitration after its grace
    // time), not always in the order of their events: a table for people reads by time.
    // By @timestamp as written (a year past 9999 has more digits and sorts as its text does).
    std::stable_sort(table_.begin(), table_.end(), [](const Alert& a, const Alert& b) {
      return format_time(a.time) < format_time(b.time);
    });
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
  if (!output_.ok()) return;
  ++records_;
  output_.detector().process(event, callback_);
}

void DetectingSink::on_error(const DecodeError& error) {
  if (output_.ok()) on_error_(error);
}

}  // namespace sw::cli
