// The Sigma loader (detection and correlation rules, YAML with several documents): every problem
// comes back as a RuleProblem, never a crash; what loads can match events, and the correlation
// state it keeps survives its own snapshot.
#include "fuzz_util.hpp"
#include "sample_events.hpp"
#include "sessionwatch/rules.hpp"

namespace {

void check_problems(const sw::RuleLoadResult& result) {
  for (const sw::RuleProblem& p : result.problems) {
    sw::fuzz::require(!p.message.empty(), "rule problem without a message", sw::to_string(p));
    sw::fuzz::require(p.line >= 0 && p.column >= 0, "rule problem at a negative place",
                      sw::to_string(p));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<sw::Event> events = sw::fuzz::sample_events();
  sw::RuleLoadResult result = sw::RuleSet::load_text(sw::fuzz::as_view(data, size), "fuzz.yml");
  check_problems(result);
  sw::fuzz::require(result.rules != nullptr, "load_text returned no rule set");
  sw::RuleSet& rules = *result.rules;
  for (int round = 0; round < 2; ++round) {
    for (const sw::Event& e : events) rules.match(e, [](const sw::RuleMatch&) {});
  }
  (void)rules.interest();
  const std::string state = rules.snapshot();
  std::string error;
  sw::fuzz::require(rules.restore(state, error), "restore of its own snapshot failed", error);
  sw::fuzz::require(rules.snapshot() == state, "snapshot differs after restore", state);
  return 0;
}
