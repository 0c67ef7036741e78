#include <gtest/gtest.h>

#include <string>

#include "sessionwatch/spool.hpp"

using sw::forward::crc32c;

// Check values from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check value.
TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283U);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAU);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43U);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(crc32c(ascending), 0x46DD794EU);
  EXPECT_EQ(crc32c(descending), 0x113FDB5CU);
  EXPECT_EQ(crc32c(""), 0U);
}

// The 8-byte fast path and the byte tail must agree however the input is split.
TEST(Crc32c, ChainingMatchesOneShot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  const std::uint32_t whole = crc32c(data);
  for (std::size_t cut : {0, 1, 3, 7, 8, 9, 500, 999, 1000}) {
    std::uint32_t chained =
        crc32c(std::string_view(data).substr(cut), crc32c(std::string_view(data).substr(0, cut)));
    EXPECT_EQ(chained, whole) << "split at " << cut;
  }
}

TEST(Crc32c, DetectsSingleBitFlips) {
  std::string data = "an alert record";
  const std::uint32_t good = crc32c(data);
  for (std::size_t i = 0; i < data.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = data;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_NE(crc32c(bad), good);
    }
  }
}
