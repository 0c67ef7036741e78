// The daemon's side of the outputs: every configured output of the forwarding module behind one
// store() that returns once each alert is durable in every spool, and that waits (backpressure)
// while a spool cannot take them.
#include "daemon/outputs.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>

#include <spdlog/spdlog.h>

#include "sessionwatch/forward.hpp"
#include "sessionwatch/gap_alert.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::daemon {

namespace {

// Per-output families, one sample per output each.
struct OutputFamily {
  const char* name;
  Exposition::Type type;
  const char* help;
  double (*value)(const forward::OutputMetrics&);
};
using T = Exposition::Type;
constexpr OutputFamily kOutputFamilies[] = {
    {"sessionwatch_output_queued_total", T::kCounter, "Alerts accepted into the output's spool.",
     [](const forward::OutputMetrics& m) { return double(m.queued); }},
    {"sessionwatch_output_sent_total", T::kCounter, "Alerts the collector confirmed.",
     [](const forward::OutputMetrics& m) { return double(m.sent); }},
    {"sessionwatch_output_retried_total", T::kCounter, "Delivery attempts failed and retried.",
     [](const forward::OutputMetrics& m) { return double(m.retried); }},
    {"sessionwatch_output_dropped_total", T::kCounter,
     "Alerts dropped (when_full: drop_oldest, or too large).",
     [](const forward::OutputMetrics& m) { return double(m.dropped); }},
    {"sessionwatch_output_dead_lettered_total", T::kCounter,
     "Alerts the collector rejected for good, kept in the dead-letter file.",
     [](const forward::OutputMetrics& m) { return double(m.dead_lettered); }},
    {"sessionwatch_output_queue_depth", T::kGauge, "Alerts waiting in the spool.",
     [](const forward::OutputMetrics& m) { return double(m.spool_records); }},
    {"sessionwatch_output_spool_bytes", T::kGauge, "Bytes waiting in the spool.",
     [](const forward::OutputMetrics& m) { return double(m.spool_bytes); }},
    {"sessionwatch_output_spool_write_errors_total", T::kCounter,
     "Spool appends and fsyncs the disk refused (retried).",
     [](const forward::OutputMetrics& m) { return double(m.spool_write_errors); }},
    {"sessionwatch_output_spool_lost_total", T::kCounter,
     "Alerts lost to damaged or missing spool files.",
     [](const forward::OutputMetrics& m) { return double(m.spool_lost); }},
    {"sessionwatch_output_spool_lost_unknown_total", T::kCounter,
     "Spool losses whose alert count could not be told.",
     [](const forward::OutputMetrics& m) { return double(m.spool_lost_unknown); }},
    {"sessionwatch_output_spool_corrupt_bytes_total", T::kCounter,
     "Bytes cut from the spool as torn or corrupt.",
     [](const forward::OutputMetrics& m) { return double(m.corrupt_bytes); }},
    {"sessionwatch_output_reconnects_total", T::kCounter, "Connections opened again.",
     [](const forward::OutputMetrics& m) { return double(m.reconnects); }},
    {"sessionwatch_output_connected", T::kGauge, "1 while the output holds a connection.",
     [](const forward::OutputMetrics& m) { return m.connected ? 1.0 : 0.0; }},
    {"sessionwatch_output_failing", T::kGauge,
     "1 while the output's last delivery attempt failed (the reason is in the log).",
     [](const forward::OutputMetrics& m) { return m.last_error.empty() ? 0.0 : 1.0; }},
};

// The forwarding module's outputs: enqueue() returns once the alerts are durable in that output's
// spool; its sender thread delivers them. While a spool cannot take alerts (full with when_full:
// block, or its disk refusing writes), store() waits and retries: the detection thread stops,
// the inputs stop reading and their checkpoints stay where they are. That is the backpressure.
class ForwardOutputs : public AlertOutputs {
 public:
  // Retry pace while a spool's disk refuses writes: space freed is used within 2 s.
  static constexpr auto kWriteRetryFirst = std::chrono::milliseconds(100);
  static constexpr auto kWriteRetryMax = std::chrono::milliseconds(2000);
  static constexpr auto kRepeatLog = std::chrono::seconds(60);
  static constexpr auto kAbortSlice = std::chrono::milliseconds(100);
  // How long one enqueue waits for a full spool before the wait is told (paused) and retried.
  static constexpr auto kFirstWait = std::chrono::milliseconds(500);

  explicit ForwardOutputs(std::string host) : host_(std::move(host)) {}

