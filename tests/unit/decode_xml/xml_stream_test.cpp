// Normalization decisions of the XML decoder and the stream forms it accepts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/decode_xml/collecting_sink.hpp"

namespace sw {
namespace {

using test::CollectingSink;
using test::payload_of;
using test::PayloadField;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::string_view kNs = "http://schemas.microsoft.com/win/2004/08/events/event";

std::string event_xml(std::uint32_t id, std::string_view payload = "", std::string_view ns = kNs) {
  std::string xml = "<Event";
  if (!ns.empty()) xml += " xmlns=\"" + std::string(ns) + "\"";
  xml += "><System><Provider Name=\"P\"/><EventID>" + std::to_string(id) +
         "</EventID><TimeCreated SystemTime=\"2024-01-02T03:04:05.0000006Z\"/>"
         "<EventRecordID>" +
         std::to_string(id) + "</EventRecordID><Channel>C</Channel></System>" +
         std::string(payload) + "</Event>";
  return xml;
}

TEST(XmlEventDecoder, DecodesOneEventAndReusesTheOutput) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(
      decoder.decode(event_xml(4624, "<EventData><Data Name=\"A\">1</Data></EventData>"), e, error))
      << error;
  EXPECT_EQ(e.event_id, 4624u);
  EXPECT_EQ(e.provider_name(), "P");
  EXPECT_EQ(format_time(e.time_created), "2024-01-02T03:04:05.0000006Z");
  EXPECT_EQ(test::field_or(e, "A"), "1");
  ASSERT_TRUE(decoder.decode(event_xml(4634), e, error)) << error;
  EXPECT_EQ(e.event_id, 4634u);
  EXPECT_TRUE(e.fields().empty()) << "fields of the previous event leaked";
}

TEST(XmlEventDecoder, AcceptsNoNamespaceAndPrefixedNamespace) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(decoder.decode(event_xml(21, "", ""), e, error)) << error;
  EXPECT_EQ(e.event_id, 21u);
  const std::string prefixed =
      "<e:Event xmlns:e=\"" + std::string(kNs) +
      "\"><e:System><e:EventID>22</e:EventID><e:Computer>H</e:Computer></e:System>"
      "<e:EventData><e:Data Name=\"X\">y</e:Data></e:EventData></e:Event>";
  ASSERT_TRUE(decoder.decode(prefixed, e, error)) << error;
  EXPECT_EQ(e.event_id, 22u);
  EXPECT_EQ(e.computer(), "H");
  EXPECT_EQ(test::field_or(e, "X"), "y");
}

TEST(XmlEventDecoder, UnnamedDataIsNumberedByPositionAndBinaryKept) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(decoder.decode(
      event_xml(7036,
                "<EventData><Data>Windows Update</Data><Data Name=\"State\">running</Data>"
                "<Data/><Binary>770075006100750073007600</Binary></EventData>"),
      e, error))
      << error;
  EXPECT_THAT(
      payload_of(e),
      ElementsAre(PayloadField{"param1", "Windows Update", FieldOrigin::kEventData},
                  PayloadField{"State", "running", FieldOrigin::kEventData},
                  PayloadField{"param3", "", FieldOrigin::kEventData},
                  PayloadField{"Binary", "770075006100750073007600", FieldOrigin::kEventData}));
}

TEST(XmlEventDecoder, EntitiesCdataAndWhitespaceOnlyValues) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(decoder.decode(
      event_xml(1,
                "<EventData><Data Name=\"Cmd\">a &amp; b &lt;c&gt; &#x41;&#13;</Data>"
                "<Data Name=\"Raw\"><![CDATA[<x>&amp;]]></Data><Data Name=\"Blank\"> </Data>"
                "</EventData>"),
      e, error))
      << error;
  EXPECT_EQ(test::field_or(e, "Cmd"), "a & b <c> A\r");
  EXPECT_EQ(test::field_or(e, "Raw"), "<x>&amp;");
  EXPECT_EQ(test::field_or(e, "Blank"), " ");
}

TEST(XmlEventDecoder, UserDataFlattensNestedElementsWithDots) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(decoder.decode(
      event_xml(1102,
                "<UserData><LogFileCleared xmlns=\"http://manifests.microsoft.com/win/2004/"
                "08/windows/eventlog\"><SubjectUserName>alice</SubjectUserName>"
                "<Detail><Inner><Leaf>v</Leaf></Inner><Other>w</Other></Detail>"
                "<BackupPath/></LogFileCleared></UserData>"),
      e, error))
      << error;
  EXPECT_EQ(e.user_data_name(), "LogFileCleared");
  EXPECT_THAT(payload_of(e),
              ElementsAre(PayloadField{"SubjectUserName", "alice", FieldOrigin::kUserData},
                          PayloadField{"Detail.Inner.Leaf", "v", FieldOrigin::kUserData},
                          PayloadField{"Detail.Other", "w", FieldOrigin::kUserData},
                          PayloadField{"BackupPath", "", FieldOrigin::kUserData}));
}

TEST(XmlEventDecoder, ProcessingErrorDataKeptAsExtraFields) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(decoder.decode(event_xml(4,
                                       "<ProcessingErrorData><ErrorCode>15005</ErrorCode>"
                                       "<DataItemName>X</DataItemName></ProcessingErrorData>"),
                             e, error))
      << error;
  EXPECT_THAT(payload_of(e), ElementsAre(PayloadField{"ErrorCode", "15005", FieldOrigin::kExtra},
                                         PayloadField{"DataItemName", "X", FieldOrigin::kExtra}));
}

