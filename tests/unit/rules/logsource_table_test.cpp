// The built-in logsource map is compiled in (agent/rules/logsource_table.cpp, generated from
// logsources.yaml by scripts/gen-logsource-table.py): it must say exactly what the YAML says.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "rules/compile.hpp"

namespace sw::embedded {
extern const std::string_view logsources_yaml;
}

namespace sw::rules {
namespace {

TEST(LogsourceMap, CompiledTableSaysWhatTheYamlSays) {
  LogsourceMap parsed;
  std::string error;
  ASSERT_TRUE(parsed.add_yaml(embedded::logsources_yaml, error)) << error;
  EXPECT_TRUE(parsed == LogsourceMap::builtin())
      << "agent/rules/logsources.yaml changed: run scripts/gen-logsource-table.py";
}

// The comparison sees one channel changed, one event id more, one field renamed otherwise.
TEST(LogsourceMap, ComparisonSeesEveryPartOfASource) {
  for (const char* change :
       {"windows:\n  services:\n    security: [{channel: Other}]\n",
        "windows:\n  categories:\n    file_change:\n"
        "      - {channel: Microsoft-Windows-Sysmon/Operational, event_ids: [2, 3]}\n",
        "windows:\n  categories:\n    registry_add:\n"
        "      - {channel: Microsoft-Windows-Sysmon/Operational, event_ids: [12],\n"
        "         conditions: {EventType: DeleteKey}}\n",
        "windows:\n  services:\n    windefend:\n"
        "      - {channel: Microsoft-Windows-Windows Defender/Operational,\n"
        "         fieldmap: {ThreatName: Threat Name}}\n"}) {
    LogsourceMap changed;
    std::string error;
    ASSERT_TRUE(changed.add_yaml(embedded::logsources_yaml, error)) << error;
    ASSERT_TRUE(changed.add_yaml(change, error)) << error;
    EXPECT_FALSE(changed == LogsourceMap::builtin()) << change;
  }
}

}  // namespace
}  // namespace sw::rules
