// The generic sender shared by every output: spool in, plugin out, with retries, back-off,
// confirmation tracking, dead-lettering and metrics. One thread per output.
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "forward/outage_log.hpp"
#include "forward/output_plugin.hpp"
#include "platform/fsync.hpp"
#include "sessionwatch/file.hpp"
#include "sessionwatch/json_escape.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::forward {

namespace {

using detail::ConfirmResult;
using detail::FlushResult;
using detail::FlushStatus;
using detail::OutputPlugin;
using detail::Record;
using Clock = std::chrono::steady_clock;
// Long enough never to fire in practice, short enough for the clock arithmetic not to overflow.
constexpr std::chrono::milliseconds kIdleWait = std::chrono::hours(24);

// A spool record is: u8 id length | id | formatted record.
void encode_record(const Alert& alert, const FormatOptions& format, std::string& out) {
  std::string_view id = alert.id;
  if (id.size() > 255) id = id.substr(0, 255);
  out.push_back(static_cast<char>(id.size()));
  out += id;
  format_alert(alert, format, out);
}

Record decode_record(std::string_view data) {
  if (data.empty()) return {};
  std::size_t n = static_cast<unsigned char>(data[0]);
  if (n + 1 > data.size()) return {{}, data};
  return {data.substr(1, n), data.substr(1 + n)};
}

class SpooledOutput final : public Output {
 public:
  SpooledOutput(OutputConfig config, std::unique_ptr<Spool> spool,
                std::unique_ptr<OutputPlugin> plugin)
      : config_(std::move(config)),
        spool_(std::move(spool)),
        plugin_(std::move(plugin)),
        rng_(std::random_device{}()),
        outage_(config_.name) {}

  ~SpooledOutput() override { stop(std::chrono::milliseconds(0)); }

  const OutputConfig& config() const override { return config_; }

  EnqueueResult enqueue(std::span<const Alert> alerts, std::chrono::milliseconds wait) override {
    std::lock_guard lock(enqueue_mu_);
    if (config_.spool.fsync != FsyncPolicy::kBatch || alerts.size() <= kPipelineChunk) {
      return append_alerts(alerts, wait, /*defer_sync=*/false);
    }
    // Large calls in chunks: chunk N+1 is formatted while the sync thread flushes chunk N to
    // disk. The call still returns only once every record of it is durable.
    const auto deadline =
        wait == std::chrono::milliseconds::max() ? Clock::time_point::max() : Clock::now() + wait;
    EnqueueResult result;
    // (ticket, alerts accepted up to and including its chunk): what is durable once it synced.
    std::vector<std::pair<std::uint64_t, std::size_t>> tickets;
    for (std::size_t at = 0; at < alerts.size(); at += kPipelineChunk) {
      auto left =
          deadline == Clock::time_point::max()
              ? std::chrono::milliseconds::max()
              : std::max(
                    std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
      EnqueueResult r = append_alerts(
          alerts.subspan(at, std::min(kPipelineChunk, alerts.size() - at)), left, true);
      result.accepted += r.accepted;
      if (r.accepted > 0) tickets.emplace_back(syncer_.request(), result.accepted);
      if (!r.ok) {
        result.ok = false;
        result.write_failed = r.write_failed;
        result.error = r.error;
        break;
      }
    }
    // Only what an fsync covered is in: after a failed one, the rest is offered again. Every
    // ticket is waited for, so the syncer forgets each failure once told.
    std::size_t durable = 0;
    bool synced = true;
    for (const auto& [ticket, accepted] : tickets) {
      std::string error;
      if (!syncer_.wait(ticket, error) && synced) {
        synced = false;
        result = {false, durable, true, error};
      }
      if (synced) durable = accepted;
    }
    return result;
  }

  EnqueueResult enqueue_unsynced(std::span<const Alert> alerts, std::chrono::milliseconds wait,
                                 std::uint64_t& sync) override {
    sync = 0;
    if (config_.spool.fsync != FsyncPolicy::kBatch) return enqueue(alerts, wait);
    std::lock_guard lock(enqueue_mu_);
    EnqueueResult result = append_alerts(alerts, wait, /*defer_sync=*/true);
    if (result.accepted > 0) sync = syncer_.request();
    return result;
  }

  bool wait_synced(std::uint64_t sync, std::string& error) override {
    return sync == 0 || syncer_.wait(sync, error);
  }

 private:
  static constexpr std::size_t kPipelineChunk = 256;

  // Flushes the spool to disk on request, off the producer's thread.
  class Syncer {
   public:
    Syncer(Spool& spool, std::string thread_name)
        : spool_(spool), thread_name_(std::move(thread_name)) {}
    ~Syncer() {
      {
        std::lock_guard lock(mu_);
        stopping_ = true;
        cv_.notify_all();
      }
      if (thread_.joinable()) thread_.join();
    }
    Syncer(const Syncer&) = delete;
    Syncer& operator=(const Syncer&) = delete;

    // Asks for an fsync covering everything appended before the call; returns its ticket, to be
    // waited for once.
    std::uint64_t request() {
      std::lock_guard lock(mu_);
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
      cv_.notify_all();
      return ++requested_;
    }
    // Blocks until an fsync that started after `ticket` was requested has finished. A failure
    // is told once: the ticket's entry goes with it.
    bool wait(std::uint64_t ticket, std::string& error) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return done_ >= ticket; });
      const auto failed = failed_.find(ticket);
      if (failed == failed_.end()) return true;
      error = std::move(failed->second);
      failed_.erase(failed);
      return false;
    }

