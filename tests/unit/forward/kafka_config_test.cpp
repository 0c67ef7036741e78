// The kafka output's keys, and the message key it reads back from each format.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <yaml-cpp/yaml.h>

#include "forward/outputs/kafka/kafka_output.hpp"
#include "sessionwatch/forward.hpp"

namespace sw::forward {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::optional<OutputConfig> parse(const std::string& yaml, std::vector<ConfigError>& errors,
                                  std::vector<ConfigError>* warnings = nullptr) {
  YAML::Node root = YAML::Load(yaml);
  return parse_output_config(root["outputs"][0], {"/var/lib/sessionwatch", "/etc/sessionwatch"},
                             errors, warnings);
}

#ifdef SW_HAVE_KAFKA

std::vector<std::string> keys_of(const std::vector<ConfigError>& errors) {
  std::vector<std::string> keys;
  for (const ConfigError& e : errors) keys.push_back(e.key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

const detail::KafkaOptions& kafka(const std::optional<OutputConfig>& c) {
  std::string error;
  const auto* o = detail::options_of<detail::KafkaOptions>(*c, error);
  if (!o) throw std::runtime_error(error);
  return *o;
}

TEST(KafkaConfig, FullEntry) {
  std::vector<ConfigError> errors;
  auto c = parse(R"(outputs:
  - type: kafka
    brokers: [kafka1.example:9092, "[2001:db8::1]:9093"]
    topic: sessionwatch.alerts-v1
    compression: zstd
    client_id: relay-7
    delivery_timeout: 45s
    sasl: {mechanism: SCRAM-SHA-512, username: relay, password_env: SW_KAFKA_PASSWORD}
    tls: {verify: true}
)",
                 errors);
  ASSERT_TRUE(c) << (errors.empty() ? "" : errors[0].message);
  EXPECT_EQ(c->format.format, Format::kJson);  // ECS JSON unless told otherwise
  const auto& k = kafka(c);
  EXPECT_EQ(k.brokers, (std::vector<std::string>{"kafka1.example:9092", "[2001:db8::1]:9093"}));
  EXPECT_EQ(k.topic, "sessionwatch.alerts-v1");
  EXPECT_EQ(k.compression, detail::KafkaCompression::kZstd);
  EXPECT_EQ(k.client_id, "relay-7");
  EXPECT_EQ(k.delivery_timeout, 45s);
  EXPECT_EQ(k.sasl.mechanism, "SCRAM-SHA-512");
  EXPECT_EQ(k.sasl.password_env, "SW_KAFKA_PASSWORD");
  EXPECT_TRUE(k.tls_enabled);
  EXPECT_EQ(c->name, "kafka-kafka1_example_9092_sessionwatch_alerts_v1");
}

TEST(KafkaConfig, OneBrokerAndDefaults) {
  std::vector<ConfigError> errors;
  auto c = parse("outputs:\n  - type: kafka\n    brokers: k:9092\n    topic: alerts\n", errors);
  ASSERT_TRUE(c) << (errors.empty() ? "" : errors[0].message);
  const auto& k = kafka(c);
  EXPECT_EQ(k.brokers, std::vector<std::string>{"k:9092"});
  EXPECT_EQ(k.compression, detail::KafkaCompression::kNone);
  EXPECT_EQ(k.delivery_timeout, 30s);
  EXPECT_FALSE(k.tls_enabled);
  EXPECT_TRUE(k.sasl.mechanism.empty());
}

TEST(KafkaConfig, UnknownKeyIsRefusedWithItsLineAndColumn) {
  std::vector<ConfigError> errors;
  EXPECT_FALSE(parse(R"(outputs:
  - type: kafka
    brokers: [k:9092]
    topic: alerts
    url: tcp://k:9092
    sasl: {mechanism: PLAIN, username: u, password_env: P, token: x}
)",
                     errors));
  ASSERT_EQ(errors.size(), 2U);
  EXPECT_EQ(errors[0].key, "url");
  EXPECT_NE(errors[0].message.find("unknown key in a kafka output"), std::string::npos)
      << errors[0].message;
  EXPECT_EQ(errors[0].line, 5);
  EXPECT_EQ(errors[0].column, 5);
  EXPECT_EQ(errors[1].key, "sasl.token");
  EXPECT_EQ(errors[1].line, 6);
}

TEST(KafkaConfig, EveryProblemAtOnceWithItsKey) {
  std::vector<ConfigError> errors;
  EXPECT_FALSE(parse(R"(outputs:
  - type: kafka
    brokers: [k:9092, nohostport, "k:notaport"]
    topic: "alerts/today"
    compression: brotli
    delivery_timeout: 0
    tls: {server_name: kafka.example}
    sasl: {mechanism: GSSAPI, password_file: p.txt, password_env: P}
)",
                     errors));
  EXPECT_EQ(keys_of(errors),
            (std::vector<std::string>{"brokers[2]", "brokers[3]", "compression", "delivery_timeout",
                                      "sasl", "sasl.mechanism", "sasl.username", "tls.server_name",
                                      "topic"}));
  for (const ConfigError& e : errors) EXPECT_GT(e.line, 0) << e.key;
}

