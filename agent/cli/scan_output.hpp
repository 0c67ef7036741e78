// What `scan` and `demo` print: alerts as JSON lines or a table, or the session timelines.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/pipeline.hpp"

namespace sw::cli {

class ScanOutput {
 public:
  // kCollect: alerts are kept for the caller (alerts()), nothing is printed.
  enum class Mode { kJson, kTable, kSessions, kCollect };
  // kTimeOrdered: the events arrive in time order (decode_files_merged); kSequential: sources
  // one after another, which the session tracker holds and orders.
  enum class Input { kTimeOrdered, kSequential };
  // kInBackground: the rules load on their own thread while the caller starts decoding (a scan
  // of a few EVTX files spent a tenth of its time loading rules before opening any file); ok(),
  // error() and detector() wait for them.
  enum class Load { kNow, kInBackground };
  // `on_state_change`: see TrackerOptions (the report records console holds with it).
  ScanOutput(Mode mode, const std::vector<std::string>& rule_paths,
             Input input = Input::kSequential,
             decltype(TrackerOptions::on_state_change) on_state_change = {},
             Load load = Load::kNow);

  bool ok() {
    wait_for_rules();
    return detector_ != nullptr;
  }
  // Whether the rules are loaded (ok(), error() and detector() would not wait).
  bool rules_ready() const {
    return !loading_.valid() ||
           loading_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
  const std::string& error() {
    wait_for_rules();
    return error_;
  }
  Detector& detector() {
    wait_for_rules();
    return *detector_;
  }
  void on_alert(Alert&& alert);
  // End of input: flushes the detector and prints what is printed at the end.
  void finish();
  std::size_t alert_count() const { return alert_count_; }
  const std::vector<Alert>& alerts() const { return table_; }

 private:
  void load_rules(const DetectorOptions& options);
  void wait_for_rules() {
    if (loading_.valid()) loading_.get();
  }

  Mode mode_;
  std::unique_ptr<Detector> detector_;
  std::string error_;
  std::vector<Alert> table_;
  std::size_t alert_count_ = 0;
  std::future<void> loading_;  // last: destroyed (waited for) before what it writes
};

// Decoded events -> detector -> ScanOutput. When the rules cannot be loaded, it drops what it
// is given: the caller reports the rules' error alone, as if nothing had been read.
class DetectingSink : public EventSink {
 public:
  DetectingSink(ScanOutput& output, std::function<void(const DecodeError&)> on_error,
                Progress& progress);
  void on_event(Event& event) override;
  void on_error(const DecodeError& error) override;
  bool ready() override { return output_.rules_ready(); }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    progress_.update(done, total, records_);
  }

 private:
  ScanOutput& output_;
  std::function<void(const DecodeError&)> on_error_;
  Progress& progress_;
  Detector::AlertCallback callback_;
  std::uint64_t records_ = 0;
};

}  // namespace sw::cli
