// What the agent creates is its own, whatever the umask it was started with.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <thread>

#ifndef _WIN32
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "platform/fsync.hpp"
#include "sessionwatch/file.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::platform {
namespace {

#ifndef _WIN32
namespace fs = std::filesystem;

class PrivateFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sw-private-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    old_mask_ = ::umask(022);  // a shell's usual umask, not systemd's 077
  }
  void TearDown() override {
    ::umask(old_mask_);
    fs::remove_all(dir_);
  }
  static fs::perms mode(const fs::path& p) { return fs::status(p).permissions() & fs::perms::all; }

  fs::path dir_;
  mode_t old_mask_ = 0;
};

TEST_F(PrivateFiles, NewDirectoriesAreOwnerOnly) {
  std::string error;
  ASSERT_TRUE(create_private_directories((dir_ / "data" / "sub").string(), error)) << error;
  EXPECT_EQ(mode(dir_ / "data"), fs::perms::owner_all);
  EXPECT_EQ(mode(dir_ / "data" / "sub"), fs::perms::owner_all);
  EXPECT_TRUE(create_private_directories((dir_ / "data").string(), error)) << "exists: fine";
  EXPECT_FALSE(readable_by_others((dir_ / "data").string()));
  EXPECT_TRUE(readable_by_others(dir_.string()));  // made with the 022 umask
}

TEST_F(PrivateFiles, AFileInTheWayIsAnError) {
  ASSERT_TRUE(UniqueFile(open_private_for_append((dir_ / "file").string())));
  std::string error;
  EXPECT_FALSE(create_private_directories((dir_ / "file").string(), error));
  EXPECT_NE(error.find("not a directory"), std::string::npos) << error;
}

TEST_F(PrivateFiles, AppendedAndAtomicallyWrittenFilesAreOwnerOnly) {
  {
    UniqueFile f(open_private_for_append((dir_ / "alerts.jsonl").string()));
    ASSERT_TRUE(f);
    std::fputs("{}\n", f.get());
  }
  EXPECT_EQ(mode(dir_ / "alerts.jsonl"), fs::perms::owner_read | fs::perms::owner_write);
  std::string error;
  ASSERT_TRUE(write_file_atomically((dir_ / "state.json").string(), "{}", error)) << error;
  EXPECT_EQ(mode(dir_ / "state.json"), fs::perms::owner_read | fs::perms::owner_write);
}
#endif

#ifdef __linux__
// The checkpoint writer lowers its own priority, not the process's: the threads events wait on
// keep theirs.
TEST(ThreadPriority, LoweringIsForTheCallingThreadOnly) {
  const auto nice_of_this_thread = [] {
    return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  };
  const int ours = nice_of_this_thread();
  int before = 0;
  int after = 0;
  std::thread background([&] {
    before = nice_of_this_thread();
    lower_thread_priority();
    after = nice_of_this_thread();
  });
  background.join();
  if (before >= 19) GTEST_SKIP() << "the test already runs at the lowest priority";
  EXPECT_GT(after, before);
  EXPECT_EQ(nice_of_this_thread(), ours);
}

// Tools show each thread by its name (top -H, ps -L, /proc): the name of the thread that gave
// it, cut where Linux cuts it, and no other thread's.
TEST(ThreadNames, EachThreadShowsTheNameItGaveItself) {
  const auto name_of_this_thread = [] {
    char name[64] = {};
    ::pthread_getname_np(::pthread_self(), name, sizeof name);
    return std::string(name);
  };
  const std::string ours = name_of_this_thread();
  std::string short_name;
  std::string long_name;
  std::thread named([&] {
    name_this_thread("detection");
    short_name = name_of_this_thread();
    name_this_thread("out:a-collector-with-a-long-name");
    long_name = name_of_this_thread();
  });
  named.join();
  EXPECT_EQ(short_name, "detection");
  EXPECT_EQ(long_name, "out:a-collector");  // its first 15 bytes
  EXPECT_EQ(name_of_this_thread(), ours);
}
#endif

}  // namespace
}  // namespace sw::platform
