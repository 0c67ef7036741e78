// The Kafka input's keys: typed into KafkaInputOptions by its own parser, every problem reported
// with the key and its line, unknown keys refused.
#include <gtest/gtest.h>

#include "daemon/inputs/kafka/kafka_config.hpp"
#include "sessionwatch/config.hpp"

namespace sw::daemon {
namespace {

ConfigResult parse(const std::string& input_keys) {
  return parse_config("inputs:\n  - type: kafka\n" + input_keys + "outputs:\n  - type: stdout\n",
                      "/etc/sw/sw.yaml");
}

std::string all_errors(const ConfigResult& r) {
  std::string text;
  for (const ConfigError& e : r.errors) text += to_string(e) + "\n";
  return text;
}

TEST(KafkaConfig, KeysAreTyped) {
  const ConfigResult r = parse(
      "    brokers: [\"k1:9092\", \"k2:9092\"]\n    group_id: relays\n    topics: winlogbeat\n"
      "    start: latest\n    handover_dir: handover\n    revoke_timeout: 5s\n"
      "    librdkafka:\n      fetch.max.bytes: 1048576\n");
  ASSERT_TRUE(r.config) << all_errors(r);
  const InputConfig& input = r.config->inputs.at(0);
  EXPECT_EQ(input.type, "kafka");
  EXPECT_EQ(input.name, "kafka-1");
  std::string error;
  const KafkaInputOptions* options = options_of<KafkaInputOptions>(input, error);
  ASSERT_TRUE(options) << error;
  const KafkaInputOptions& k = *options;
  EXPECT_EQ(k.brokers, (std::vector<std::string>{"k1:9092", "k2:9092"}));
  EXPECT_EQ(k.group_id, "relays");
  EXPECT_EQ(k.topics, std::vector<std::string>{"winlogbeat"});
  EXPECT_FALSE(k.start_at_earliest);
  EXPECT_EQ(k.handover_dir, "/etc/sw/handover") << "relative to the config file's folder";
  EXPECT_EQ(k.revoke_timeout, std::chrono::seconds(5));
  EXPECT_EQ(k.properties.at("fetch.max.bytes"), "1048576");
  EXPECT_FALSE(input.yaml.empty()) << "a reload compares the input by its keys";
}

TEST(KafkaConfig, ProblemsNameTheKeyAndLine) {
  const ConfigResult r = parse(
      "    brokers: k1:9092\n    grup_id: relays\n    topics: [winlogbeat]\n"
      "    start: oldest\n    sasl:\n      mechanism: GSSAPI\n      username: relay\n");
  ASSERT_FALSE(r.config);
  const std::string text = all_errors(r);
  EXPECT_NE(text.find("sw.yaml:4:5: inputs[1].grup_id: unknown key"), std::string::npos) << text;
  EXPECT_NE(text.find("inputs[1].group_id: is required"), std::string::npos) << text;
  EXPECT_NE(text.find("sw.yaml:6:12: inputs[1].start: must be earliest or latest"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sasl.mechanism: must be PLAIN"), std::string::npos) << text;
  EXPECT_NE(text.find("a password (or password_file) is required"), std::string::npos) << text;
}

}  // namespace
}  // namespace sw::daemon