  bool store(const std::vector<Alert>& alerts, std::string& error) override {
    std::vector<Alert> with_gaps = take_gap_alerts();
    const std::vector<Alert>* batch = &alerts;
    if (!with_gaps.empty()) {
      with_gaps.insert(with_gaps.end(), alerts.begin(), alerts.end());
      batch = &with_gaps;
    }
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      if (!store_in(i, *batch, 0, error)) return false;
    }
    return true;
  }
  bool store_unsynced(std::vector<Alert>&& alerts, std::string& error) override {
    unsynced_ = take_gap_alerts();
    unsynced_.insert(unsynced_.end(), std::make_move_iterator(alerts.begin()),
                     std::make_move_iterator(alerts.end()));
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      forward::Output& output = *outputs_[i];
      const auto result = output.enqueue_unsynced(unsynced_, kFirstWait, syncs_[i]);
      if (result.ok && result.accepted == unsynced_.size()) continue;
      // Full or failing: what it took is made durable, the rest waits for the spool as in
      // store(); all again when that fsync failed.
      std::string sync_error;
      const bool synced = output.wait_synced(std::exchange(syncs_[i], 0), sync_error);
      if (!store_in(i, unsynced_, synced ? result.accepted : 0, error)) return false;
    }
    return true;
  }
  bool sync_stored(std::string& error) override {
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      forward::Output& output = *outputs_[i];
      std::string sync_error;
      if (output.wait_synced(std::exchange(syncs_[i], 0), sync_error)) continue;
      spdlog::warn("output {}: {}; its last {} alert(s) are written again", output.config().name,
                   sync_error, unsynced_.size());
      if (!store_in(i, unsynced_, 0, error)) return false;
    }
    unsynced_.clear();
    return true;
  }
  void abort() override {
    std::lock_guard lock(abort_mu_);
    aborted_ = true;
    abort_cv_.notify_all();
  }
  bool waiting_for_spool() const override {
    return std::any_of(states_.begin(), states_.end(),
                       [](const auto& s) { return s->paused.load(); });
  }
  // Ends early after abort(): the wait goes in short slices, as a spool's drain cannot be woken.
  bool wait_delivered(std::chrono::milliseconds timeout) override {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (auto& output : outputs_) {
      for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (output->wait_drained(std::clamp(left, std::chrono::milliseconds(0), kAbortSlice))) {
          break;
        }
        if (left <= kAbortSlice || !wait_unless_aborted(std::chrono::milliseconds(0))) return false;
      }
    }
    return true;
  }
  void close() override {
    for (auto& output : outputs_) output->stop(std::chrono::milliseconds(2000));
  }
  void write_metrics(Exposition& out) const override {
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      const forward::OutputMetrics m = outputs_[i]->metrics();
      const Exposition::Labels labels{{"output", m.name}, {"type", outputs_[i]->config().type}};
      for (const OutputFamily& f : kOutputFamilies) {
        out.add(f.name, f.type, f.help, labels, f.value(m));
      }
      out.add("sessionwatch_output_paused", Exposition::Type::kGauge,
              "1 while the inputs wait on this output's spool (full, or its disk refusing writes).",
              labels, states_[i]->paused ? 1 : 0);
    }
  }

  void start() {
    for (auto& output : outputs_) output->start();
  }
  void add(std::unique_ptr<forward::Output> output) {
    outputs_.push_back(std::move(output));
    states_.push_back(std::make_unique<PauseState>());
    syncs_.push_back(0);
  }
  // Losses found while opening the spools: stored now when the spools take them at once, else
  // ahead of the next alerts.
  void report_open_losses() {
    std::vector<Alert> gaps = take_gap_alerts();
    if (gaps.empty()) return;
    for (auto& output : outputs_) {
      if (!output->enqueue(gaps, std::chrono::milliseconds(0)).ok) {
        std::lock_guard lock(gaps_mu_);
        pending_gaps_ = std::move(gaps);
        return;
      }
    }
  }

 private:
  // Whether the inputs wait on an output, and how its write failures were logged.
  struct PauseState {
    std::atomic<bool> paused{false};
    bool write_failing = false;  // in a spell of refused writes
    bool spell_logged = false;   // its start was logged
    bool warned = false;
    std::uint64_t failed_attempts = 0;
    std::uint64_t unlogged_spells = 0;
    std::chrono::steady_clock::time_point last_warning;
  };

  // The alerts from `done` on into output i, waiting while its spool cannot take them.
  bool store_in(std::size_t i, const std::vector<Alert>& alerts, std::size_t done,
                std::string& error) {
    forward::Output& output = *outputs_[i];
    PauseState& state = *states_[i];
    auto retry_in = kWriteRetryFirst;
    while (done < alerts.size()) {
      const auto result = output.enqueue(
          std::span<const Alert>(alerts.data() + done, alerts.size() - done), kFirstWait);
      done += result.accepted;
      if (result.ok) break;
      if (!state.paused.exchange(true) && !result.write_failed) {
        spdlog::info("output {}: spool full (when_full: block); inputs wait for the collector",
                     output.config().name);
      }
      if (result.write_failed) log_write_failure(output, state, result.error);
      if (!wait_unless_aborted(result.write_failed ? retry_in : std::chrono::milliseconds(0))) {
        error = output.config().name + ": " + result.error;
        return false;
      }
      if (result.write_failed) retry_in = std::min(retry_in * 2, kWriteRetryMax);
    }
    resume(output, state);
    return true;
  }

  // One warning with the OS's reason, then at most one a minute, however often the disk
  // flaps between full and not; the end of a spell is told when its start was.
  static void log_write_failure(const forward::Output& output, PauseState& state,
                                const std::string& error) {
    ++state.failed_attempts;
    const bool new_spell = !state.write_failing;
    state.write_failing = true;
    const auto now = std::chrono::steady_clock::now();
    if (state.warned && now - state.last_warning < kRepeatLog) {
      if (new_spell) ++state.unlogged_spells;
      return;
    }
    if (new_spell) {
      spdlog::warn(
          "output {}: {}; inputs paused (checkpoints held) until the spool can be written{}",
          output.config().name, error,
          state.unlogged_spells > 0 ? " (" + std::to_string(state.unlogged_spells) +
                                          " more such spells in the last minute)"
                                    : std::string());
    } else {
      spdlog::warn("output {}: spool still not writable after {} attempts: {}",
                   output.config().name, state.failed_attempts, error);
    }
    state.warned = true;
    state.spell_logged = true;
    state.unlogged_spells = 0;
    state.last_warning = now;
  }

  static void resume(const forward::Output& output, PauseState& state) {
    if (!state.paused.exchange(false)) return;
    if (state.write_failing && state.spell_logged) {
      spdlog::warn("output {}: spool writable again after {} failed attempts; inputs resumed",
                   output.config().name, state.failed_attempts);
    } else if (!state.write_failing) {
      spdlog::info("output {}: spool has room again; inputs resumed", output.config().name);
    }
    state.write_failing = false;
    state.spell_logged = false;
    state.failed_attempts = 0;
  }

  // False once abort() was called.
  bool wait_unless_aborted(std::chrono::milliseconds d) {
    std::unique_lock lock(abort_mu_);
    abort_cv_.wait_for(lock, d, [&] { return aborted_; });
    return !aborted_;
  }

  // Alerts the spools lost to damaged or missing files, as collection_gap alerts (stored in every
  // output, the damaged one included: its collector is the one missing them).
  std::vector<Alert> take_gap_alerts() {
    std::vector<Alert> gaps;
    {
      std::lock_guard lock(gaps_mu_);
      gaps = std::exchange(pending_gaps_, {});
    }
    for (auto& output : outputs_) {
      for (const forward::SpoolLoss& loss : output->take_losses()) {
        CollectionGap gap;
        gap.input = output->config().name;
        gap.path = loss.file.string();
        gap.cause = "spool_" + loss.cause;
        gap.unit = "alerts";
        gap.from = loss.from;
        gap.to = loss.to;
        gap.count = loss.count;
        gaps.push_back(make_gap_alert(gap, host_, now_ticks()));
      }
    }
    return gaps;
  }

  std::string host_;
  std::vector<std::unique_ptr<forward::Output>> outputs_;
  std::vector<std::unique_ptr<PauseState>> states_;
  // The batch of the last store_unsynced(), kept for an output whose fsync of it fails, and
  // each output's fsync of it (0: none under way).
  std::vector<Alert> unsynced_;
  std::vector<std::uint64_t> syncs_;
  std::mutex abort_mu_;
  std::condition_variable abort_cv_;
  bool aborted_ = false;
  std::mutex gaps_mu_;
  std::vector<Alert> pending_gaps_;
};

}  // namespace

std::unique_ptr<AlertOutputs> make_outputs(const std::vector<OutputConfig>& outputs,
                                           const std::string& /*data_dir*/, std::string& error) {
  auto forwarded = std::make_unique<ForwardOutputs>(platform::host_name());
  for (const OutputConfig& config : outputs) {
    if (!config.forward) {
      error = "output " + config.name + ": not configured for the forwarding module";
      return nullptr;
    }
    auto made = forward::make_output(*config.forward);
    if (!made.output) {
      error = "output " + config.name + ": " + made.error;
      return nullptr;
    }
    forwarded->add(std::move(made.output));
  }
  forwarded->report_open_losses();
  forwarded->start();
  return forwarded;
}

}  // namespace sw::daemon
