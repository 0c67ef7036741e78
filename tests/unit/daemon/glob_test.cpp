#include "daemon/glob.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace sw::daemon {
namespace {

namespace fs = std::filesystem;

TEST(Glob, WildcardsMatchRunsAndSingleCharacters) {
  EXPECT_TRUE(wildcard_match("*.jsonl", "events.jsonl"));
  EXPECT_TRUE(wildcard_match("*.jsonl", ".jsonl"));
  EXPECT_FALSE(wildcard_match("*.jsonl", "events.jsonl.1"));
  EXPECT_TRUE(wildcard_match("events.jsonl*", "events.jsonl.1"));
  EXPECT_TRUE(wildcard_match("a?c", "abc"));
  EXPECT_FALSE(wildcard_match("a?c", "ac"));
  // The first '*' must not swallow what a later literal needs (backtracking).
  EXPECT_TRUE(wildcard_match("*ab*ab", "xabyabab"));
  EXPECT_FALSE(wildcard_match("*ab*ab", "xabyaba"));
  EXPECT_TRUE(wildcard_match("**", ""));
  EXPECT_FALSE(wildcard_match("", "a"));
}

TEST(Glob, DirectoriesAreListedOnceAndPathsMatchOnlyInTheirFolder) {
  const std::vector<std::string> globs = {"/var/log/a/*.jsonl", "/var/log/b/x?.xml",
                                          "/var/log/a/*.txt"};
  EXPECT_EQ(glob_directories(globs), (std::vector<std::string>{"/var/log/a", "/var/log/b"}));
  EXPECT_TRUE(matches_any_glob(globs, "/var/log/a/one.jsonl"));
  EXPECT_TRUE(matches_any_glob(globs, "/var/log/b/x1.xml"));
  EXPECT_FALSE(matches_any_glob(globs, "/var/log/b/one.jsonl"));
  EXPECT_FALSE(matches_any_glob(globs, "/var/log/a/sub/one.jsonl"));
}

TEST(Glob, ListsMatchingRegularFilesSorted) {
  const fs::path dir =
      fs::temp_directory_path() / ("sw_glob_" + std::to_string(std::random_device()()));
  fs::remove_all(dir);
  fs::create_directories(dir / "folder.evtx");
  for (const char* name : {"b.evtx", "a.evtx", "c.evtx.tmp"}) std::ofstream(dir / name) << "x";
  EXPECT_EQ(list_glob((dir / "*.evtx").string()),
            (std::vector<std::string>{(dir / "a.evtx").string(), (dir / "b.evtx").string()}));
  EXPECT_TRUE(list_glob((dir / "missing" / "*.evtx").string()).empty());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sw::daemon
