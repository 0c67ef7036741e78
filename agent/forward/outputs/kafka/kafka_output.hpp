// Alerts to a Kafka topic through librdkafka (builds with SW_HAVE_KAFKA; elsewhere the type is
// refused with a message saying so). Each alert is one message keyed by its computer (host.name),
// so one computer's alerts stay in one partition, in order. Its keys: kafka_config.cpp.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "forward/net/endpoints.hpp"
#include "forward/output_plugin.hpp"
namespace sw::forward::detail {

enum class KafkaCompression { kNone, kGzip, kSnappy, kLz4, kZstd };

struct KafkaSasl {
  std::string mechanism;  // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; empty: no SASL
  std::string username;
  std::string password_file;  // read when the output is made; never logged
  std::string password_env;   // or the name of an environment variable holding it
};

struct KafkaOptions final : OutputOptions {
  std::vector<std::string> brokers;  // host:port, the bootstrap list
  std::string topic;
  KafkaCompression compression = KafkaCompression::kNone;
  std::string client_id = "sessionwatch";
  // How long librdkafka may try to deliver a message before it is given back to the spool.
  std::chrono::milliseconds delivery_timeout{30'000};
  bool tls_enabled = false;  // a `tls:` section was given
  TlsOptions tls;
  KafkaSasl sasl;
  std::string target() const override;
};

extern const PluginEntry kKafkaOutput;

std::shared_ptr<const OutputOptions> parse_kafka_options(ConfigReader& reader,
                                                         const YAML::Node& node,
                                                         const OutputConfig& shared);
std::unique_ptr<OutputPlugin> make_kafka_output(const OutputConfig& config, std::string& error);

// The computer an alert record is about (its host.name), the message key. `format` says how the
// record is written: json, rfc5424 and rfc3164 carry the ECS document, cef its dvchost field.
// Empty when the record has none.
std::string computer_of(std::string_view payload, Format format);

}  // namespace sw::forward::detail
