// UTC calendar dates <-> days since 1970-01-01 (proleptic Gregorian), through <chrono>.
#pragma once

#include <chrono>
#include <cstdint>

namespace sw {

// The year range std::chrono::year holds; callers check their input against it.
inline constexpr int kMinCivilYear = -32767;
inline constexpr int kMaxCivilYear = 32767;

// Days since 1970-01-01 of year-month-day. `month` is 1..12 and `year` within the range above;
// a day past the month's end runs into the next month (February 30 is March 2), as Windows'
// own conversions of a SYSTEMTIME do.
constexpr std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
  using namespace std::chrono;
  const sys_days first = std::chrono::year{year} / std::chrono::month{month} / 1;
  return (first + days{static_cast<int>(day) - 1}).time_since_epoch().count();
}

// The calendar date `days` days after 1970-01-01 (before it when negative).
constexpr std::chrono::year_month_day civil_from_days(std::int64_t days) {
  return std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{days}}};
}

// Seconds since 1970-01-01T00:00:00Z of a calendar time (same rules as days_from_civil).
constexpr std::int64_t seconds_from_civil(int year, unsigned month, unsigned day, int hour,
                                          int minute, int second) {
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

}  // namespace sw
