// Kafka through librdkafka's producer: idempotent, acks=all. flush() hands records to librdkafka
// and reports them kWritten; confirm() serves librdkafka's delivery reports and confirms the
// oldest written records once each of them, and every one before it, has a successful report.
// Reports arrive per partition, so a later record may be reported before an earlier one: it
// waits until the earlier one is. A failed report (the brokers unreachable past
// delivery_timeout, a refusal) or librdkafka saying all brokers are down fails the whole
// outstanding window: what librdkafka still holds is purged and the sender resends it from the
// spool after its back-off. Records that were delivered in the failed window are sent again, with
// the same event.id (at least once).
#include "forward/outputs/kafka/kafka_output.hpp"

#ifdef SW_HAVE_KAFKA

#include "forward/outputs/kafka/rdkafka_api.hpp"

#include <deque>

#include <spdlog/spdlog.h>

#include "sessionwatch/yaml_guard.hpp"

// librdkafka's RD_KAFKA_V_* macros check their argument types with GNU statement expressions.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif

namespace sw::forward::detail {

namespace {

constexpr std::size_t kMaxPasswordFile = 4096;
constexpr std::chrono::milliseconds kProbeTimeout{2000};
constexpr std::string_view kCompressionNames[] = {"none", "gzip", "snappy", "lz4", "zstd"};

enum class Report : std::uint8_t { kPending, kDelivered, kFailed };

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rdkafka().rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// The librdkafka settings of `options`, as name/value pairs. The password is not among them: it
// is set apart so that no list of settings ever holds it.
std::vector<std::pair<std::string, std::string>> settings_of(const KafkaOptions& o) {
  std::string brokers;
  for (const auto& b : o.brokers) brokers += (brokers.empty() ? "" : ",") + b;
  std::vector<std::pair<std::string, std::string>> s = {
      {"bootstrap.servers", brokers},
      {"client.id", o.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.codec", std::string(kCompressionNames[static_cast<int>(o.compression)])},
      {"message.timeout.ms", std::to_string(o.delivery_timeout.count())},
      {"linger.ms", "5"},
  };
  const bool sasl = !o.sasl.mechanism.empty();
  s.emplace_back("security.protocol", o.tls_enabled ? (sasl ? "sasl_ssl" : "ssl")
                                                    : (sasl ? "sasl_plaintext" : "plaintext"));
  if (o.tls_enabled) {
    if (!o.tls.ca_file.empty()) s.emplace_back("ssl.ca.location", o.tls.ca_file);
    if (!o.tls.cert_file.empty()) s.emplace_back("ssl.certificate.location", o.tls.cert_file);
    if (!o.tls.key_file.empty()) s.emplace_back("ssl.key.location", o.tls.key_file);
    s.emplace_back("enable.ssl.certificate.verification", o.tls.verify ? "true" : "false");
    s.emplace_back("ssl.endpoint.identification.algorithm", o.tls.verify ? "https" : "none");
  }
  if (sasl) {
    s.emplace_back("sasl.mechanisms", o.sasl.mechanism);
    s.emplace_back("sasl.username", o.sasl.username);
  }
  return s;
}

bool read_password(const KafkaSasl& sasl, std::string& password, std::string& error) {
  if (!sasl.password_env.empty()) {
    const char* value = std::getenv(sasl.password_env.c_str());
    if (!value || !*value) {
      error = "sasl.password_env: " + sasl.password_env + " is not set";
      return false;
    }
    password = value;
    return true;
  }
  if (!yaml::read_bounded_file(sasl.password_file, kMaxPasswordFile, password, error)) {
    error = "sasl.password_file " + sasl.password_file + ": " + error;
    return false;
  }
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) error = "sasl.password_file " + sasl.password_file + " is empty";
  return !password.empty();
}

bool set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value,
         std::string& error) {
  char err[512];
  if (rdkafka().rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) ==
      RD_KAFKA_CONF_OK) {
    return true;
  }
  error = "kafka setting " + name + ": " + err;
  return false;
}

ConfPtr make_conf(const KafkaOptions& options, std::string& error) {
  ConfPtr conf(rdkafka().rd_kafka_conf_new());
  for (const auto& [name, value] : settings_of(options)) {
    if (!set(conf.get(), name, value, error)) return nullptr;
  }
  if (!options.sasl.mechanism.empty()) {
    std::string password;
    if (!read_password(options.sasl, password, error)) return nullptr;
    if (!set(conf.get(), "sasl.password", password, error)) return nullptr;
  }
  return conf;
}

