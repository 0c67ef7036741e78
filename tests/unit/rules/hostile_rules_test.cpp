// Rule files an attacker may write: each one is refused with its place, none crashes or hangs.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "sessionwatch/rules.hpp"

namespace sw {
namespace {

std::string rule_with_condition(const std::string& condition) {
  return "title: hostile\nlogsource: {product: windows, service: security}\n"
         "detection:\n  selection: {EventID: 4625}\n  condition: " +
         condition + "\n";
}

// The one problem `yaml` gives, which must refuse the rule.
RuleProblem only_problem(const std::string& yaml) {
  RuleLoadResult r = RuleSet::load_text(yaml, "hostile.yml");
  EXPECT_EQ(r.loaded, 0U);
  EXPECT_EQ(r.problems.size(), 1U);
  return r.problems.empty() ? RuleProblem{} : r.problems[0];
}

TEST(HostileRules, TenThousandNestedParenthesesAreRefusedWithTheirPlace) {
  const std::string condition = std::string(10'000, '(') + "selection" + std::string(10'000, ')');
  const RuleProblem p = only_problem(rule_with_condition(condition));
  EXPECT_NE(p.message.find("nested deeper than 64"), std::string::npos) << p.message;
  EXPECT_EQ(p.line, 5);
  EXPECT_EQ(p.column, 14 + 64);  // the 65th '('
}

TEST(HostileRules, FortyThousandNotsAreRefused) {
  std::string condition;
  for (int i = 0; i < 40'000; ++i) condition += "not ";
  const RuleProblem p = only_problem(rule_with_condition(condition + "selection"));
  EXPECT_NE(p.message.find("nested deeper than 64"), std::string::npos) << p.message;
  EXPECT_EQ(p.line, 5);
}

TEST(HostileRules, NestingRealRulesUseStillLoads) {
  const std::string condition = std::string(20, '(') + "not not selection" + std::string(20, ')');
  RuleLoadResult r = RuleSet::load_text(rule_with_condition(condition), "deep.yml");
  EXPECT_TRUE(r.problems.empty()) << r.problems[0].message;
  EXPECT_EQ(r.loaded, 1U);
}

// yaml-cpp 0.7's LoadAll repeats a document that consumes no token forever (jbeder/yaml-cpp#1040):
// before the guard these four bytes took gigabytes within seconds. The last is YAML that libyaml
// reads whole (an anchored scalar), which yaml-cpp splits into a document that never ends: a
// fuzzer found it in seconds when a libyaml pass was tried in place of yaml-cpp's own guard.
TEST(HostileRules, YamlThatNeverEndsInYamlCppIsRefusedAtOnce) {
  for (const std::string yaml :
       {"!, a", ",?1", ",", "title: x\n---\n, a", "!t\n&a:%YAM,L 1.2 6b\"Sta"}) {
    const auto start = std::chrono::steady_clock::now();
    RuleLoadResult r = RuleSet::load_text(yaml, "tiny.yml");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << yaml;
    ASSERT_FALSE(r.problems.empty()) << yaml;
    EXPECT_NE(r.problems.back().message.find("YAML syntax"), std::string::npos)
        << yaml << ": " << r.problems.back().message;
    EXPECT_GT(r.problems.back().line, 0) << yaml;
  }
}

TEST(HostileRules, DeepYamlNestingIsRefusedBeforeYamlCppRecurses) {
  const std::string yaml =
      "title: x\ndetection:\n  selection: " + std::string(100'000, '[') + std::string(100'000, ']');
  const RuleProblem p = only_problem(yaml);
  EXPECT_NE(p.message.find("YAML nested deeper than 64 levels"), std::string::npos) << p.message;
  EXPECT_EQ(p.line, 3);
}

TEST(HostileRules, OversizedRuleFileIsRefusedUnread) {
  const auto dir = std::filesystem::temp_directory_path() / "sw-hostile-rules";
  std::filesystem::create_directories(dir);
  const auto file = dir / "big.yml";
  {
    std::ofstream out(file, std::ios::binary);
    out << rule_with_condition("selection");
    out << "description: '" << std::string(2 << 20, 'x') << "'\n";
  }
  RuleLoadResult r = RuleSet::load({file.string()});
  ASSERT_EQ(r.problems.size(), 1U);
  EXPECT_EQ(r.problems[0].file, file.string());
  EXPECT_NE(r.problems[0].message.find("larger than 1048576 bytes"), std::string::npos)
      << r.problems[0].message;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sw
