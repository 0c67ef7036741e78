#include <gtest/gtest.h>

#include <string>

#include "daemon/engine/checkpoints.hpp"

namespace sw::daemon {
namespace {

// A part as large as a computer's session state: far beyond the small-string buffer, so a copy
// would allocate a buffer of its own.
StateParts one_large_part() {
  StateParts parts;
  parts.push_back({"session/host/ws-01", std::string(64 * 1024, 'x')});
  return parts;
}

TEST(EngineCheckpoints, FullStateHoldsThePositionsAndEveryPart) {
  AgentState positions;
  positions.streams["win"]["dev:ino"] = R"({"offset":42})";
  positions.saved_at = 7;
  StateParts parts = one_large_part();
  parts.push_back({"rules/group/1", std::string("{}")});
  const AgentState full = full_state(positions, parts, false);
  EXPECT_EQ(full.streams, positions.streams);
  EXPECT_EQ(full.saved_at, 7);
  ASSERT_EQ(full.parts.size(), 2u);
  EXPECT_EQ(full.parts.at("session/host/ws-01"), std::string(64 * 1024, 'x'));
  EXPECT_EQ(full.parts.at("rules/group/1"), "{}");
}

// No input reads the parts after the write: the detector state is not duplicated to write it.
TEST(EngineCheckpoints, FullStateMovesThePartsNobodyReadsAfterTheWrite) {
  StateParts parts = one_large_part();
  const char* buffer = parts[0].value->data();
  const AgentState full = full_state(AgentState{}, parts, false);
  EXPECT_EQ(full.parts.at("session/host/ws-01").data(), buffer);
}

// An input reads them (Input::state_written): they stay whole in `parts`.
TEST(EngineCheckpoints, FullStateKeepsThePartsAnInputReadsAfterTheWrite) {
  StateParts parts = one_large_part();
  const AgentState full = full_state(AgentState{}, parts, true);
  ASSERT_TRUE(parts[0].value.has_value());
  EXPECT_EQ(*parts[0].value, std::string(64 * 1024, 'x'));
  EXPECT_EQ(full.parts.at("session/host/ws-01"), *parts[0].value);
}

}  // namespace
}  // namespace sw::daemon
