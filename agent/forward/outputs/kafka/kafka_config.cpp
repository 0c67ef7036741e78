// The kafka output's keys. Registered in every build, so that a build without librdkafka refuses
// the type saying why instead of calling it unknown.
#include <algorithm>
#include <array>
#include <cctype>

#include "forward/outputs/kafka/kafka_output.hpp"

namespace sw::forward::detail {

namespace {

constexpr std::array<std::string_view, 7> kKafkaKeys = {
    "brokers", "topic", "compression", "client_id", "delivery_timeout", "tls", "sasl"};
constexpr std::array<std::string_view, 4> kSaslKeys = {"mechanism", "username", "password_file",
                                                       "password_env"};
constexpr std::array<std::string_view, 5> kCompressions = {"none", "gzip", "snappy", "lz4", "zstd"};
constexpr std::array<std::string_view, 3> kMechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
constexpr std::size_t kMaxTopicLength = 249;  // Kafka's own limit

// Kafka's topic names: [A-Za-z0-9._-], at most 249 characters.
bool valid_topic(std::string_view topic) {
  return !topic.empty() && topic.size() <= kMaxTopicLength &&
         std::all_of(topic.begin(), topic.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
         });
}

// host:port, checked with the URL parser the other outputs use.
void add_broker(ConfigReader& reader, const YAML::Node& n, const std::string& key,
                KafkaOptions& options) {
  if (!n.IsScalar() || n.Scalar().empty()) {
    reader.error(n, key, "expected host:port");
    return;
  }
  Url url;
  std::string error;
  if (!parse_url("kafka://" + n.Scalar(), url, error) || url.port.empty() || !url.path.empty()) {
    reader.error(n, key, "'" + n.Scalar() + "': expected host:port");
    return;
  }
  options.brokers.push_back(n.Scalar());
}

void parse_brokers(ConfigReader& reader, const YAML::Node& node, KafkaOptions& options) {
  const YAML::Node n = node["brokers"];
  if (!n) {
    reader.error(node, "brokers", "kafka output needs 'brokers' (host:port, one or a list)");
  } else if (n.IsSequence() && n.size() > 0) {
    for (std::size_t i = 0; i < n.size(); ++i) {
      add_broker(reader, n[i], "brokers[" + std::to_string(i + 1) + "]", options);
    }
  } else if (n.IsScalar()) {
    add_broker(reader, n, "brokers", options);
  } else {
    reader.error(n, "brokers", "must be host:port or a list of them");
  }
}

void parse_topic(ConfigReader& reader, const YAML::Node& node, KafkaOptions& options) {
  if (!node["topic"]) {
    reader.error(node, "topic", "kafka output needs 'topic'");
  } else if (reader.string(node, "topic", options.topic) && !valid_topic(options.topic)) {
    reader.error(node["topic"], "topic",
                 "'" + options.topic + "' is not a Kafka topic name ([A-Za-z0-9._-], 1 to 249)");
  }
}

void parse_compression(ConfigReader& reader, const YAML::Node& node, KafkaOptions& options) {
  std::string c;
  if (!reader.string(node, "compression", c)) return;
  const auto it = std::find(kCompressions.begin(), kCompressions.end(), c);
  if (it == kCompressions.end()) {
    reader.error(node["compression"], "compression", "must be none, gzip, snappy, lz4 or zstd");
    return;
  }
  options.compression = static_cast<KafkaCompression>(it - kCompressions.begin());
}

void parse_timeout(ConfigReader& reader, const YAML::Node& node, KafkaOptions& options) {
  if (reader.duration(node, "delivery_timeout", options.delivery_timeout) &&
      options.delivery_timeout.count() <= 0) {
    reader.error(node["delivery_timeout"], "delivery_timeout", "must be more than 0");
  }
}

void parse_tls_section(ConfigReader& reader, const YAML::Node& node, KafkaOptions& options) {
  if (!node["tls"]) return;
  options.tls_enabled = true;
  parse_tls(reader, node, options.tls);
  if (!options.tls.server_name.empty()) {
    reader.error(node["tls"]["server_name"], "tls.server_name",
                 "not supported by the kafka output: each broker is verified by the name it "
                 "advertises");
  }
}

// The password comes from a file or the environment, never from the config itself.
void parse_sasl_password(ConfigReader& reader, const YAML::Node& s, KafkaSasl& sasl) {
  std::filesystem::path file;
  if (reader.file_path(s, "sasl.password_file", file)) sasl.password_file = file.string();
  reader.string(s, "sasl.password_env", sasl.password_env);
  if (sasl.password_file.empty() == sasl.password_env.empty()) {
    reader.error(s, "sasl", "needs one of password_file and password_env");
  }
}

void parse_sasl(ConfigReader& reader, const YAML::Node& node, KafkaOptions& options) {
  const YAML::Node s = reader.section(node, "sasl");
  if (!s) return;
  reader.check_keys(s, kSaslKeys, "sasl", "sasl");
  KafkaSasl& sasl = options.sasl;
  if (!reader.string(s, "sasl.mechanism", sasl.mechanism)) {
    if (!s["mechanism"]) reader.error(s, "sasl.mechanism", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
  } else if (std::find(kMechanisms.begin(), kMechanisms.end(), sasl.mechanism) ==
             kMechanisms.end()) {
    reader.error(s["mechanism"], "sasl.mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
  }
  if (!reader.string(s, "sasl.username", sasl.username) && !s["username"]) {
    reader.error(s, "sasl.username", "SASL needs a username");
  }
  parse_sasl_password(reader, s, sasl);
  if (sasl.mechanism == "PLAIN" && !options.tls_enabled) {
    reader.warning(s, "sasl", "PLAIN without tls sends the password in clear");
  }
}

}  // namespace

const PluginEntry kKafkaOutput = {"kafka", kKafkaKeys, &parse_kafka_options, &make_kafka_output,
                                  false};

std::string KafkaOptions::target() const {
  return brokers.empty() ? topic : brokers.front() + "/" + topic;
}

std::shared_ptr<const OutputOptions> parse_kafka_options(ConfigReader& reader,
                                                         const YAML::Node& node,
                                                         const OutputConfig&) {
  auto options = std::make_shared<KafkaOptions>();
#ifndef SW_HAVE_KAFKA
  reader.error(node["type"], "type", "this build has no Kafka support (built without librdkafka)");
  return options;
#endif
  parse_brokers(reader, node, *options);
  parse_topic(reader, node, *options);
  parse_compression(reader, node, *options);
  reader.string(node, "client_id", options->client_id);
  parse_timeout(reader, node, *options);
  parse_tls_section(reader, node, *options);
  parse_sasl(reader, node, *options);
  return options;
}

}  // namespace sw::forward::detail
