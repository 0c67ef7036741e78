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

enum class TcpFraming { kOctetCounting, kLineFeed };
enum class HttpBody { kJsonLines, kJsonArray, kElasticBulk };

struct TlsOptions {
  bool verify = true;       // peer certificate and host name checked
  std::string ca_file;      // PEM bundle; empty: the system store
  std::string cert_file;    // client certificate (mTLS), PEM
  std::string key_file;     // its private key, PEM
  std::string server_name;  // name to verify and send as SNI; empty: the URL's host
};

struct HttpOptions {
  std::string path = "/";                                    // used when the URL has no path
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization: Splunk <token>
  // Per URL (same index as OutputConfig::urls, may be shorter): "user:password" taken out of
  // the URL as written, sent as basic authentication; empty: none.
  std::vector<std::string> basic_auth;
  HttpBody body = HttpBody::kJsonLines;
  std::string bulk_index;  // _bulk: index name in the action line (empty: from the URL path)
  bool gzip = false;
};

struct FileOptions {
  std::filesystem::path path;              // "-" is stdout for type stdout
  std::uint64_t max_bytes = 100ULL << 20;  // rotate when the file would grow past this
  int max_files = 5;                       // path.1 .. path.N kept
};

struct RetryOptions {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{30'000};
  double jitter = 0.2;  // +-20% so many agents do not reconnect in lockstep
};

struct OutputConfig {
  std::string name;               // unique; names the spool directory and the metrics
  std::string type;               // syslog | relp | http | file | stdout
  std::vector<std::string> urls;  // in failover order: udp:// tcp:// tls:// relp:// http(s)://
  FormatOptions format;
  TcpFraming framing = TcpFraming::kOctetCounting;
  TlsOptions tls;
  HttpOptions http;
  FileOptions file;
  SpoolOptions spool;  // dir empty: <data_dir>/spool/<name>
  RetryOptions retry;
  std::size_t batch_records = 500;
  std::size_t batch_bytes = 1 << 20;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds io_timeout{10'000};
  // TCP/TLS: a write counts as confirmed once the peer's TCP acknowledged it and the connection
  // is still up this long after the write.
  std::chrono::milliseconds confirm_delay{200};
  // While on a secondary collector, try the first one again this often.
  std::chrono::milliseconds failback_interval{30'000};
  std::filesystem::path dead_letter;  // empty: <spool dir>/dead-letter.jsonl
};

struct ConfigError {
  std::string message;
  int line = 0;  // 1-based line in the YAML, 0 when unknown
  int column = 0;
};

// Parses one item of the `outputs:` list. data_dir places the spool; errors carry the YAML line.
std::optional<OutputConfig> parse_output_config(const YAML::Node& node,
                                                const std::filesystem::path& data_dir,
                                                std::vector<ConfigError>& errors);
// Checks a config for contradictions (no URL, bad scheme, TLS files missing, ...).
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