TEST(XmlEventDecoder, EventSourceNameStandsInForAMissingProviderName) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(
      decoder.decode("<Event><System><Provider EventSourceName=\"Service Control "
                     "Manager\"/><EventID Qualifiers=\"16384\">7036</EventID></System>"
                     "</Event>",
                     e, error))
      << error;
  EXPECT_EQ(e.provider_name(), "Service Control Manager");
  EXPECT_TRUE(e.has_qualifiers);
  EXPECT_EQ(e.qualifiers, 16384);
}

TEST(XmlEventDecoder, InvalidUtf8BecomesReplacementCharacter) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(decoder.decode(event_xml(1,
                                       "<EventData><Data Name=\"U\">M\xFCller</Data>"
                                       "<Data Name=\"N\xC3\">x</Data></EventData>"),
                             e, error))
      << error;
  EXPECT_EQ(test::field_or(e, "U"), "M\xEF\xBF\xBDller");
  ASSERT_EQ(e.fields().size(), 2u);
  EXPECT_EQ(field_name(e.fields()[1].id), "N\xEF\xBF\xBD");
  for (const Field& f : e.fields()) EXPECT_TRUE(is_valid_utf8(e.value(f)));
}

TEST(XmlEventDecoder, PythonEvtxZeroPaddedHexAndTimes) {
  XmlEventDecoder decoder;
  Event e;
  std::string error;
  ASSERT_TRUE(
      decoder.decode("<Event><System><EventID>4624</EventID>"
                     "<Keywords>0x8020000000000000</Keywords>"
                     "<TimeCreated SystemTime=\"2021-02-12 12:33:57.123456\"/></System>"
                     "<EventData><Data Name=\"TargetLogonId\">0x00000000000ae31a</Data>"
                     "</EventData></Event>",
                     e, error))
      << error;
  EXPECT_EQ(e.time_created, 16131332370000000 + 1234560);
  EXPECT_EQ(test::field_or(e, "TargetLogonId"), "0xae31a");
  EXPECT_EQ(e.keywords, 0x8020000000000000ull);
}

TEST(XmlStream, ConcatenatedEventsWithoutSeparators) {
  const std::string data = event_xml(1) + event_xml(2) + event_xml(3);
  CollectingSink sink;
  const DecodeStats stats = decode_xml_stream(data, "stdin", sink);
  EXPECT_EQ(stats.records_read, 3u);
  EXPECT_EQ(stats.records_bad, 0u);
  EXPECT_EQ(stats.bytes_read, data.size());
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_EQ(sink.events[2].event_id, 3u);
  EXPECT_EQ(sink.events[2].source_offset, 3u);
  EXPECT_EQ(sink.events[2].origin(), "stdin");
  ASSERT_FALSE(sink.progress.empty());
  EXPECT_EQ(sink.progress.back(),
            (std::pair<std::uint64_t, std::uint64_t>(data.size(), data.size())));
}

TEST(XmlStream, EventsWrapperDeclarationCommentsAndBom) {
  const std::string data =
      "\xEF\xBB\xBF<?xml version=\"1.0\"?>\r\n<!-- exported -->\r\n<Events>\r\n" + event_xml(1) +
      "\r\n" + event_xml(2) + "\r\n</Events>\r\n";
  CollectingSink sink;
  decode_xml_stream(data, "f.xml", sink);
  EXPECT_TRUE(sink.errors.empty()) << sink.errors[0].reason;
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].event_id, 2u);
}

TEST(XmlStream, EmptyEventsWrapperIsNotAnError) {
  CollectingSink sink;
  const DecodeStats stats = decode_xml_stream("<Events></Events>", "f.xml", sink);
  EXPECT_EQ(stats.records_read, 0u);
  EXPECT_TRUE(sink.errors.empty());
}

TEST(XmlStream, Utf16LittleEndianWithBom) {
  const std::string utf8 = event_xml(4778,
                                     "<EventData><Data Name=\"U\">J\xC3\xBCrgen \xF0\x9F\x98\x80"
                                     "</Data></EventData>");
  // Encode to UTF-16LE by hand: BMP characters plus one surrogate pair.
  std::u16string units;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    char32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if (c < 0xE0) {
      cp = ((c & 0x1F) << 6) | (utf8[i + 1] & 0x3F);
      i += 2;
    } else {
      cp = ((c & 0x07) << 18) | ((utf8[i + 1] & 0x3F) << 12) | ((utf8[i + 2] & 0x3F) << 6) |
           (utf8[i + 3] & 0x3F);
      i += 4;
    }
    if (cp >= 0x10000) {
      units.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      units.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      units.push_back(static_cast<char16_t>(cp));
    }
  }
  std::string data = "\xFF\xFE";
  for (char16_t u : units) {
    data.push_back(static_cast<char>(u & 0xFF));
    data.push_back(static_cast<char>(u >> 8));
  }
  CollectingSink sink;
  decode_xml_stream(data, "utf16.xml", sink);
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].event_id, 4778u);
  EXPECT_EQ(test::field_or(sink.events[0], "U"), "J\xC3\xBCrgen \xF0\x9F\x98\x80");
}

TEST(XmlStream, ProgressReportedForLargeStreams) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data += event_xml(static_cast<std::uint32_t>(i + 1));
  CollectingSink sink;
  const DecodeStats stats = decode_xml_stream(data, "big", sink);
  EXPECT_EQ(stats.records_read, 5000u);
  ASSERT_GE(sink.progress.size(), 2u);
  EXPECT_LT(sink.progress.front().first, data.size());
  EXPECT_EQ(sink.progress.front().second, data.size());
}

}  // namespace
}  // namespace sw
