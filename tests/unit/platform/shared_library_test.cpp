// A library opened on first use: its functions resolve and work; a missing library or function
// is an error that names what to install, never a crash.
#include <gtest/gtest.h>

#include "platform/shared_library.hpp"

namespace sw::platform {
namespace {

TEST(SharedLibrary, ResolvesFunctionsThatWork) {
  SharedLibrary zlib("libz.so.1", "zlib1g");
  const char* (*version)() = nullptr;
  zlib.resolve("zlibVersion", version);
  ASSERT_NE(version, nullptr) << zlib.error();
  EXPECT_EQ(std::string(version()).substr(0, 1), "1");
  EXPECT_EQ(zlib.error(), "");
}

TEST(SharedLibrary, MissingLibraryNamesThePackageToInstall) {
  SharedLibrary missing("libsw-no-such-library.so.7", "sw-no-such-package");
  int (*function)() = +[] { return 1; };
  missing.resolve("anything", function);
  EXPECT_EQ(function, nullptr);
  EXPECT_NE(missing.error().find("cannot load libsw-no-such-library.so.7"), std::string::npos)
      << missing.error();
  EXPECT_NE(missing.error().find("install the Debian package sw-no-such-package"),
            std::string::npos)
      << missing.error();
}

TEST(SharedLibrary, MissingFunctionIsNamed) {
  SharedLibrary zlib("libz.so.1", "zlib1g");
  void (*function)() = nullptr;
  zlib.resolve("sw_no_such_function", function);
  EXPECT_EQ(function, nullptr);
  EXPECT_NE(zlib.error().find("libz.so.1 has no sw_no_such_function"), std::string::npos)
      << zlib.error();
}

}  // namespace
}  // namespace sw::platform
