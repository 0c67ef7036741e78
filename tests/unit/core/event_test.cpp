#include "sessionwatch/event.hpp"

#include <gtest/gtest.h>

namespace sw {
namespace {

TEST(FieldTable, SystemFieldsAreReservedInOrder) {
  EXPECT_EQ(intern_field("EventID"), fields::EventID);
  EXPECT_EQ(intern_field("TimeCreated"), fields::TimeCreated);
  EXPECT_EQ(field_name(fields::Computer), "Computer");
  const FieldId a = intern_field("TargetUserName");
  EXPECT_GT(a, fields::kLastSystemField);
  EXPECT_EQ(intern_field("TargetUserName"), a);
  EXPECT_EQ(find_field("TargetUserName"), a);
  EXPECT_FALSE(find_field("NeverInternedFieldXyz").has_value());
}

TEST(Event, StoresStringsAndPayloadInOrder) {
  Event e;
  e.event_id = 4624;
  e.set_channel("Security");
  e.set_computer("dc.windomain.local");
  e.add_field("TargetUserName", "vagrant");
  e.add_field("LogonType", "10");
  e.add_field("TargetLogonId", "0x00000000000AE31A");
  EXPECT_EQ(e.channel(), "Security");
  EXPECT_EQ(e.computer(), "dc.windomain.local");
  ASSERT_EQ(e.fields().size(), 3u);
  EXPECT_EQ(field_name(e.fields()[1].id), "LogonType");
  EXPECT_EQ(e.payload("TargetUserName"), "vagrant");
  EXPECT_EQ(e.payload("TargetLogonId"), "0xae31a");  // canonical hex
  std::string scratch;
  EXPECT_EQ(field_value(e, fields::EventID, scratch), "4624");
  EXPECT_EQ(field_value(e, fields::Channel, scratch), "Security");
  EXPECT_FALSE(field_value(e, fields::ActivityID, scratch).has_value());
}

TEST(Event, ClearResetsEverything) {
  Event e;
  e.event_id = 1;
  e.set_message("hello");
  e.add_field("A", "b");
  e.clear();
  EXPECT_EQ(e.event_id, 0u);
  EXPECT_EQ(e.message(), "");
  EXPECT_TRUE(e.fields().empty());
  EXPECT_EQ(e.buffer_size(), 0u);
}

TEST(Event, SetFieldReplacesOrAppends) {
  Event e;
  e.add_field("A", "1");
  e.set_field(intern_field("A"), "2");
  e.set_field(intern_field("sessionwatch.error_code"), "7063");
  EXPECT_EQ(e.payload("A"), "2");
  EXPECT_EQ(e.payload("sessionwatch.error_code"), "7063");
  EXPECT_EQ(e.fields().back().origin, FieldOrigin::kExtra);
}

TEST(Time, WindowsAndPythonRenderingsAgree) {
  auto a = parse_time("2021-02-12T12:34:28.1944370Z");
  auto b = parse_time("2021-02-12 12:34:28.194437");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(format_time(*a), "2021-02-12T12:34:28.1944370Z");
}

TEST(Time, ZonesAndEdges) {
  EXPECT_EQ(parse_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_time("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parse_time("1969-12-31T19:00:00-05:00"), 0);
  EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59.9999999Z");
  EXPECT_EQ(format_time(*parse_time("1601-01-01T00:00:00Z")), "1601-01-01T00:00:00.0000000Z");
  EXPECT_FALSE(parse_time("2021-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_time("not a time"));
  EXPECT_FALSE(parse_time("2021-02-12T12:34:28Zjunk"));
  EXPECT_FALSE(parse_time(""));
}

TEST(Time, FormatsEveryFieldWithItsWidth) {
  // Each field at its widest and narrowest, the years beyond four digits, and times spread over
  // the whole range, against the printf rendering the format is defined by.
  EXPECT_EQ(format_time(*parse_time("9999-12-31T23:59:59.9999999Z")),
            "9999-12-31T23:59:59.9999999Z");
  EXPECT_EQ(format_time(*parse_time("0001-01-01T00:00:00Z")), "0001-01-01T00:00:00.0000000Z");
  EXPECT_EQ(format_time(*parse_time("2024-03-09T08:05:07.0000301Z")),
            "2024-03-09T08:05:07.0000301Z");
  EXPECT_EQ(format_time(0x7FFFFFFFFFFFFFFF), "31197-09-14T02:48:05.4775807Z");
  std::uint64_t x = 88172645463325252ull;  // xorshift: many times, the same every run
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const Ticks t = static_cast<Ticks>(x % (400ull * 366 * 86400 * kTicksPerSecond)) -
                    200ll * 366 * 86400 * kTicksPerSecond;
    const std::string text = format_time(t);
    ASSERT_EQ(text.size(), 28u) << text;
    ASSERT_EQ(parse_time(text), t) << text;
  }
}

// A TimeReader reads each time as parse_time does, whatever it read before: times of the minute
// it keeps with every kind of tail (fractions, zones, bad ends), other minutes, other spellings.
TEST(Time, AReaderGivesWhatParseTimeGivesWhateverCameBefore) {
  const std::vector<std::string> times = {"2026-11-02T08:00:00.005Z",
                                          "2026-11-02T08:00:59.9999999Z",
                                          "2026-11-02T08:00:60Z",
                                          "2026-11-02T08:00:61Z",
                                          "2026-11-02T08:00:07+02:00",
                                          "2026-11-02T08:00:07-0530",
                                          "2026-11-02T08:00:07",
                                          "2026-11-02T08:00:07.Z",
                                          "2026-11-02T08:00:7Z",
                                          "2026-11-02T08:00:",
                                          "2026-11-02T08:00:07Zjunk",
                                          "2026-11-02T08:00:07,25z",
                                          "2026-11-02T08:01:00Z",
                                          "2026-11-02 08:00:30Z",
                                          "2026-11-02t08:00:30Z",
                                          "12026-11-02T08:00:07Z",
                                          "2026-11-02T08:00:07.123456789Z",
                                          "2026-02-30T08:00:07Z",
                                          "2026-13-02T08:00:07Z",
                                          "not a time",
                                          "",
                                          "2026-11-02T24:00:07Z",
                                          "2026-11-02T08:60:07Z",
                                          "1970-01-01T00:00:00Z"};
  TimeReader reader;
  std::uint64_t x = 88172645463325252ull;  // the times in many orders, the same every run
  for (int i = 0; i < 5000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const std::string& t = times[x % times.size()];
    ASSERT_EQ(reader.parse(t), parse_time(t)) << t << " (read #" << i << ")";
  }
  // Read after a time of its own minute, every one of them.
  for (const std::string& t : times) {
    TimeReader r;
    r.parse("2026-11-02T08:00:01Z");
    EXPECT_EQ(r.parse(t), parse_time(t)) << t;
  }
}

TEST(Hex, CanonicalForm) {
  std::string out;
  append_canonical_hex("0x00000000000ae31a", out);
  EXPECT_EQ(out, "0xae31a");
  out.clear();
  append_canonical_hex("0xC000006D", out);
  EXPECT_EQ(out, "0xc000006d");
  out.clear();
  append_canonical_hex("0x0000", out);
  EXPECT_EQ(out, "0x0");
  out.clear();
  append_canonical_hex("0xZZ", out);
  EXPECT_EQ(out, "0xZZ");
  EXPECT_FALSE(is_hex_literal("0x"));
  EXPECT_FALSE(is_hex_literal("1234"));
}

TEST(Numbers, ParseUint) {
  EXPECT_EQ(parse_uint("7063"), 7063u);
  EXPECT_EQ(parse_uint("0x1B97"), 7063u);
  EXPECT_FALSE(parse_uint("-1"));
  EXPECT_FALSE(parse_uint("12a"));
  EXPECT_FALSE(parse_uint("99999999999999999999999"));
  // The decimal fast path (up to 19 digits) and from_chars beyond agree at the edges.
  EXPECT_EQ(parse_uint("0"), 0u);
  EXPECT_EQ(parse_uint("0007063"), 7063u);
  EXPECT_EQ(parse_uint("9999999999999999999"), 9999999999999999999u);
  EXPECT_EQ(parse_uint("18446744073709551615"), 18446744073709551615u);
  EXPECT_FALSE(parse_uint("18446744073709551616"));
  EXPECT_FALSE(parse_uint(""));
  EXPECT_FALSE(parse_uint("+1"));
  EXPECT_FALSE(parse_uint(" 1"));
  EXPECT_FALSE(parse_uint("1 "));
  EXPECT_FALSE(parse_uint("0x"));
  EXPECT_FALSE(parse_uint("12:"));
  EXPECT_EQ(parse_uint("0xffffffffffffffff"), 18446744073709551615u);
}

}  // namespace
}  // namespace sw
