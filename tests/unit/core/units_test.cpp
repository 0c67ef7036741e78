// Sizes, durations and host:port as the configuration files write them.
#include "sessionwatch/units.hpp"

#include <gtest/gtest.h>

namespace sw {
namespace {

TEST(Units, SizesTakeBinaryMultiplesInAnyCase) {
  EXPECT_EQ(parse_size("1024"), 1024U);
  EXPECT_EQ(parse_size("64k"), 64U << 10);
  EXPECT_EQ(parse_size("10MiB"), 10U << 20);
  EXPECT_EQ(parse_size("1 GB"), 1ULL << 30);
  EXPECT_EQ(parse_size("7b"), 7U);
}

TEST(Units, BadSizesAreRefused) {
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("k"));
  EXPECT_FALSE(parse_size(" 5"));
  EXPECT_FALSE(parse_size("5 TB"));
  EXPECT_FALSE(parse_size("-5"));
  EXPECT_FALSE(parse_size("999999999999999G")) << "overflows 64 bits";
}

TEST(Units, DurationsInMillisecondsSecondsMinutes) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_duration("500"), milliseconds(500));
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("5s"), milliseconds(5000));
  EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("5 s"));
  EXPECT_FALSE(parse_duration("1h"));
}

TEST(Units, HostPortSplitsAtTheLastColonOrAfterBrackets) {
  auto hp = split_host_port("127.0.0.1:9464");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, "9464");
  hp = split_host_port("[::1]:514");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, "514");
  hp = split_host_port("[fe80::1]");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "fe80::1");
  EXPECT_EQ(hp->port, "");
  hp = split_host_port("collector");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "collector");
  EXPECT_EQ(hp->port, "");
  EXPECT_FALSE(split_host_port("[::1"));
  EXPECT_FALSE(split_host_port("[::1]x"));
}

TEST(Units, PortsAreOneTo65535) {
  EXPECT_EQ(parse_port("1"), 1);
  EXPECT_EQ(parse_port("65535"), 65535);
  EXPECT_FALSE(parse_port("0"));
  EXPECT_FALSE(parse_port("65536"));
  EXPECT_FALSE(parse_port("000080"));
  EXPECT_FALSE(parse_port("8o"));
  EXPECT_FALSE(parse_port(""));
}

}  // namespace
}  // namespace sw
