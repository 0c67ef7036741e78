// UniqueFile closes what it owns and never a standard stream.
#include "sessionwatch/file.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace sw {
namespace {

TEST(UniqueFile, ClosesItsFileAndFlushesIt) {
  const auto path =
      std::filesystem::temp_directory_path() /
      ("sw_unique_file_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  {
    UniqueFile f(std::fopen(path.string().c_str(), "wb"));
    ASSERT_TRUE(f);
    std::fputs("kept", f.get());
  }
  EXPECT_EQ(std::filesystem::file_size(path), 4U) << "the buffer reached the file on close";
  std::filesystem::remove(path);
}

TEST(UniqueFile, LeavesStandardStreamsOpen) {
  { UniqueFile out(stdout); }
  { UniqueFile in(stdin); }
  EXPECT_NE(std::fflush(stdout), EOF) << "stdout is still open";
}

}  // namespace
}  // namespace sw
