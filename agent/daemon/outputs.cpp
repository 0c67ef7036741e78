// The built-in outputs (file, stdout): written and flushed to disk synchronously, so they need no
// spool of their own.
#include "daemon/outputs.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "daemon/metrics.hpp"
#include "platform/fsync.hpp"
#include "sessionwatch/platform.hpp"
#if defined(SW_HAVE_FORWARD)
#include <thread>

#include "sessionwatch/forward.hpp"
#endif

namespace sw::daemon {

namespace {

class DirectOutput {
 public:
  DirectOutput(std::string name, std::string type, std::FILE* stream, bool owned)
      : name_(std::move(name)), type_(std::move(type)), stream_(stream), owned_(owned) {}
  ~DirectOutput() {
    if (owned_ && stream_) std::fclose(stream_);
  }
  DirectOutput(const DirectOutput&) = delete;
  DirectOutput& operator=(const DirectOutput&) = delete;

  bool write(const std::string& lines, std::size_t count, std::string& error) {
    const bool ok = std::fwrite(lines.data(), 1, lines.size(), stream_) == lines.size() &&
                    (owned_ ? platform::sync_file(stream_) : std::fflush(stream_) == 0);
    std::lock_guard lock(mutex_);
    if (!ok) {
      ++errors_;
      last_error_ = "write failed: " + std::string(std::strerror(errno));
      error = name_ + ": " + last_error_;
      return false;
    }
    sent_ += count;
    bytes_ += lines.size();
    return true;
  }

  void write_metrics(std::string& out) const {
    std::lock_guard lock(mutex_);
    const std::string labels = "{output=\"" + name_ + "\",type=\"" + type_ + "\"}";
    out += "sessionwatch_output_sent_total" + labels + " " + std::to_string(sent_) + "\n";
    out += "sessionwatch_output_retried_total" + labels + " 0\n";
    out += "sessionwatch_output_dropped_total" + labels + " 0\n";
    out += "sessionwatch_output_errors_total" + labels + " " + std::to_string(errors_) + "\n";
    out += "sessionwatch_output_queue_depth" + labels + " 0\n";
    out += "sessionwatch_output_spool_bytes" + labels + " 0\n";
    out += "sessionwatch_output_written_bytes_total" + labels + " " + std::to_string(bytes_) + "\n";
    out += "sessionwatch_output_last_error" + std::string("{output=\"") + name_ + "\",type=\"" +
           type_ + "\",error=\"" + label_value(last_error_) + "\"} " +
           (last_error_.empty() ? "0" : "1") + "\n";
  }

 private:
  std::string name_;
  std::string type_;
  std::FILE* stream_;
  bool owned_;
  mutable std::mutex mutex_;
  std::uint64_t sent_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t errors_ = 0;
  std::string last_error_;
};

class DirectOutputs : public AlertOutputs {
 public:
  bool store(const std::vector<Alert>& alerts, std::string& error) override {
    if (alerts.empty()) return true;
    lines_.clear();
    for (const Alert& alert : alerts) {
      lines_ += alert.doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      lines_.push_back('\n');
    }
    for (auto& output : outputs_) {
      if (!output->write(lines_, alerts.size(), error)) return false;
    }
    return true;
  }
  void close() override {}
  void write_metrics(std::string& out) const override {
    for (const auto& output : outputs_) output->write_metrics(out);
  }
  std::vector<std::unique_ptr<DirectOutput>> outputs_;

 private:
  std::string lines_;
};

#if defined(SW_HAVE_FORWARD)
// The forwarding module's outputs: enqueue() returns once the alerts are durable in that output's
// spool; its sender thread delivers them.
class ForwardOutputs : public AlertOutputs {
 public:
  bool store(const std::vector<Alert>& alerts, std::string& error) override {
    for (auto& output : outputs_) {
      std::size_t done = 0;
      while (done < alerts.size()) {
        const auto result =
            output->enqueue(std::span<const Alert>(alerts.data() + done, alerts.size() - done),
                            std::chrono::milliseconds(500));
        done += result.accepted;
        if (result.ok) break;
        if (aborted_) {
          error = output->config().name + ": " + result.error;
          return false;
        }
        // Spool full (block policy): the sources wait here, which is the backpressure.
      }
    }
    return true;
  }
  void abort() override { aborted_ = true; }
  bool wait_delivered(std::chrono::milliseconds timeout) override {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (auto& output : outputs_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (!output->wait_drained(std::max(left, std::chrono::milliseconds(0)))) return false;
    }
    return true;
  }
  void close() override {
    for (auto& output : outputs_) output->stop(std::chrono::milliseconds(2000));
  }
  void write_metrics(std::string& out) const override {
    for (const auto& output : outputs_) {
      const forward::OutputMetrics m = output->metrics();
      const std::string labels =
          "{output=\"" + label_value(m.name) + "\",type=\"" + output->config().type + "\"}";
      auto line = [&](const char* name, std::uint64_t value) {
        out += name + labels + " " + std::to_string(value) + "\n";
      };
      line("sessionwatch_output_queued_total", m.queued);
      line("sessionwatch_output_sent_total", m.sent);
      line("sessionwatch_output_retried_total", m.retried);
      line("sessionwatch_output_dropped_total", m.dropped);
      line("sessionwatch_output_dead_lettered_total", m.dead_lettered);
      line("sessionwatch_output_queue_depth", m.spool_records);
      line("sessionwatch_output_spool_bytes", m.spool_bytes);
      line("sessionwatch_output_reconnects_total", m.reconnects);
      line("sessionwatch_output_connected", m.connected ? 1 : 0);
      out += "sessionwatch_output_last_error{output=\"" + label_value(m.name) + "\",error=\"" +
             label_value(m.last_error) + "\"} " + (m.last_error.empty() ? "0" : "1") + "\n";
    }
  }
  std::vector<std::unique_ptr<forward::Output>> outputs_;

 private:
  std::atomic<bool> aborted_{false};
};
#endif

}  // namespace

std::unique_ptr<AlertOutputs> make_outputs(const std::vector<OutputConfig>& outputs,
                                           const std::string& /*data_dir*/, std::string& error) {
#if defined(SW_HAVE_FORWARD)
  auto forwarded = std::make_unique<ForwardOutputs>();
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
    forwarded->outputs_.push_back(std::move(made.output));
  }
  for (auto& output : forwarded->outputs_) output->start();
  return forwarded;
#endif
  auto set = std::make_unique<DirectOutputs>();
  for (const OutputConfig& config : outputs) {
    if (config.type == "stdout") {
      set->outputs_.push_back(std::make_unique<DirectOutput>(config.name, "stdout", stdout, false));
    } else if (config.type == "file") {
      const auto dir = std::filesystem::path(config.path).parent_path();
      std::string ignored;  // the open below reports what matters
      if (!dir.empty()) platform::create_private_directories(dir.string(), ignored);
      std::FILE* stream = platform::open_private_for_append(config.path);
      if (!stream) {
        error =
            "output " + config.name + ": cannot open " + config.path + ": " + std::strerror(errno);
        return nullptr;
      }
      set->outputs_.push_back(std::make_unique<DirectOutput>(config.name, "file", stream, true));
    } else {
      error = "output " + config.name + ": type " + config.type + " is not available";
      return nullptr;
    }
  }
  return set;
}

}  // namespace sw::daemon
