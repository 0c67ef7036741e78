// position_of: yaml-cpp's 0-based marks as the 1-based line:column every message prints.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "sessionwatch/yaml_guard.hpp"

namespace sw::yaml {
namespace {

TEST(YamlPosition, OneBasedFromAParsedNode) {
  const YAML::Node root = YAML::Load("a: 1\nb:\n  c: x\n");
  const Position p = position_of(root["b"]["c"].Mark());
  EXPECT_EQ(p.line, 3);
  EXPECT_EQ(p.column, 6);
}

TEST(YamlPosition, NullMarkIsZero) {
  const Position p = position_of(YAML::Mark::null_mark());
  EXPECT_EQ(p.line, 0);
  EXPECT_EQ(p.column, 0);
}

}  // namespace
}  // namespace sw::yaml
