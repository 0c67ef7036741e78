// The session state a Kafka partition hands to its next owner: the parts of the computers read
// from that partition, and only those, written to its handover file and read back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "daemon/inputs/kafka/partition_state.hpp"

namespace sw::daemon {
namespace {

namespace fs = std::filesystem;

StateParts parts_of_hosts(std::initializer_list<std::string> keys, const std::string& value) {
  StateParts out{{"session/tracker", std::string("header")}};
  for (const std::string& key : keys) {
    out.push_back({"session/host/" + key, value});
    out.push_back({"session/sids/" + key, value + "-sids"});
  }
  out.push_back({"rules/group/x", std::string("correlation")});
  return out;
}

TEST(PartitionStates, APartitionCarriesOnlyItsComputers) {
  PartitionStates states;
  states.own("events/0");
  states.own("events/1");
  states.saw("events/0", "WS-1.contoso.local");  // filed under the tracker's host key
  states.saw("events/1", "ws-2");
  states.written(parts_of_hosts({"ws-1", "ws-2", "ws-3"}, "v1"));
  const auto first = states.take_if_dirty("events/0");
  const auto second = states.take_if_dirty("events/1");
  ASSERT_TRUE(first && second);
  const StatePartMap want0{
      {"session/host/ws-1", "v1"}, {"session/sids/ws-1", "v1-sids"}, {"session/tracker", "header"}};
  EXPECT_EQ(*first, want0);
  EXPECT_EQ(second->count("session/host/ws-2"), 1u);
  EXPECT_EQ(second->count("session/host/ws-1"), 0u);
  // ws-3 belongs to no partition of ours; correlation groups span computers: neither is kept.
  EXPECT_EQ(states.cached_parts(), 5u);
  EXPECT_FALSE(states.take_if_dirty("events/0")) << "clean until a part of its changes again";
}

TEST(PartitionStates, OnlyPartitionsWhoseComputersChangedAreDirty) {
  PartitionStates states;
  states.saw("events/0", "ws-1");
  states.saw("events/1", "ws-2");
  states.written(parts_of_hosts({"ws-1", "ws-2"}, "v1"));
  states.take_if_dirty("events/0");
  states.take_if_dirty("events/1");
  states.written({{"session/host/ws-2", std::string("v2")}});
  EXPECT_FALSE(states.take_if_dirty("events/0"));
  const auto changed = states.take_if_dirty("events/1");
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->at("session/host/ws-2"), "v2");
  // An evicted host (a part without value) leaves the partition's state.
  states.written({{"session/host/ws-2", std::nullopt}, {"session/sids/ws-2", std::nullopt}});
  EXPECT_EQ(states.take_if_dirty("events/1")->count("session/host/ws-2"), 0u);
}

TEST(PartitionStates, AdoptedStateIsHandedOnAndForgottenOnRevocation) {
  PartitionStates states;
  PartitionHandover handover;
  handover.offset = 42;
  handover.parts = {{"session/tracker", "header"}, {"session/host/ws-9", "held"}};
  states.adopt("events/3", handover);
  EXPECT_TRUE(states.owns("events/3"));
  // A computer adopted and not seen since still goes with the partition.
  EXPECT_EQ(states.parts_of("events/3").at("session/host/ws-9"), "held");
  states.forget("events/3");
  EXPECT_FALSE(states.owns("events/3"));
  EXPECT_EQ(states.cached_parts(), 1u);  // the header only
  states.written({{"session/host/ws-9", std::string("changed")}});
  EXPECT_FALSE(states.take_if_dirty("events/3")) << "a revoked partition's computers are not ours";
}

class HandoverFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sw_handover_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(HandoverFile, RoundTripsPerTopicPartition) {
  PartitionHandover written{1234, {{"session/host/ws-1", "{\"a\":1}"}}};
  std::string error;
  ASSERT_TRUE(write_handover(dir_.string(), "win.events/7", written, error)) << error;
  EXPECT_TRUE(fs::exists(dir_ / "win.events-7.handover"));
  PartitionHandover read;
  ASSERT_TRUE(read_handover(dir_.string(), "win.events/7", read, error)) << error;
  EXPECT_EQ(read.offset, 1234);
  EXPECT_EQ(read.parts, written.parts);
  EXPECT_FALSE(read_handover(dir_.string(), "win.events/8", read, error));
  EXPECT_EQ(error, "") << "no file yet is no error";
}

TEST_F(HandoverFile, DamagedOrForeignFilesAreRefusedWithAReason) {
  std::string error;
  ASSERT_TRUE(write_handover(dir_.string(), "a/1", {1, {}}, error));
  fs::copy_file(dir_ / "a-1.handover", dir_ / "a-2.handover");
  PartitionHandover read;
  EXPECT_FALSE(read_handover(dir_.string(), "a/2", read, error));
  EXPECT_NE(error.find("not a handover file of a/2"), std::string::npos) << error;
  std::ofstream(dir_ / "a-3.handover") << "{\"format\":";
  EXPECT_FALSE(read_handover(dir_.string(), "a/3", read, error));
  EXPECT_NE(error.find("a-3.handover"), std::string::npos) << error;
}

}  // namespace
}  // namespace sw::daemon
