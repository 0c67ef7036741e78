// `|expand` placeholders reach the rules through the detector (the daemon passes
// `rules.placeholders` of its configuration): a rule naming `%admins%` matches the configured
// values and is refused, with the placeholder named, when none are configured.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/pipeline.hpp"

namespace sw {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRule = R"(title: Logon by a console administrator
id: 2a1e7d55-3c4b-4f0e-9f53-7a1d9b0c1e01
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4624
    TargetUserName|expand: '%admins%'
  condition: selection
level: medium
)";

constexpr const char* kLogon =
    R"({"@timestamp":"2026-11-02T08:00:00Z","winlog":{"channel":"Security","event_id":"4624",)"
    R"("record_id":"7","computer_name":"ws-1","provider_name":"Microsoft-Windows-Security-Auditing",)"
    R"("event_data":{"TargetUserName":"%s","TargetDomainName":"CONTOSO","LogonType":"2"}}})";

class Placeholders : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sw-placeholders-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "admins.yml") << kRule;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::size_t alerts_for(Detector& detector, const std::string& user) {
    std::string line = kLogon;
    line.replace(line.find("%s"), 2, user);
    JsonLineDecoder decoder;
    Event e;
    std::string error;
    EXPECT_TRUE(decoder.decode(line, e, error)) << error;
    std::size_t n = 0;
    detector.process(e, [&](Alert&& a) {
      if (alert_to_json(a)["rule"].value("name", "") == "Logon by a console administrator") ++n;
    });
    detector.flush([&](Alert&& a) {
      if (alert_to_json(a)["rule"].value("name", "") == "Logon by a console administrator") ++n;
    });
    return n;
  }

  fs::path dir_;
};

TEST_F(Placeholders, ConfiguredValuesAreMatched) {
  DetectorOptions options;
  options.rule_paths = {dir_.string()};
  options.placeholders["admins"] = {"alice", "bob"};
  std::vector<std::string> problems;
  auto detector = Detector::create(options, problems);
  ASSERT_TRUE(detector) << (problems.empty() ? "" : problems.front());
  EXPECT_EQ(alerts_for(*detector, "bob"), 1U);
  EXPECT_EQ(alerts_for(*detector, "mallory"), 0U);
}

TEST_F(Placeholders, AnUnconfiguredPlaceholderIsNamed) {
  DetectorOptions options;
  options.rule_paths = {dir_.string()};
  std::vector<std::string> problems;
  EXPECT_FALSE(Detector::create(options, problems));
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.front().find("admins"), std::string::npos) << problems.front();
}

}  // namespace
}  // namespace sw
