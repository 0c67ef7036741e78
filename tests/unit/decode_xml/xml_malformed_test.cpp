// Bad input never crashes or hangs: it becomes an error with a byte offset, and the stream decoder
// carries on with the next <Event>.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "unit/decode_xml/collecting_sink.hpp"

namespace sw {
namespace {

using test::CollectingSink;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kGood =
    "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>"
    "<Provider Name=\"Microsoft-Windows-Security-Auditing\"/><EventID>4624</EventID>"
    "<TimeCreated SystemTime=\"2024-01-02T03:04:05Z\"/><EventRecordID>7</EventRecordID>"
    "</System><EventData><Data Name=\"TargetUserName\">alice</Data></EventData></Event>";

std::string decode_error(std::string_view xml) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  EXPECT_FALSE(decoder.decode(xml, e, error)) << "accepted: " << xml.substr(0, 200);
  return error;
}

TEST(XmlMalformed, EmptyInput) {
  EXPECT_THAT(decode_error(""), HasSubstr("empty input"));
  CollectingSink sink;
  const DecodeStats stats = decode_xml_stream("", "empty.xml", sink);
  EXPECT_EQ(stats.records_read, 0u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].origin, "empty.xml");
  EXPECT_EQ(sink.errors[0].position, 0u);
  EXPECT_THAT(sink.errors[0].reason, HasSubstr("no <Event>"));
}

TEST(XmlMalformed, WrongNamespaceIsNotAWindowsEvent) {
  std::string xml = kGood;
  xml.replace(xml.find("http://schemas"), 10, "urn:other:");
  EXPECT_THAT(decode_error(xml), HasSubstr("not a Windows event: namespace 'urn:other:"));
}

TEST(XmlMalformed, OtherRootElementIsNotAnEvent) {
  EXPECT_THAT(decode_error("<Record><EventID>1</EventID></Record>"),
              HasSubstr("not an Event: root element is <Record>"));
}

TEST(XmlMalformed, TwoEventsGivenToTheSingleEventDecoder) {
  const std::string error = decode_error(kGood + kGood);
  EXPECT_THAT(error, HasSubstr("more than one top-level element: <Event>"));
  EXPECT_THAT(error, HasSubstr("(at byte " + std::to_string(kGood.size()) + ")"));
}

TEST(XmlMalformed, MissingSystemOrEventIdOrBadTime) {
  EXPECT_THAT(decode_error("<Event><EventData/></Event>"), HasSubstr("no <System>"));
  EXPECT_THAT(decode_error("<Event><System><Channel>x</Channel></System></Event>"),
              HasSubstr("no <EventID>"));
  EXPECT_THAT(decode_error("<Event><System><EventID>abc</EventID></System></Event>"),
              HasSubstr("EventID 'abc' is not a number"));
  EXPECT_THAT(decode_error("<Event><System><EventID>99999999999</EventID></System></Event>"),
              HasSubstr("is not a number"));
  EXPECT_THAT(decode_error("<Event><System><EventID>1</EventID><TimeCreated "
                           "SystemTime=\"yesterday\"/></System></Event>"),
              HasSubstr("'yesterday' is not a time"));
}

TEST(XmlMalformed, TruncatedEventReportsTheByteOffset) {
  const std::string cut = kGood.substr(0, kGood.find("<EventData>") + 20);
  const std::string error = decode_error(cut);
  EXPECT_THAT(error, StartsWith("invalid XML"));
  EXPECT_THAT(error, HasSubstr("(at byte "));
}

TEST(XmlMalformed, EveryTruncationOfAnEventIsAnErrorNotACrash) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  for (std::size_t n = 0; n < kGood.size(); ++n) {
    EXPECT_FALSE(decoder.decode(std::string_view(kGood).substr(0, n), e, error)) << n;
    EXPECT_FALSE(error.empty());
  }
  EXPECT_TRUE(decoder.decode(kGood, e, error)) << error;
}

TEST(XmlMalformed, StreamResynchronizesAfterATruncatedEvent) {
  const std::string truncated = kGood.substr(0, 150);
  const std::string data = kGood + "\n" + truncated + "\n" + kGood;
  CollectingSink sink;
  const DecodeStats stats = decode_xml_stream(data, "s.xml", sink);
  EXPECT_EQ(stats.records_read, 2u);
  EXPECT_EQ(stats.records_bad, 1u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, kGood.size() + 1);
  EXPECT_THAT(sink.errors[0].reason, HasSubstr("truncated <Event>"));
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].event_id, 4624u);
  EXPECT_EQ(test::field_or(sink.events[1], "TargetUserName"), "alice");
}

TEST(XmlMalformed, StreamTruncatedAtTheEnd) {
  const std::string data = kGood + kGood.substr(0, kGood.size() - 3);
  CollectingSink sink;
  const DecodeStats stats = decode_xml_stream(data, "s.xml", sink);
  EXPECT_EQ(stats.records_read, 1u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, kGood.size());
  EXPECT_THAT(sink.errors[0].reason, HasSubstr("before the end of the input"));
}

TEST(XmlMalformed, BrokenEventInsideStreamGivesAbsoluteOffset) {
  std::string broken = kGood;
  broken.replace(broken.find("</Data>"), 7, "</Dat>");
  const std::string data = kGood + broken + kGood;
  CollectingSink sink;
  const DecodeStats stats = decode_xml_stream(data, "s.xml", sink);
  EXPECT_EQ(stats.records_read, 2u);
  ASSERT_EQ(sink.errors.size(), 1u);
  const std::uint64_t position = sink.errors[0].position;
  EXPECT_GE(position, kGood.size());
  EXPECT_LT(position, 2 * kGood.size());
  // pugixml reports the mismatch at the end tag it could not match.
  EXPECT_NEAR(static_cast<double>(position),
              static_cast<double>(kGood.size() + broken.find("</Dat>")), 8);
  EXPECT_THAT(sink.errors[0].reason, HasSubstr("invalid XML"));
}

