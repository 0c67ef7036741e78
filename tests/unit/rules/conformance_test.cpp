// Conformance with the real Sigma corpus in SW_SHARED_DIR (skipped when it is absent):
// every rule compiles or is rejected as unsupported, and every regression EVTX fires its rule.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/evtx_native.hpp"
#include "sessionwatch/rules.hpp"

namespace sw {
namespace {

namespace fs = std::filesystem;

std::string corpus(const std::string& rel) {
  return std::string(SW_SHARED_DIR) + "/corpus/" + rel;
}

struct Tally {
  std::size_t loaded = 0, unsupported = 0, broken = 0;
  std::map<std::string, int> reasons;
};

Tally load_corpus(const std::vector<std::string>& dirs, std::vector<RuleProblem>& broken) {
  Tally t;
  RuleLoadResult r = RuleSet::load(dirs);
  t.loaded = r.loaded;
  for (const RuleProblem& p : r.problems) {
    if (p.unsupported()) {
      ++t.unsupported;
      ++t.reasons[p.message.substr(0, p.message.find(" '"))];
    } else {
      ++t.broken;
      broken.push_back(p);
    }
  }
  return t;
}

TEST(Conformance, EveryWindowsRuleCompiles) {
  if (!fs::exists(corpus("sigma/rules"))) GTEST_SKIP() << "Sigma corpus not found in SW_SHARED_DIR";
  std::vector<RuleProblem> broken;
  const Tally windows = load_corpus({corpus("sigma/rules/windows")}, broken);
  for (const RuleProblem& p : broken) ADD_FAILURE() << to_string(p);
  RuleLoadResult again = RuleSet::load({corpus("sigma/rules/windows")});
  for (const RuleProblem& p : again.problems) ADD_FAILURE() << "not compiled: " << to_string(p);
  EXPECT_GT(windows.loaded, 500u);
  std::cout << "[ sigma/rules/windows ] compiled " << windows.loaded << ", unsupported "
            << windows.unsupported << ", broken " << windows.broken << "\n";
}

TEST(Conformance, WholeCorpusCompilesOrIsNamedUnsupported) {
  if (!fs::exists(corpus("sigma/rules"))) GTEST_SKIP() << "Sigma corpus not found in SW_SHARED_DIR";
  std::vector<RuleProblem> broken;
  RuleOptions none;
  const Tally sigma =
      load_corpus({corpus("sigma/rules"), corpus("sigma/rules-emerging-threats"),
                   corpus("sigma/rules-threat-hunting"), corpus("sigma/rules-placeholder")},
                  broken);
  for (const RuleProblem& p : broken) ADD_FAILURE() << "broken, not unsupported: " << to_string(p);
  std::cout << "[ sigma ] compiled " << sigma.loaded << ", unsupported " << sigma.unsupported
            << "\n";
  for (const auto& [reason, n] : sigma.reasons) std::cout << "    " << n << " x " << reason << "\n";
  // The placeholder rules compile once their placeholders are configured.
  RuleOptions with;
  for (const char* name : {"Admins_Workstations", "DC-MACHINE-NAME", "Workstations", "Servers",
                           "Domain_Controllers", "Admins", "Service_Accounts"})
    with.placeholders[name] = {"X"};
  RuleLoadResult placeholders = RuleSet::load({corpus("sigma/rules-placeholder")}, with);
  for (const RuleProblem& p : placeholders.problems) {
    EXPECT_NE(p.message.find("placeholder"), std::string::npos) << to_string(p);
  }
  if (fs::exists(corpus("hayabusa-rules"))) {
    std::vector<RuleProblem> hb_broken;
    const Tally hb = load_corpus({corpus("hayabusa-rules/hayabusa")}, hb_broken);
    std::cout << "[ hayabusa ] compiled " << hb.loaded << ", unsupported " << hb.unsupported
              << ", other problems " << hb.broken << "\n";
    for (const auto& [reason, n] : hb.reasons) std::cout << "    " << n << " x " << reason << "\n";
    EXPECT_GT(hb.loaded, 0u);
  }
}

TEST(Conformance, HayabusaCorrelationsLoad) {
  const std::string dir = corpus("hayabusa-rules/hayabusa/builtin/Security/LogonLogoff/Logon");
  if (!fs::exists(dir)) GTEST_SKIP() << "hayabusa corpus not found in SW_SHARED_DIR";
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.find("Correlation.yml") == std::string::npos) continue;
    RuleLoadResult r = RuleSet::load({entry.path().string()});
    for (const RuleProblem& p : r.problems) ADD_FAILURE() << to_string(p);
    EXPECT_EQ(r.rules->stats().correlation_rules, 1u) << name;
  }
}

class CountingSink : public EventSink {
 public:
  explicit CountingSink(RuleSet& rs, std::string id)
      : rules_(rs), id_(std::move(id)), interest_(rs.interest()) {}
  void on_event(Event& e) override {
    rules_.match(e, [&](const RuleMatch& m) {
      if (m.rule.id != id_) return;
      ++hits;
      // What the rules say they need is what a filtering source (the Windows Event Log query)
      // keeps: an event that fires a rule must be in it.
      if (!interest_.accepts(e.channel(), e.event_id)) {
        outside_interest.push_back(std::string(e.channel()) + " " + std::to_string(e.event_id));
      }
    });
  }
  void on_error(const DecodeError&) override { ++errors; }
  std::size_t hits = 0, errors = 0;
  std::vector<std::string> outside_interest;

 private:
  RuleSet& rules_;
  std::string id_;
  EventInterest interest_;
};

TEST(Conformance, RegressionEvtxFiresItsRule) {
  const std::string index_path = corpus("sigma/regression_index.json");
  if (!fs::exists(index_path)) GTEST_SKIP() << "Sigma regression data not found in SW_SHARED_DIR";
  std::ifstream in(index_path);
  const nlohmann::json index = nlohmann::json::parse(in);
  std::size_t passed = 0, failed = 0;
  for (const nlohmann::json& entry : index) {
    const std::string rule_path = corpus("sigma/" + entry.at("rule").get<std::string>());
    const std::string evtx = corpus("sigma/" + entry.at("evtx").get<std::string>());
    const std::string id = entry.at("rule_id").get<std::string>();
    const std::size_t want =
        entry.at("match_count").is_null() ? 1 : entry.at("match_count").get<std::size_t>();
    RuleLoadResult r = RuleSet::load({rule_path});
    std::string error;
    // The portable parser: the same events on every platform (wine has no EvtQuery).
    auto reader = open_native_evtx(evtx, error);
    if (!r.ok() || !reader) {
      ++failed;
      ADD_FAILURE() << entry.at("rule").get<std::string>() << ": "
                    << (r.ok() ? error : to_string(r.problems[0]));
      continue;
    }
    CountingSink sink(*r.rules, id);
    reader->read(sink);
    EXPECT_TRUE(sink.outside_interest.empty())
        << entry.at("rule").get<std::string>() << " fired on events its interest ("
        << r.rules->interest().describe() << ") leaves out, first: " << sink.outside_interest[0];
    if (sink.hits >= want) {
      ++passed;
    } else {
      ++failed;
      ADD_FAILURE() << entry.at("rule").get<std::string>() << ": fired " << sink.hits
                    << " times, want >= " << want;
    }
  }
  std::cout << "[ regression ] " << passed << " of " << index.size() << " pass\n";
}

}  // namespace
}  // namespace sw