   private:
    void run() {
      platform::name_this_thread(thread_name_);
      std::unique_lock lock(mu_);
      while (true) {
        cv_.wait(lock, [&] { return stopping_ || requested_ > done_; });
        if (requested_ <= done_) return;  // stopping, nothing asked
        const std::uint64_t target = requested_;
        lock.unlock();
        std::string error;
        const bool ok = spool_.sync(error);
        lock.lock();
        // Each ticket this fsync was to cover failed: a later fsync need not hold their pages.
        for (std::uint64_t t = done_ + 1; !ok && t <= target; ++t) failed_.emplace(t, error);
        done_ = target;
        cv_.notify_all();
      }
    }

    Spool& spool_;
    const std::string thread_name_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::thread thread_;
    bool stopping_ = false;
    std::uint64_t requested_ = 0;
    std::uint64_t done_ = 0;
    std::map<std::uint64_t, std::string> failed_;  // tickets whose fsync failed, until waited
  };

  EnqueueResult append_alerts(std::span<const Alert> alerts, std::chrono::milliseconds wait,
                              bool defer_sync) {
    EnqueueResult result;
    // All records of the call in one buffer: one allocation per call, not per alert.
    std::string encoded;
    encoded.reserve(alerts.size() * 1024);
    std::vector<std::size_t> ends;
    ends.reserve(alerts.size());
    for (const Alert& alert : alerts) {
      encode_record(alert, config_.format, encoded);
      ends.push_back(encoded.size());
    }
    std::vector<std::string_view> views;
    views.reserve(alerts.size());
    for (std::size_t i = 0, begin = 0; i < ends.size(); begin = ends[i], ++i) {
      views.emplace_back(encoded.data() + begin, ends[i] - begin);
    }
    std::span<const std::string_view> rest(views);
    while (!rest.empty()) {
      AppendResult r =
          defer_sync ? spool_->append_without_sync(rest, wait) : spool_->append(rest, wait);
      result.accepted += r.appended;
      queued_ += r.appended;
      rest = rest.subspan(r.appended);
      if (r.status == AppendStatus::kTooLarge) {
        // One oversized alert must not block the rest: count it and move on.
        ++too_large_;
        set_error(r.error);
        spdlog::error("output {}: alert {} dropped: {}", config_.name, alerts[result.accepted].id,
                      r.error);
        ++result.accepted;
        rest = rest.subspan(1);
        continue;
      }
      if (r.status != AppendStatus::kOk) {
        result.ok = false;
        result.write_failed = r.status == AppendStatus::kIoError;
        result.error = r.error.empty() ? "spool closed" : r.error;
        if (result.write_failed) set_error(r.error);
        break;
      }
    }
    return result;
  }

 public:
  void start() override {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
  }

  void stop(std::chrono::milliseconds drain) override {
    {
      std::lock_guard lock(mu_);
      if (!thread_.joinable()) return;
      stopping_ = true;
      drain_deadline_ = Clock::now() + drain;
      cv_.notify_all();
    }
    spool_->wake_reader();  // an idle sender waits on the spool for a long time
    thread_.join();
  }

  bool wait_drained(std::chrono::milliseconds timeout) override {
    return spool_->wait_drained(timeout);
  }

  std::vector<SpoolLoss> take_losses() override { return spool_->take_losses(); }

  OutputMetrics metrics() const override {
    OutputMetrics m;
    SpoolStats s = spool_->stats();
    m.name = config_.name;
    m.queued = queued_;
    m.sent = sent_;
    m.retried = retried_;
    m.dropped = s.dropped + too_large_;
    m.dead_lettered = dead_lettered_;
    m.spool_records = s.records;
    m.spool_bytes = s.bytes;
    m.corrupt_bytes = s.corrupt_bytes;
    m.spool_write_errors = s.write_errors;
    m.spool_lost = s.lost;
    m.spool_lost_unknown = s.lost_unknown;
    m.reconnects = reconnects_;
    m.connected = connected_;
    std::lock_guard lock(mu_);
    m.active_url = active_url_;
    m.last_error = last_error_;
    return m;
  }

 private:
  void set_error(const std::string& e) {
    std::lock_guard lock(mu_);
    last_error_ = e;
  }

  bool should_exit() {
    std::lock_guard lock(mu_);
    if (!stopping_) return false;
    if (Clock::now() >= drain_deadline_) return true;
    return written_.empty() && spool_->stats().records == 0;
  }

  // Idle, the read waits until records arrive (an idle agent must not wake up: stop() and
  // enqueue() wake the wait). With writes awaiting confirmation it comes back soon to confirm
  // them, and so it does while stopping: stop()'s one wake-up may have been taken by a read that
  // returned nothing, and the drain must still end by its deadline.
  std::chrono::milliseconds read_wait() {
    std::lock_guard lock(mu_);
    return written_.empty() && !stopping_ ? kIdleWait : std::chrono::milliseconds(20);
  }

  // Sleeps, waking early when stop() is called. False when stopping.
  bool pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return stopping_; });
    return !stopping_;
  }

  std::chrono::milliseconds next_backoff(std::chrono::milliseconds retry_after) {
    std::uniform_real_distribution<double> spread(1.0 - config_.retry.jitter,
                                                  1.0 + config_.retry.jitter);
    auto d = std::chrono::milliseconds(
        static_cast<std::int64_t>(static_cast<double>(backoff_.count()) * spread(rng_)));
    backoff_ = std::min(backoff_ * 2, config_.retry.max);
    return std::max(d, retry_after);
  }

  void failed(const std::string& error, std::size_t records,
              std::chrono::milliseconds retry_after) {
    retried_ += records;
    outage_.failed(error, spool_->stats().records, Clock::now());
    set_error(error);
    spool_->rewind();
    written_.clear();
    refresh_plugin_state();
    pause(next_backoff(retry_after));
  }

  void refresh_plugin_state() {
    if (plugin_->connected() != connected_) {
      outage_.connection_changed(plugin_->connected(), plugin_->active_url());
    }
    connected_ = plugin_->connected();
    reconnects_ = plugin_->reconnects();
    std::lock_guard lock(mu_);
    active_url_ = plugin_->active_url();
  }

  void dead_letter(std::span<const Record> records, const std::string& error) {
    if (!dead_letter_file_) {
      std::filesystem::path p = config_.dead_letter.empty()
                                    ? spool_->directory() / "dead-letter.jsonl"
                                    : config_.dead_letter;
      // Alerts name accounts and computers: owner-only, like the spool.
      dead_letter_file_.reset(platform::open_private_file(p, /*append=*/true));
      if (!dead_letter_file_) {
        spdlog::error("output {}: cannot open dead-letter file {}: {}", config_.name, p.string(),
                      std::strerror(errno));
      }
    }
    std::string line;
    for (const Record& r : records) {
      line = "{\"output\":" + json_string(config_.name) + ",\"error\":" + json_string(error) +
             ",\"event_id\":" + json_string(r.id) + ",\"record\":" + json_string(r.payload) + "}\n";
      if (dead_letter_file_) std::fwrite(line.data(), 1, line.size(), dead_letter_file_.get());
    }
    if (dead_letter_file_) platform::sync_file(dead_letter_file_.get());
    dead_lettered_ += records.size();
    spdlog::error("output {}: collector rejected {} alerts for good ({}); kept in dead-letter file",
                  config_.name, records.size(), error);
  }

  void confirm_written(bool idle) {
    if (written_.empty()) return;
    ConfirmResult c = plugin_->confirm(idle);
    if (!c.ok) {
      failed(c.error, written_.size(), {});
      return;
    }
    std::size_t n = std::min(c.confirmed, written_.size());
    if (n == 0) return;
    sent_ += n;  // before the spool drains, so wait_drained() callers see the count
    const std::uint64_t waiting = spool_->stats().records;
    spool_->acknowledge(written_[n - 1]);
    written_.erase(written_.begin(), written_.begin() + static_cast<std::ptrdiff_t>(n));
    spdlog::trace("output {}: {} alerts confirmed", config_.name, n);
    outage_.delivered(waiting, spool_->stats().records, plugin_->active_url(), Clock::now());
  }

  void run() {
    platform::name_this_thread("out:" + config_.name);
    std::string err = plugin_->init();
    if (!err.empty()) {
      set_error(err);
      spdlog::error("output {}: {}", config_.name, err);
    }
    backoff_ = config_.retry.initial;
    std::vector<SpoolRecord> batch;
    std::vector<Record> records;
    while (!should_exit()) {
      confirm_written(/*idle=*/false);
      if (!spool_->read(batch, config_.batch_records, config_.batch_bytes, read_wait())) {
        confirm_written(/*idle=*/true);
        continue;
      }
      records.clear();
      for (const auto& r : batch) records.push_back(decode_record(r.data));
      std::size_t done = 0;
      while (done < records.size()) {
        FlushResult f = plugin_->flush(std::span(records).subspan(done));
        std::size_t n = std::min(f.count, records.size() - done);
        if (f.status == FlushStatus::kRetry || (n == 0 && f.status != FlushStatus::kPoison)) {
          failed(f.error.empty() ? "delivery failed" : f.error, records.size() - done,
                 f.retry_after);
          break;
        }
        if (f.status == FlushStatus::kPoison) {
          n = std::max<std::size_t>(n, 1);
          if (!written_.empty()) {  // keep the order: confirm the earlier writes first
            confirm_written(true);
            if (!written_.empty()) {
              failed("unconfirmed writes before a rejected record", records.size() - done, {});
              break;
            }
          }
          dead_letter(std::span(records).subspan(done, n), f.error);
          spool_->acknowledge(batch[done + n - 1].end);
        } else if (f.status == FlushStatus::kDelivered) {
          sent_ += n;
          const std::uint64_t waiting = spool_->stats().records;
          spool_->acknowledge(batch[done + n - 1].end);
          spdlog::trace("output {}: {} alerts delivered", config_.name, n);
          outage_.delivered(waiting, spool_->stats().records, plugin_->active_url(), Clock::now());
        } else {
          for (std::size_t i = 0; i < n; ++i) written_.push_back(batch[done + i].end);
        }
        done += n;
        backoff_ = config_.retry.initial;
      }
      refresh_plugin_state();
    }
    confirm_written(true);
    plugin_->exit();
    refresh_plugin_state();
    dead_letter_file_.reset();
  }

  OutputConfig config_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<OutputPlugin> plugin_;
  std::mutex enqueue_mu_;  // enqueue callers one at a time (the spool serializes them anyway)
  Syncer syncer_{*spool_, "spool:" + config_.name};  // after spool_: stopped before the spool goes

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stopping_ = false;
  Clock::time_point drain_deadline_;
  std::string last_error_;
  std::string active_url_;

  // Sender thread only.
  std::deque<SpoolPosition> written_;
  std::chrono::milliseconds backoff_{250};
  std::mt19937 rng_;
  UniqueFile dead_letter_file_;
  OutageLog outage_;

  std::atomic<std::uint64_t> queued_{0}, sent_{0}, retried_{0}, dead_lettered_{0}, too_large_{0},
      reconnects_{0};
  std::atomic<bool> connected_{false};
};

}  // namespace

std::vector<std::string> output_types() {
  std::vector<std::string> out;
  for (const auto& e : detail::plugin_registry()) out.emplace_back(e.type);
  return out;
}

MakeOutputResult make_output(const OutputConfig& config) {
  MakeOutputResult result;
  auto problems = validate(config);
  if (!problems.empty()) {
    result.error = "output " + config.name + ": " + problems.front().message;
    return result;
  }
  std::unique_ptr<OutputPlugin> plugin;
  for (const auto& e : detail::plugin_registry()) {
    if (e.type == config.type) {
      std::string error;
      plugin = e.make(config, error);
      if (!plugin) {
        result.error = "output " + config.name + ": " + error;
        return result;
      }
    }
  }
  if (!plugin) {
    result.error = "output " + config.name + ": unknown type '" + config.type + "'";
    return result;
  }
  std::string error;
  auto spool = Spool::open(config.spool, error);
  if (!spool) {
    result.error = "output " + config.name + ": " + error;
    return result;
  }
  result.output = std::make_unique<SpooledOutput>(config, std::move(spool), std::move(plugin));
  return result;
}

}  // namespace sw::forward