TEST(KafkaConfig, BrokersAndTopicAreRequired) {
  std::vector<ConfigError> errors;
  EXPECT_FALSE(parse("outputs:\n  - type: kafka\n", errors));
  EXPECT_EQ(keys_of(errors), (std::vector<std::string>{"brokers", "topic"}));
}

TEST(KafkaConfig, PlainSaslWithoutTlsIsWarned) {
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;
  auto c = parse(R"(outputs:
  - type: kafka
    brokers: k:9092
    topic: alerts
    sasl: {mechanism: PLAIN, username: u, password_env: P}
)",
                 errors, &warnings);
  ASSERT_TRUE(c);
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_NE(warnings[0].message.find("in clear"), std::string::npos);
}

// The password comes from the file or the environment when the output is made; a missing one
// is an error naming where it was looked for, and the password itself appears in no message.
TEST(KafkaConfig, PasswordFromFileOrEnvironmentNeverInAMessage) {
  const fs::path dir = fs::temp_directory_path() / ("sw_kafka_pw_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "pw.txt") << "s3cr3t-kafka\n";
  std::vector<ConfigError> errors;
  auto c = parse(
      "outputs:\n  - type: kafka\n    brokers: k:9092\n    topic: alerts\n"
      "    sasl: {mechanism: SCRAM-SHA-256, username: u, password_file: " +
          (dir / "pw.txt").string() + "}\n",
      errors);
  ASSERT_TRUE(c);
  std::string error;
  EXPECT_NE(detail::make_kafka_output(*c, error), nullptr) << error;

  ::unsetenv("SW_TEST_KAFKA_PW");
  errors.clear();
  auto from_env = parse(
      "outputs:\n  - type: kafka\n    brokers: k:9092\n    topic: alerts\n"
      "    sasl: {mechanism: PLAIN, username: u, password_env: SW_TEST_KAFKA_PW}\n",
      errors);
  ASSERT_TRUE(from_env);
  error.clear();
  EXPECT_EQ(detail::make_kafka_output(*from_env, error), nullptr);
  EXPECT_NE(error.find("SW_TEST_KAFKA_PW is not set"), std::string::npos) << error;
  ::setenv("SW_TEST_KAFKA_PW", "s3cr3t-kafka", 1);
  error.clear();
  EXPECT_NE(detail::make_kafka_output(*from_env, error), nullptr) << error;
  EXPECT_EQ(error.find("s3cr3t"), std::string::npos);
  ::unsetenv("SW_TEST_KAFKA_PW");
  fs::remove_all(dir);
}

#else  // a build without librdkafka

TEST(KafkaConfig, RefusedInABuildWithoutKafka) {
  std::vector<ConfigError> errors;
  EXPECT_FALSE(
      parse("outputs:\n  - type: kafka\n    brokers: k:9092\n    topic: alerts\n", errors));
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_EQ(errors[0].key, "type");
  EXPECT_NE(errors[0].message.find("this build has no Kafka support"), std::string::npos);
}

#endif

// The key each format carries is the alert's computer, whatever else the record holds: a rule
// name that looks like a key, a message with '=' and quotes.
TEST(KafkaKey, EveryFormatGivesTheAlertsComputer) {
  Alert alert;
  alert.id = "0123456789abcdef0123456789abcdef";
  alert.rule_id = "6d0f3e3a-8d4b-4a57-9a0e-7063aaaa0001";
  alert.rule_name = "a \"rule\" host=\"evil\" dvchost=evil ] x";
  alert.host = "WS-17.contoso.local";
  alert.message = "console held: dvchost=evil host=\"evil\"";
  for (Format f : {Format::kJson, Format::kRfc5424, Format::kRfc3164, Format::kCef}) {
    FormatOptions options;
    options.format = f;
    options.hostname = "relay-01";  // the syslog header's HOSTNAME is the relay, not the key
    std::string record;
    format_alert(alert, options, record);
    EXPECT_EQ(detail::computer_of(record, f), alert.host) << to_string(f) << ": " << record;
  }
}

TEST(KafkaKey, ARecordWithoutAComputerHasNoKey) {
  EXPECT_EQ(detail::computer_of("{\"rule\":{\"id\":\"x\"}}", Format::kJson), "");
  EXPECT_EQ(detail::computer_of("not json", Format::kJson), "");
  EXPECT_EQ(detail::computer_of("CEF:0|a|b|c|d|e|5|rt=1", Format::kCef), "");
  EXPECT_EQ(detail::computer_of("<13>1 - - - - - - {}", Format::kRfc5424), "");
}

}  // namespace
}  // namespace sw::forward
