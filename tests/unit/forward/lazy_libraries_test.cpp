// OpenSSL is opened by the first TLS context, librelp and librdkafka when a RELP or Kafka output
// is made, not at start: linked, they and the fourteen libraries they need were mapped (and
// OpenSSL's 4,000 symbols bound) at every start of every command. Its own executable, so that no
// other test has made such an output before the first check.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <yaml-cpp/yaml.h>

#include "forward/outputs/http/http_output.hpp"
#include "forward/outputs/kafka/kafka_output.hpp"
#include "forward/outputs/relp/relp_output.hpp"
#include "forward/outputs/syslog/syslog_output.hpp"
#include "platform/openssl_on_demand.hpp"
#include "sessionwatch/forward.hpp"

namespace sw::forward {
namespace {

bool mapped(const std::string& library) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find(library) != std::string::npos) return true;
  }
  return false;
}

OutputConfig parse(const std::string& yaml) {
  std::vector<ConfigError> errors;
  YAML::Node root = YAML::Load(yaml);
  auto config = parse_output_config(root["outputs"][0], {"/var/lib/sessionwatch", "/etc/sw"},
                                    errors, nullptr);
  if (!config) throw std::runtime_error("config refused: " + errors.front().message);
  return *config;
}

// Each library is mapped by the first output that needs it, which then works through it. One
// test, in this order: librelp and librdkafka need OpenSSL too.
TEST(LazyLibraries, EachIsMappedOnlyOnceAnOutputNeedsIt) {
  if (!std::filesystem::exists("/proc/self/maps")) GTEST_SKIP() << "no /proc/self/maps";
  EXPECT_FALSE(mapped("libssl.so")) << "linked: its symbols bound at every start";
  EXPECT_FALSE(mapped("libcrypto.so")) << "linked: its symbols bound at every start";
  // A plain-TCP syslog output and an http:// one without a login call no OpenSSL function.
  std::string tcp_error;
  ASSERT_TRUE(detail::make_syslog_output(
      parse("outputs:\n  - type: syslog\n    url: tcp://127.0.0.1:1\n"), tcp_error))
      << tcp_error;
  ASSERT_TRUE(detail::make_http_output(
      parse("outputs:\n  - type: http\n    url: http://127.0.0.1:1/\n"), tcp_error))
      << tcp_error;
  EXPECT_FALSE(mapped("libssl.so"));
  // A TLS output's context is made through the opened library, verification settings and all.
  std::string tls_error;
  ASSERT_TRUE(detail::make_syslog_output(
      parse("outputs:\n  - type: syslog\n    url: tls://127.0.0.1:1\n"), tls_error))
      << tls_error;
  EXPECT_TRUE(mapped("libssl.so.3"));
  EXPECT_TRUE(mapped("libcrypto.so.3"));
  EXPECT_TRUE(platform::openssl_ready(tls_error)) << tls_error;
  EXPECT_FALSE(mapped("librelp.so")) << "linked: mapped and relocated at every start";
  EXPECT_FALSE(mapped("librdkafka.so")) << "linked: mapped and relocated at every start";
#if defined(SW_HAVE_RELP)
  std::string error;
  auto relp = detail::make_relp_output(
      parse("outputs:\n  - type: relp\n    url: relp://127.0.0.1:1\n"), error);
  ASSERT_TRUE(relp) << error;
  EXPECT_EQ(relp->init(), "");  // librelp's engine, made through the opened library
  EXPECT_TRUE(mapped("librelp.so"));
#endif
#if defined(SW_HAVE_KAFKA)
  std::string kafka_error;
  auto kafka = detail::make_kafka_output(
      parse("outputs:\n  - type: kafka\n    brokers: 127.0.0.1:1\n    topic: alerts\n"),
      kafka_error);
  ASSERT_TRUE(kafka) << kafka_error;
  EXPECT_EQ(kafka->init(), "");  // a producer, made through the opened library
  EXPECT_TRUE(mapped("librdkafka.so"));
  kafka->exit();
#endif
}

}  // namespace
}  // namespace sw::forward
