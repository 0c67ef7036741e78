#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/state.hpp"

namespace sw::daemon {
namespace {

namespace fs = std::filesystem;

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sw_state_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

AgentState sample_state() {
  AgentState s;
  FileCheckpoint cp{"/var/log/a.jsonl", {64769, 1234}, 4096, 17, 1024, 0xfeedbeefcafef00dULL};
  s.files["win"][cp.id] = cp;
  s.evtx["evtx-2"]["/srv/Security.evtx"] = {"/srv/Security.evtx", {64769, 99}, 31337};
  s.detector_snapshot = "tracker v1\nWS01 console alice\n";
  s.saved_at = 16000000000000000;
  return s;
}

TEST_F(StateTest, RoundTripsEveryField) {
  const AgentState s = sample_state();
  AgentState back;
  std::string error;
  ASSERT_TRUE(parse_state(serialize_state(s), back, error)) << error;
  EXPECT_EQ(back.files, s.files);
  EXPECT_EQ(back.evtx, s.evtx);
  EXPECT_EQ(back.detector_snapshot, s.detector_snapshot);
  EXPECT_EQ(back.saved_at, s.saved_at);
}

TEST_F(StateTest, MissingFileIsFirstStartNotAnError) {
  StateStore store((dir_ / "state.json").string());
  AgentState s;
  std::string error = "x";
  EXPECT_FALSE(store.load(s, error));
  EXPECT_TRUE(error.empty());
}

TEST_F(StateTest, SaveReplacesAtomicallyAndLeavesNoTemporary) {
  StateStore store((dir_ / "state.json").string());
  std::string error;
  AgentState s = sample_state();
  ASSERT_TRUE(store.save(s, error)) << error;
  s.files["win"].begin()->second.offset = 8192;
  ASSERT_TRUE(store.save(s, error)) << error;
  AgentState back;
  ASSERT_TRUE(store.load(back, error)) << error;
  EXPECT_EQ(back.files["win"].begin()->second.offset, 8192u);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"state.json"});
}

TEST_F(StateTest, TornTemporaryFromACrashDoesNotHideTheLastGoodState) {
  // A crash while writing leaves state.json.tmp half-written; state.json is still the last one.
  StateStore store((dir_ / "state.json").string());
  std::string error;
  ASSERT_TRUE(store.save(sample_state(), error)) << error;
  {
    std::ofstream torn(dir_ / "state.json.tmp");
    torn << "{\"version\":1,\"files\":{\"win\":[{\"path\":";
  }
  AgentState back;
  ASSERT_TRUE(store.load(back, error)) << error;
  EXPECT_EQ(back.files, sample_state().files);
  // And the next save goes through regardless of the leftover.
  ASSERT_TRUE(store.save(back, error)) << error;
  EXPECT_FALSE(fs::exists(dir_ / "state.json.tmp"));
}

TEST_F(StateTest, CorruptStateIsReportedWithItsPath) {
  const auto path = dir_ / "state.json";
  {
    std::ofstream out(path);
    out << "{\"version\": 1, \"files\": ";
  }
  StateStore store(path.string());
  AgentState s;
  std::string error;
  EXPECT_FALSE(store.load(s, error));
  EXPECT_NE(error.find(path.string()), std::string::npos);
  EXPECT_NE(error.find("malformed"), std::string::npos);
}

TEST_F(StateTest, FutureVersionIsRefused) {
  AgentState s;
  std::string error;
  EXPECT_FALSE(parse_state(R"({"version": 2, "files": {}, "evtx": {}})", s, error));
  EXPECT_NE(error.find("version"), std::string::npos);
}

TEST_F(StateTest, SaveIntoMissingFolderFailsWithReason) {
  StateStore store((dir_ / "no" / "such" / "state.json").string());
  std::string error;
  EXPECT_FALSE(store.save(sample_state(), error));
  EXPECT_NE(error.find("cannot create"), std::string::npos);
}

}  // namespace
}  // namespace sw::daemon
