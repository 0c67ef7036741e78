// Forwarding: alerts -> formatted records -> per-output disk spool -> collector.
//
// Each configured output is an sw::forward::Output: its own spool, its own sender thread and
// its own transport, so a slow or dead collector never holds back the others. Delivery is
// at-least-once; a record leaves the spool only when its transport confirmed it (see
// docs/forwarding.md for what "confirmed" means per transport). Duplicates after a crash or a
// broken connection carry the same event.id.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sessionwatch/alert.hpp"
#include "sessionwatch/spool.hpp"

namespace YAML {
class Node;
}

namespace sw::forward {

// ---------------------------------------------------------------- formats

enum class Format { kJson, kRfc5424, kRfc3164, kCef };
std::string_view to_string(Format f);
bool parse_format(std::string_view s, Format& out);

struct FormatOptions {
  Format format = Format::kJson;
  int facility = 10;                    // syslog facility; 10 = authpriv (security/authorization)
  std::uint32_t enterprise_id = 32473;  // SD-ID sessionwatch@<PEN>; 32473 is the RFC 5612 example
  std::string app_name = "sessionwatch";
  std::string hostname;  // HOSTNAME field; empty: the alert's host
  // CEF only: put an RFC 3164 header before "CEF:0|..." (how CEF travels over syslog).
  bool cef_syslog_header = false;
};

// Appends the record for `alert` to `out`: one line without its terminating newline, with every
// control character neutralized so no field can start a second record.
void format_alert(const Alert& alert, const FormatOptions& options, std::string& out);

// Syslog facility names ("auth", "authpriv", "local0".."local7", ...) or numbers 0..23.
bool parse_facility(std::string_view s, int& out);

// ---------------------------------------------------------------- configuration

struct RetryOptions {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{30'000};
  double jitter = 0.2;  // +-20% so many agents do not reconnect in lockstep
};

// What one output type alone reads (URLs, TLS, HTTP body, file path ...). Each type defines its
// own under agent/forward/outputs/<type>/ with its parser, which refuses keys it does not know.
class OutputOptions {
 public:
  virtual ~OutputOptions() = default;
  // The collector or file this output writes to, for the default name and `check`.
  virtual std::string target() const = 0;
};

// The keys every output shares; the rest is the type's `options`.
struct OutputConfig {
  std::string name;  // unique; names the spool directory and the metrics
  std::string type;  // syslog | relp | http | file | stdout
  FormatOptions format;
  SpoolOptions spool;  // dir empty: <data_dir>/spool/<name>
  RetryOptions retry;
  std::size_t batch_records = 500;
  std::size_t batch_bytes = 1 << 20;
  std::filesystem::path dead_letter;  // empty: <spool dir>/dead-letter.jsonl
  std::shared_ptr<const OutputOptions> options;
};

struct ConfigError {
  std::string message;
  int line = 0;  // 1-based line in the YAML, 0 when unknown
  int column = 0;
  std::string key;  // the key's path inside the output ("batch.records"); empty: the output
};

struct OutputParseContext {
  std::filesystem::path data_dir;  // places the spools
  std::filesystem::path base_dir;  // anchors relative paths (the config file's folder)
};

// Parses one item of the `outputs:` list: every problem of the item is reported, each with its
// key and YAML line. Warnings (valid but risky settings) go to `warnings` when given.
std::optional<OutputConfig> parse_output_config(const YAML::Node& node,
                                                const OutputParseContext& context,
                                                std::vector<ConfigError>& errors,
                                                std::vector<ConfigError>* warnings = nullptr);
// Checks the shared keys of a config built in code (name, spool, batch); the type's options are
// checked when they are parsed and when the output is made.
std::vector<ConfigError> validate(const OutputConfig& config);

// ---------------------------------------------------------------- outputs

struct OutputMetrics {
  std::string name;
  std::uint64_t queued = 0;         // alerts accepted into the spool since start
  std::uint64_t sent = 0;           // alerts confirmed by the collector
  std::uint64_t retried = 0;        // delivery attempts that failed and will be retried
  std::uint64_t dropped = 0;        // alerts lost to drop_oldest or refused as too large
  std::uint64_t dead_lettered = 0;  // alerts the collector rejected for good (HTTP 4xx)
  std::uint64_t spool_records = 0;  // waiting in the spool
  std::uint64_t spool_bytes = 0;
  std::uint64_t corrupt_bytes = 0;       // cut from the spool as torn/corrupt
  std::uint64_t spool_write_errors = 0;  // appends and fsyncs the spool's disk refused
  std::uint64_t spool_lost = 0;          // alerts lost to damaged or missing spool files
  std::uint64_t spool_lost_unknown = 0;  // such losses whose alert count could not be told
  std::uint64_t reconnects = 0;
  bool connected = false;
  std::string active_url;
  std::string last_error;
};

struct EnqueueResult {
  bool ok = true;
  std::size_t accepted = 0;  // a prefix of the alerts given
  // The spool's disk refused the write (full, I/O error): the alerts after `accepted` left no
  // trace and must be offered again once it can take them. Otherwise !ok means the spool is full
  // (when_full: block) or closed.
  bool write_failed = false;
  std::string error;
};

class Output {
 public:
  virtual ~Output() = default;
  virtual const OutputConfig& config() const = 0;
  // Formats the alerts and appends them to the spool; returns once they are durable there (per
  // the fsync policy). With when_full=block, waits up to `wait` for space, then returns
  // ok=false with the accepted prefix (backpressure for the caller).
  virtual EnqueueResult enqueue(
      std::span<const Alert> alerts,
      std::chrono::milliseconds wait = std::chrono::milliseconds::max()) = 0;
  // enqueue() in two halves, so the caller can work while the disk syncs: returns once the
  // accepted alerts are in the spool and readable, with their closing fsync (fsync: batch)
  // started but perhaps not done; `sync` names it. wait_synced(sync) must follow, once per
  // call that set it. Under another fsync policy this is enqueue() and `sync` is 0.
  virtual EnqueueResult enqueue_unsynced(std::span<const Alert> alerts,
                                         std::chrono::milliseconds wait, std::uint64_t& sync) {
    sync = 0;
    return enqueue(alerts, wait);
  }
  // Blocks until the fsync `sync` names has finished. False with the OS's reason when it failed:
  // the alerts that call accepted may not be on disk, and are to be offered again.
  virtual bool wait_synced(std::uint64_t sync, std::string& error) {
    (void)sync;
    (void)error;
    return true;
  }
  // Starts the sender thread (delivery of what the spool holds, including leftovers).
  virtual void start() = 0;
  // Stops the sender after at most `drain` spent delivering what is queued; the rest stays
  // spooled for the next start.
  virtual void stop(std::chrono::milliseconds drain = std::chrono::milliseconds(0)) = 0;
  // True once every queued alert was confirmed (or timeout).
  virtual bool wait_drained(std::chrono::milliseconds timeout) = 0;
  virtual OutputMetrics metrics() const = 0;
  // Alerts its spool lost to damaged or missing files since the last call (see Spool).
  virtual std::vector<SpoolLoss> take_losses() = 0;
};

struct MakeOutputResult {
  std::unique_ptr<Output> output;
  std::string error;  // set when output is null
};

// Builds the output for a config: opens (and recovers) its spool and its transport. Does not
// connect yet; start() does, retrying in the background.
MakeOutputResult make_output(const OutputConfig& config);

// Output types the factory knows, e.g. for `sessionwatch check`.
std::vector<std::string> output_types();

}  // namespace sw::forward