TEST(XmlMalformed, WrongNamespaceInsideStreamIsSkipped) {
  std::string other = kGood;
  other.replace(other.find("http://schemas"), 10, "urn:other:");
  CollectingSink sink;
  decode_xml_stream(kGood + other + kGood, "s.xml", sink);
  EXPECT_EQ(sink.events.size(), 2u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, kGood.size());
  EXPECT_THAT(sink.errors[0].reason, HasSubstr("not a Windows event: namespace"));
}

TEST(XmlMalformed, GarbageBetweenEventsIsReportedOnce) {
  const std::string data = kGood + "\nthis is not xml <b>bold</b> more\n" + kGood;
  CollectingSink sink;
  const DecodeStats stats = decode_xml_stream(data, "s.xml", sink);
  EXPECT_EQ(stats.records_read, 2u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, kGood.size() + 1);
  EXPECT_THAT(sink.errors[0].reason, HasSubstr("outside <Event>"));
}

TEST(XmlMalformed, UnexpectedElementAtTopLevel) {
  CollectingSink sink;
  decode_xml_stream("<Log><Entry/></Log>" + kGood, "s.xml", sink);
  EXPECT_EQ(sink.events.size(), 1u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, 0u);
  EXPECT_THAT(sink.errors[0].reason, HasSubstr("unexpected <Log>"));
}

TEST(XmlMalformed, BinaryGarbageNeverCrashes) {
  std::mt19937 rng(7063);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 200; ++round) {
    std::string data(static_cast<std::size_t>(1 + round * 13), '\0');
    for (char& c : data) c = static_cast<char>(byte(rng));
    // Half the rounds splice garbage into a real event's Provider Name attribute, where most
    // bytes are legal XML: the event may then decode, but only as valid UTF-8.
    const bool spliced = round % 2 == 1;
    if (spliced) data = kGood.substr(0, 120) + data + kGood.substr(120);
    CollectingSink sink;
    decode_xml_stream(data, "garbage", sink);
    if (spliced) {
      EXPECT_EQ(sink.errors.size() + sink.events.size(), 1u) << round;
    } else {
      EXPECT_FALSE(sink.errors.empty()) << round;
      EXPECT_TRUE(sink.events.empty()) << round;
    }
    for (const Event& e : sink.events) {
      EXPECT_TRUE(is_valid_utf8(e.provider_name()));
      for (const Field& f : e.fields()) EXPECT_TRUE(is_valid_utf8(e.value(f)));
    }
    XmlEventDecoder decoder;
    Event e;
    std::string error;
    if (!decoder.decode(data, e, error)) {
      EXPECT_FALSE(error.empty());
    }
  }
}

TEST(XmlMalformed, TenMegabyteFieldIsKeptWhole) {
  const std::string big(10 * 1024 * 1024, 'A');
  std::string xml = kGood;
  xml.insert(xml.find("</EventData>"), "<Data Name=\"Big\">" + big + "</Data>");
  CollectingSink sink;
  decode_xml_stream(xml + kGood, "big.xml", sink);
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.events.size(), 2u);
  const auto value = sink.events[0].payload("Big");
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->size(), big.size());
}

TEST(XmlMalformed, DeepNestingIsRejectedWithoutRecursing) {
  constexpr int kDepth = 200000;
  std::string nested;
  nested.reserve(kDepth * 8);
  for (int i = 0; i < kDepth; ++i) nested += "<a>";
  nested += "x";
  for (int i = 0; i < kDepth; ++i) nested += "</a>";
  std::string xml = kGood;
  xml.insert(xml.find("<EventData>"), "<UserData><Root>" + nested + "</Root></UserData>");
  const std::string error = decode_error(xml);
  EXPECT_THAT(error, HasSubstr("UserData nested deeper than"));

  // Deep but unclosed nesting: the parser itself must fail cleanly.
  std::string unclosed = kGood.substr(0, kGood.find("<EventData>"));
  for (int i = 0; i < kDepth; ++i) unclosed += "<a>";
  CollectingSink sink;
  decode_xml_stream(unclosed + kGood, "deep.xml", sink);
  EXPECT_FALSE(sink.errors.empty());
}

TEST(XmlMalformed, DeepNestingInEventDataIsIgnoredNotFollowed) {
  std::string nested;
  for (int i = 0; i < 100000; ++i) nested += "<b>";
  for (int i = 0; i < 100000; ++i) nested += "</b>";
  std::string xml = kGood;
  xml.insert(xml.find("</EventData>"), "<Data Name=\"Deep\">" + nested + "</Data>");
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(decoder.decode(xml, e, error)) << error;
  EXPECT_EQ(test::field_or(e, "Deep"), "");
}

TEST(XmlMalformed, EmbeddedNulBytes) {
  std::string xml = kGood;
  xml[xml.find("alice")] = '\0';
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  // Either outcome is acceptable; what matters is a clean answer.
  if (decoder.decode(xml, e, error)) {
    EXPECT_EQ(e.event_id, 4624u);
  } else {
    EXPECT_FALSE(error.empty());
  }
}

}  // namespace
}  // namespace sw
