// The Sigma condition parser: the input is the `condition` of a rule whose selections exist
// (sel1, sel2, filter_x, keywords), so every mutation reaches the parser, and what compiles is
// matched against events.
#include <nlohmann/json.hpp>

#include "fuzz_util.hpp"
#include "sample_events.hpp"
#include "sessionwatch/rules.hpp"

namespace {

constexpr std::string_view kRuleHead = R"(title: fuzzed condition
id: 00000000-0000-4000-8000-000000000001
logsource:
  product: windows
detection:
  sel1:
    EventID: 4625
    Status|startswith: '0xc000'
  sel2:
    TargetUserName|contains:
      - bob
      - alice
  filter_x:
    LogonType: 3
  keywords:
    - console
  condition: )";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<sw::Event> events = sw::fuzz::sample_events();
  // A JSON string is a YAML double-quoted scalar: any input stays one condition.
  const std::string condition = nlohmann::json(std::string(sw::fuzz::as_view(data, size)))
                                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string yaml = std::string(kRuleHead) + condition + "\n";
  sw::RuleLoadResult result = sw::RuleSet::load_text(yaml, "condition.yml");
  sw::fuzz::require(result.rules != nullptr, "load_text returned no rule set");
  sw::fuzz::require(result.loaded + result.rejected == 1, "one rule, neither loaded nor rejected",
                    yaml);
  for (const sw::RuleProblem& p : result.problems) {
    sw::fuzz::require(!p.message.empty(), "rule problem without a message", yaml);
  }
  for (const sw::Event& e : events) result.rules->match(e, [](const sw::RuleMatch&) {});
  return 0;
}
