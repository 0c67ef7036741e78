// Conformance with the Sigma specification's own examples (tests/data/sigma-spec, copied from
// SigmaHQ/sigma-specification): every correlation type and the filter example load and behave
// as the specification describes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sessionwatch/rules.hpp"

namespace sw {
namespace {

namespace fs = std::filesystem;

const fs::path kSpec = fs::path(SW_TEST_DATA_DIR) / "sigma-spec";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A detection rule for the names and ids the examples refer to.
std::string stub(const std::string& name, const std::string& id) {
  return "title: stub " + name + "\nid: " + id + "\nname: " + name +
         "\nlogsource: {product: windows, service: security}\n"
         "detection:\n  sel: {EventID: 4625}\n  condition: sel\n";
}

TEST(SpecExamples, EveryCorrelationExampleLoads) {
  std::vector<std::pair<std::string, std::string>> texts;
  for (const char* name : {"website_access", "process_creation", "rule_a_id", "recon_cmd_a",
                           "recon_cmd_b", "recon_cmd_c"}) {
    texts.emplace_back(std::string("stub_") + name, stub(name, std::string("stub-") + name));
  }
  texts.emplace_back("stub_id", stub("by_id", "5638f7c0-ac70-491d-8465-2a65075e0d86"));
  std::size_t examples = 0;
  for (const auto& entry : fs::directory_iterator(kSpec / "correlation")) {
    auto one = texts;
    one.emplace_back(entry.path().filename().string(), slurp(entry.path()));
    const RuleLoadResult r = RuleSet::load_texts(one);
    for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
    EXPECT_EQ(r.rules->stats().correlation_rules, 1u) << entry.path();
    ++examples;
  }
  EXPECT_EQ(examples, 8u);  // event_count (2), value_count, value_sum, value_avg,
                            // value_percentile, temporal, temporal_ordered
}

TEST(SpecExamples, RuleExamplesLoadOrNameWhatIsUnsupported) {
  const RuleLoadResult windows = RuleSet::load({(kSpec / "rules" / "rule_1.yml").string()});
  for (const RuleProblem& p : windows.problems) ADD_FAILURE() << to_string(p);
  EXPECT_EQ(windows.loaded, 1u);
  // The ECS example reads `category: network, service: dns`, a logsource no Windows channel has.
  const RuleLoadResult ecs = RuleSet::load({(kSpec / "rules" / "rule_ecs.yml").string()});
  ASSERT_EQ(ecs.problems.size(), 1u);
  EXPECT_TRUE(ecs.problems[0].unsupported()) << to_string(ecs.problems[0]);
}

Event process(std::string_view user) {
  Event e;
  e.set_channel("Microsoft-Windows-Sysmon/Operational");
  e.event_id = 1;
  e.set_computer("ws1");
  e.add_field("User", user);
  e.add_field("Image", "C:\\Program Files\\WinRAR\\rar.exe");
  return e;
}

std::string process_rule(const std::string& id) {
  return "title: rule " + id + "\nid: " + id +
         "\nlogsource: {product: windows, category: process_creation}\n"
         "detection:\n  sel: {Image|endswith: '\\rar.exe'}\n  condition: sel\n";
}

std::vector<std::string> fired(RuleSet& rs, const Event& e) {
  std::vector<std::string> ids;
  rs.match(e, [&](const RuleMatch& m) { ids.push_back(m.rule.id); });
  std::sort(ids.begin(), ids.end());
  return ids;
}

// filter_1.yml names two rules: for them, events of `adm_` users no longer fire; a rule it does
// not name still fires, and other users still fire all three.
TEST(SpecExamples, FilterSuppressesTheRulesItNames) {
  const std::string named_a = "6f3e2987-db24-4c78-a860-b4f4095a7095";
  const std::string named_b = "df0841c0-9846-4e9f-ad8a-7df91571771b";
  const RuleLoadResult r =
      RuleSet::load_texts({{"a.yml", process_rule(named_a)},
                           {"b.yml", process_rule(named_b)},
                           {"other.yml", process_rule("other")},
                           {"filter_1.yml", slurp(kSpec / "filter" / "filter_1.yml")}});
  for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
  EXPECT_EQ(r.loaded, 4u);
  EXPECT_EQ(fired(*r.rules, process("adm_alice")), std::vector<std::string>{"other"});
  EXPECT_EQ(fired(*r.rules, process("bob")), (std::vector<std::string>{named_a, named_b, "other"}));
}

// Without `rules`, a filter applies to every rule its logsource covers; a filter for another
// logsource leaves the rule alone.
TEST(SpecExamples, FilterWithoutRulesAppliesByLogsource) {
  const std::string by_logsource =
      "title: quiet admins\nlogsource: {product: windows, category: process_creation}\n"
      "filter:\n  selection: {User|startswith: adm_}\n  condition: selection\n";
  const std::string elsewhere =
      "title: dns only\nlogsource: {category: network, service: dns}\n"
      "filter:\n  selection: {User: bob}\n  condition: selection\n";
  const RuleLoadResult r = RuleSet::load_texts(
      {{"r.yml", process_rule("r")}, {"f1.yml", by_logsource}, {"f2.yml", elsewhere}});
  for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
  EXPECT_TRUE(fired(*r.rules, process("adm_x")).empty());
  EXPECT_EQ(fired(*r.rules, process("bob")), std::vector<std::string>{"r"});
}

TEST(SpecExamples, BrokenFilterIsReportedWithItsPlace) {
  const RuleLoadResult r = RuleSet::load_text(
      "title: broken\nlogsource: {product: windows}\nfilter:\n  rules: [x]\n"
      "  selection: {User|nosuch: a}\n  condition: selection and\n",
      "f.yml");
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_EQ(to_string(r.problems[0]), "f.yml:5:15: [broken] unknown modifier 'nosuch'");
  EXPECT_EQ(r.problems[1].line, 6);
}

}  // namespace
}  // namespace sw
