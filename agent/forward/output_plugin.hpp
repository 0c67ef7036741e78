// The contract every output under outputs/<name>/ implements (Fluent Bit style): init once,
// flush batches, exit. The generic sender (output.cpp) owns the spool, retries, back-off and
// metrics; a plugin only moves bytes and says what became of them.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "sessionwatch/forward.hpp"

namespace sw::forward::detail {

struct Record {
  std::string_view id;       // event.id, for collectors that deduplicate (Elasticsearch _id)
  std::string_view payload;  // the formatted record, no framing, no newline
};

enum class FlushStatus {
  kDelivered,  // `count` records confirmed now (a prefix of the batch)
  kWritten,    // `count` records written; confirm() reports when they are confirmed
  kRetry,      // nothing delivered; try again later (after retry_after if set)
  kPoison,     // the collector rejected the first `count` records for good: dead-letter them
};

struct FlushResult {
  FlushStatus status = FlushStatus::kDelivered;
  std::size_t count = 0;
  std::string error;
  std::chrono::milliseconds retry_after{0};
};

// Nothing of the batch delivered: the spool keeps it and retries, not before `after` when the
// peer asked for a pause.
inline FlushResult retry(std::string error, std::chrono::milliseconds after = {}) {
  FlushResult r;
  r.status = FlushStatus::kRetry;
  r.error = std::move(error);
  r.retry_after = after;
  return r;
}

struct ConfirmResult {
  bool ok = true;             // false: the connection broke; everything written is unconfirmed
  std::size_t confirmed = 0;  // how many of the oldest written records are now confirmed
  std::string error;
};

class OutputPlugin {
 public:
  virtual ~OutputPlugin() = default;
  // Once, before the first flush. A non-empty string is a configuration error.
  virtual std::string init() { return {}; }
  virtual FlushResult flush(std::span<const Record> records) = 0;
  // For records reported kWritten. `idle`: nothing else is waiting, so the plugin may take the
  // time (or close the session) to settle what is outstanding.
  virtual ConfirmResult confirm(bool /*idle*/) { return {}; }
  // Once, when the sender stops.
  virtual void exit() {}
  virtual std::string active_url() const { return {}; }
  virtual bool connected() const { return false; }
  virtual std::uint64_t reconnects() const { return 0; }
};

using PluginFactory = std::unique_ptr<OutputPlugin> (*)(const OutputConfig& config,
                                                        std::string& error);
class ConfigReader;
// Reads the type's own keys into its options; `shared` holds the shared keys already read (the
// format, for checks that depend on it). Reports every problem to `reader`.
using PluginParse = std::shared_ptr<const OutputOptions> (*)(ConfigReader& reader,
                                                             const YAML::Node& node,
                                                             const OutputConfig& shared);

struct PluginEntry {
  std::string_view type;
  // Its own keys, beside the shared ones (forward/config.cpp): any other key is refused.
  std::span<const std::string_view> keys;
  PluginParse parse;
  PluginFactory make;
  // Records travel over syslog (RFC 5424 by default, CEF behind a syslog header).
  bool syslog_transport = false;
};

// Every output type, in registry.cpp: adding one is one line there and one folder.
std::span<const PluginEntry> plugin_registry();

// The options of `config` as the type's own struct; null (and `error`) when they are missing or
// of another type (a config built in code without them).
template <class Options>
const Options* options_of(const OutputConfig& config, std::string& error) {
  const auto* options = dynamic_cast<const Options*>(config.options.get());
  if (!options) error = config.type + " output has no " + config.type + " options";
  return options;
}

// For configs built in code (tests, benches): the options of `config` as a mutable copy of the
// type's struct (default ones when it has none), which `config` then holds.
template <class Options>
Options& edit_options(OutputConfig& config) {
  const auto* current = dynamic_cast<const Options*>(config.options.get());
  auto copy = current ? std::make_shared<Options>(*current) : std::make_shared<Options>();
  config.options = copy;
  return *copy;
}

// scheme://host:port/path, with [v6] hosts.
struct Url {
  std::string scheme;
  std::string host;
  std::string port;
  std::string path;           // with the leading '/', may be empty
  std::string authorization;  // HTTP Authorization header value; empty: none
};
// Refuses a URL with a user or password in it (see take_userinfo).
bool parse_url(std::string_view text, Url& out, std::string& error);
// Splits "scheme://user:password@host/..." into the URL without "user:password@" and the
// percent-decoded "user:password" (empty when there is none).
bool take_userinfo(std::string_view text, std::string& url, std::string& userinfo,
                   std::string& error);
// "%41b" -> "Ab"; false on a truncated or non-hex escape.
bool percent_decode(std::string_view in, std::string& out);
// The URL as it may be printed: a password in it replaced by "***".
std::string redact_url(std::string_view text);
std::string_view default_port(std::string_view scheme);

}  // namespace sw::forward::detail
