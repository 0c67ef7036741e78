// Calendar dates <-> days since 1970, checked against known dates and a round trip.
#include "sessionwatch/civil_time.hpp"

#include <gtest/gtest.h>

namespace sw {
namespace {

TEST(CivilTime, KnownDates) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1601, 1, 1), -134774);  // the FILETIME epoch
  EXPECT_EQ(seconds_from_civil(2026, 12, 2, 10, 56, 12), 1796208972);
}

TEST(CivilTime, DaysPastTheMonthEndRunIntoTheNextMonth) {
  EXPECT_EQ(days_from_civil(2023, 2, 30), days_from_civil(2023, 3, 2));
  EXPECT_EQ(days_from_civil(2024, 2, 30), days_from_civil(2024, 3, 1));
}

TEST(CivilTime, RoundTripsOverFourHundredYears) {
  for (std::int64_t d = days_from_civil(1900, 1, 1); d < days_from_civil(2300, 1, 1); d += 7) {
    const auto ymd = civil_from_days(d);
    ASSERT_TRUE(ymd.ok());
    EXPECT_EQ(days_from_civil(static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                              static_cast<unsigned>(ymd.day())),
              d);
  }
}

static_assert(days_from_civil(1970, 1, 2) == 1);

}  // namespace
}  // namespace sw
