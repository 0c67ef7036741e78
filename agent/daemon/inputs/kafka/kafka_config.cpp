#include "daemon/inputs/kafka/kafka_config.hpp"

#include <algorithm>
#include <array>

#include "daemon/inputs/kafka/kafka_input.hpp"
#include "sessionwatch/yaml_guard.hpp"

namespace sw::daemon {

namespace {

using forward::detail::ConfigReader;

constexpr std::array<std::string_view, 9> kKafkaKeys = {
    "brokers", "group_id",       "topics", "start",     "handover_dir",
    "tls",     "revoke_timeout", "sasl",   "librdkafka"};

// A list of non-empty strings, or one string.
bool string_list(ConfigReader& reader, const YAML::Node& item, std::string_view key,
                 std::vector<std::string>& out) {
  const YAML::Node n = item[std::string(key)];
  if (!n) {
    reader.error(item, key, "is required");
    return false;
  }
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const YAML::Node& v : n) {
      if (v.IsScalar()) out.push_back(v.Scalar());
    }
  }
  const bool bad = out.empty() || std::any_of(out.begin(), out.end(),
                                              [](const std::string& s) { return s.empty(); });
  if (bad || (n.IsSequence() && out.size() != n.size())) {
    reader.error(n, key, "expected a non-empty string or a list of them");
    return false;
  }
  return true;
}

void parse_sasl(ConfigReader& reader, const YAML::Node& item, KafkaSasl& out) {
  const YAML::Node s = reader.section(item, "sasl");
  if (!s) return;
  static constexpr std::array<std::string_view, 4> kSaslKeys = {"mechanism", "username", "password",
                                                                "password_file"};
  reader.check_keys(s, kSaslKeys, "sasl", "sasl");
  reader.string(s, "sasl.mechanism", out.mechanism);
  if (out.mechanism != "PLAIN" && out.mechanism != "SCRAM-SHA-256" &&
      out.mechanism != "SCRAM-SHA-512") {
    reader.error(s, "sasl.mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
  }
  if (!reader.string(s, "sasl.username", out.username) || out.username.empty()) {
    reader.error(s, "sasl.username", "is required with sasl");
  }
  std::filesystem::path file;
  const bool inline_password = reader.string(s, "sasl.password", out.password);
  if (reader.file_path(s, "sasl.password_file", file)) {
    if (inline_password) reader.error(s, "sasl", "password and password_file are exclusive");
    std::string read_error;
    if (!yaml::read_bounded_file(file.string(), 4096, out.password, read_error)) {
      reader.error(s["password_file"], "sasl.password_file", file.string() + ": " + read_error);
    }
    while (!out.password.empty() && (out.password.back() == '\n' || out.password.back() == '\r')) {
      out.password.pop_back();
    }
  }
  if (out.password.empty()) reader.error(s, "sasl", "a password (or password_file) is required");
}

void parse_properties(ConfigReader& reader, const YAML::Node& item,
                      std::map<std::string, std::string>& out) {
  const YAML::Node p = reader.section(item, "librdkafka");
  if (!p) return;
  for (const auto& kv : p) {
    if (!kv.second.IsScalar()) {
      reader.error(kv.second, "librdkafka." + kv.first.Scalar(), "expected a string");
      continue;
    }
    out[kv.first.Scalar()] = kv.second.Scalar();
  }
}

}  // namespace

bool kafka_available() {
#ifdef SW_HAVE_KAFKA
  return true;
#else
  return false;
#endif
}

namespace {

std::shared_ptr<const KafkaInputOptions> parse_kafka_keys(ConfigReader& reader,
                                                          const YAML::Node& item) {
  if (!kafka_available()) {
    reader.error(item["type"], "type", "the kafka input is not in this build (no librdkafka)");
  }
  auto out = std::make_shared<KafkaInputOptions>();
  string_list(reader, item, "brokers", out->brokers);
  string_list(reader, item, "topics", out->topics);
  if (!reader.string(item, "group_id", out->group_id) || out->group_id.empty()) {
    reader.error(item, "group_id", "is required (the consumer group the relays share)");
  }
  std::string start = "earliest";
  if (reader.string(item, "start", start) && start != "earliest" && start != "latest") {
    reader.error(item["start"], "start", "must be earliest or latest");
  }
  out->start_at_earliest = start == "earliest";
  std::filesystem::path handover;
  if (reader.file_path(item, "handover_dir", handover)) out->handover_dir = handover.string();
  reader.duration(item, "revoke_timeout", out->revoke_timeout);
  out->tls = static_cast<bool>(item["tls"]);
  forward::detail::parse_tls(reader, item, out->tls_options);
  parse_sasl(reader, item, out->sasl);
  parse_properties(reader, item, out->properties);
  return out;
}

// The output readers' helpers (TLS, durations, paths) serve its keys: their problems come back
// keyed ("inputs[1].sasl.mechanism: ...").
std::shared_ptr<const InputOptions> parse_kafka_options(const YAML::Node& item,
                                                        const InputParseContext& context) {
  std::vector<forward::ConfigError> errors, warnings;
  const forward::OutputParseContext paths{context.data_dir, context.reader.base_dir()};
  ConfigReader reader(paths, errors, &warnings);
  auto options = parse_kafka_keys(reader, item);
  context.reader.add(context.where, errors, warnings);
  return options;
}

}  // namespace

const InputPlugin kKafkaInput = {"kafka", kKafkaKeys, &parse_kafka_options, &make_kafka_input};

}  // namespace sw::daemon