// librdkafka's log lines, at debug: what matters reaches the on-call reader through the
// sender's outage log.
void log_line(const rd_kafka_t*, int level, const char* facility, const char* message) {
  if (level <= 3) {
    spdlog::debug("librdkafka {}: {}", facility, message);
  } else {
    spdlog::trace("librdkafka {}: {}", facility, message);
  }
}

class KafkaOutput final : public OutputPlugin {
 public:
  KafkaOutput(const KafkaOptions& options, Format format, ConfPtr conf)
      : options_(options), format_(format), conf_(std::move(conf)) {}
  ~KafkaOutput() override { destroy(); }

  std::string init() override { return create(); }

  FlushResult flush(std::span<const Record> records) override {
    if (!rk_ || fatal_) {
      destroy();
      if (std::string e = create(); !e.empty()) return retry(e);
    }
    if (all_down_ && !reachable()) return retry(describe(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN));
    FlushResult r;
    r.status = FlushStatus::kWritten;
    for (const Record& rec : records) {
      const rd_kafka_resp_err_t e = produce_waiting(rec, r.count == 0);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && r.count > 0) break;  // confirm() makes room
      if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        if (r.count > 0) break;  // the written ones first; the next flush starts with this one
        return too_large(rec);
      }
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail_window();
        return retry(describe(e));
      }
      ++r.count;
    }
    return r;
  }

  ConfirmResult confirm(bool idle) override {
    ConfirmResult r;
    if (!rk_) return r;
    rdkafka().rd_kafka_poll(rk_, idle && !window_.empty() ? 100 : 0);
    if (!failure_.empty()) {
      r.ok = false;
      r.error = failure_;
      fail_window();
      return r;
    }
    while (!window_.empty() && window_.front() == Report::kDelivered) {
      window_.pop_front();
      ++first_seq_;
      ++r.confirmed;
    }
    return r;
  }

  // What is still unconfirmed stays in the spool and is sent again by the next run.
  void exit() override { destroy(); }
  std::string active_url() const override { return connected_ ? options_.target() : ""; }
  bool connected() const override { return connected_; }
  std::uint64_t reconnects() const override { return reconnects_; }

 private:
  // Larger than the producer's message.max.bytes: no retry can deliver it, so it goes to the
  // dead-letter file instead of holding back every alert behind it.
  FlushResult too_large(const Record& rec) const {
    FlushResult r;
    r.status = FlushStatus::kPoison;
    r.count = 1;
    r.error = "alert of " + std::to_string(rec.payload.size()) +
              " bytes is larger than Kafka's message.max.bytes";
    return r;
  }

  // One stable text per kind of failure, so that an outage is one warning, not one per attempt.
  std::string describe(rd_kafka_resp_err_t e) const {
    return "cannot deliver to Kafka topic " + options_.topic + " at " + options_.brokers.front() +
           ": " + rdkafka().rd_kafka_err2str(e);
  }

  std::string create() {
    char err[512];
    rd_kafka_conf_t* conf = rdkafka().rd_kafka_conf_dup(conf_.get());
    rdkafka().rd_kafka_conf_set_opaque(conf, this);
    rdkafka().rd_kafka_conf_set_dr_msg_cb(conf, &KafkaOutput::on_delivery);
    rdkafka().rd_kafka_conf_set_error_cb(conf, &KafkaOutput::on_error);
    rdkafka().rd_kafka_conf_set_log_cb(conf, &log_line);
    rk_ = rdkafka().rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);  // owns conf on success
    if (!rk_) {
      rdkafka().rd_kafka_conf_destroy(conf);
      return std::string("cannot create the Kafka producer: ") + err;
    }
    fatal_ = false;
    return {};
  }

  void destroy() {
    if (!rk_) return;
    fail_window();  // the purged messages' reports are ignored
    rdkafka().rd_kafka_destroy(rk_);
    rk_ = nullptr;
    set_connected(false);
  }

  rd_kafka_resp_err_t produce(const Record& rec) {
    const std::string key = computer_of(rec.payload, format_);
    const std::uint64_t seq = first_seq_ + window_.size();
    const rd_kafka_resp_err_t e = rdkafka().rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(options_.topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(rec.payload.data()), rec.payload.size()),
        RD_KAFKA_V_HEADER("event.id", rec.id.data(), static_cast<ssize_t>(rec.id.size())),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        // The record's sequence number rides as librdkafka's opaque pointer, never dereferenced.
        // NOLINTNEXTLINE(performance-no-int-to-ptr)
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(seq))),
        RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) window_.push_back(Report::kPending);
    return e;
  }

  // librdkafka's queue is full when the brokers take less than the spool offers. The first record
  // of a flush waits for room (up to delivery_timeout); a later one returns what was written.
  rd_kafka_resp_err_t produce_waiting(const Record& rec, bool wait) {
    const auto until = std::chrono::steady_clock::now() + options_.delivery_timeout;
    rd_kafka_resp_err_t e = produce(rec);
    while (wait && e == RD_KAFKA_RESP_ERR__QUEUE_FULL && std::chrono::steady_clock::now() < until) {
      rdkafka().rd_kafka_poll(rk_, 50);
      e = produce(rec);
    }
    return e;
  }

  // Everything outstanding is given back to the spool: librdkafka drops what it still holds, and
  // reports of this window that come later are ignored (their sequence numbers are behind).
  void fail_window() {
    first_seq_ += window_.size();
    window_.clear();
    if (rk_) {
      rdkafka().rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rdkafka().rd_kafka_poll(rk_, 0);
    }
    failure_.clear();
  }

  // After librdkafka found every broker down, a metadata request tells whether one answers
  // again before records are handed over (else they would wait out delivery_timeout first).
  bool reachable() {
    const rd_kafka_metadata_t* metadata = nullptr;
    if (rdkafka().rd_kafka_metadata(rk_, 0, nullptr, &metadata,
                                    static_cast<int>(kProbeTimeout.count())) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return false;
    }
    rdkafka().rd_kafka_metadata_destroy(metadata);
    all_down_ = false;
    set_connected(true);
    return true;
  }

  void set_connected(bool up) {
    if (up && !connected_ && ever_connected_) ++reconnects_;
    ever_connected_ |= up;
    connected_ = up;
  }

  // Delivery reports and errors run inside rd_kafka_poll, on the sender's thread.
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<KafkaOutput*>(opaque);
    const auto seq = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->_private));
    if (seq < self->first_seq_ || seq - self->first_seq_ >= self->window_.size()) return;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->window_[seq - self->first_seq_] = Report::kDelivered;
      self->all_down_ = false;
      self->set_connected(true);
    } else if (self->failure_.empty()) {
      self->failure_ = self->describe(m->err);
    }
  }

  static void on_error(rd_kafka_t* rk, int code, const char* reason, void* opaque) {
    auto* self = static_cast<KafkaOutput*>(opaque);
    const auto err = static_cast<rd_kafka_resp_err_t>(code);
    spdlog::debug("output kafka {}: {}", self->options_.target(), reason);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char why[512];
      rdkafka().rd_kafka_fatal_error(rk, why, sizeof why);
      self->fatal_ = true;
      self->failure_ = "Kafka producer failed for good, recreating it: " + std::string(why);
    } else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
      self->set_connected(false);
      self->all_down_ = true;
      if (self->failure_.empty() && !self->window_.empty()) self->failure_ = self->describe(err);
    }
  }

  KafkaOptions options_;
  Format format_;
  ConfPtr conf_;  // the settings; each producer gets a copy
  rd_kafka_t* rk_ = nullptr;
  std::deque<Report> window_;    // written records, oldest first, with their report so far
  std::uint64_t first_seq_ = 0;  // the sequence number of window_.front()
  std::string failure_;          // set by a callback: the window failed
  bool fatal_ = false;
  bool all_down_ = false;  // librdkafka reported every broker down; cleared when one answers
  bool connected_ = false;
  bool ever_connected_ = false;
  std::uint64_t reconnects_ = 0;
};

}  // namespace

std::unique_ptr<OutputPlugin> make_kafka_output(const OutputConfig& output, std::string& error) {
  const KafkaOptions* options = options_of<KafkaOptions>(output, error);
  if (!options) return nullptr;
  if (!rdkafka().error.empty()) {
    error = "kafka output: " + rdkafka().error;
    return nullptr;
  }
  if (options->brokers.empty() || options->topic.empty()) {
    error = "kafka output needs brokers and a topic";
    return nullptr;
  }
  ConfPtr conf = make_conf(*options, error);
  if (!conf) return nullptr;
  return std::make_unique<KafkaOutput>(*options, output.format.format, std::move(conf));
}

}  // namespace sw::forward::detail

#else  // no librdkafka in this build

namespace sw::forward::detail {

std::unique_ptr<OutputPlugin> make_kafka_output(const OutputConfig&, std::string& error) {
  error = "this build has no Kafka support (built without librdkafka)";
  return nullptr;
}

}  // namespace sw::forward::detail

#endif  // SW_HAVE_KAFKA
