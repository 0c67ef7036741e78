// Value rendering and BinXML semantics on crafted records: every byte the reader sees is written
// here, so each expectation follows from the format, not from the reader's output.
#include <gtest/gtest.h>

#include "decode/evtx_native/values.hpp"
#include "sessionwatch/evtx_native.hpp"
#include "unit/decode_evtx_native/evtx_builder.hpp"
#include "unit/decode_evtx_native/evtx_native_test_util.hpp"

namespace sw {
namespace {

using evtx_native::append_value;
using evtx_native_test::ChunkWriter;
using evtx_native_test::CollectingSink;
using evtx_native_test::evtx_file;
using evtx_native_test::TemplateValue;
using evtx_native_test::u16le;
using evtx_native_test::u32le;
using evtx_native_test::u64le;
using evtx_native_test::utf16;
namespace vt = evtx_native::value_type;

constexpr std::string_view kEventNs = "http://schemas.microsoft.com/win/2004/08/events/event";

std::string render(std::uint8_t type, const std::string& bytes) {
  std::string out;
  append_value(type, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), out);
  return out;
}

std::string guid_bytes() {
  // {54849625-5478-4994-A5BA-3E3B0328C30D}: the first three groups little-endian.
  return u32le(0x54849625) + u16le(0x5478) + u16le(0x4994) +
         std::string("\xA5\xBA\x3E\x3B\x03\x28\xC3\x0D", 8);
}

std::string sid_bytes(std::uint64_t authority, std::vector<std::uint32_t> subs) {
  std::string s;
  s.push_back(1);
  s.push_back(static_cast<char>(subs.size()));
  for (int i = 5; i >= 0; --i) s.push_back(static_cast<char>((authority >> (8 * i)) & 0xFF));
  for (std::uint32_t sub : subs) s += u32le(sub);
  return s;
}

TEST(EvtxNativeValues, NumbersRenderAsWindowsDoes) {
  EXPECT_EQ(render(vt::kInt8, "\xFF"), "-1");
  EXPECT_EQ(render(vt::kUInt8, "\xFF"), "255");
  EXPECT_EQ(render(vt::kInt16, u16le(0x8000)), "-32768");
  EXPECT_EQ(render(vt::kUInt16, u16le(4624)), "4624");
  EXPECT_EQ(render(vt::kInt32, u32le(0xFFFFFFFE)), "-2");
  EXPECT_EQ(render(vt::kUInt32, u32le(4000000000u)), "4000000000");
  EXPECT_EQ(render(vt::kInt64, u64le(~0ull)), "-1");
  EXPECT_EQ(render(vt::kUInt64, u64le(~0ull)), "18446744073709551615");
  EXPECT_EQ(render(vt::kHexInt32, u32le(0xC000006E)), "0xc000006e");
  EXPECT_EQ(render(vt::kHexInt64, u64le(0x3e7)), "0x3e7");
  EXPECT_EQ(render(vt::kHexInt64, u64le(0)), "0x0");
  EXPECT_EQ(render(vt::kSizeT, u64le(0x1310)), "0x1310");
  EXPECT_EQ(render(vt::kSizeT, u32le(0x10)), "0x10");
  EXPECT_EQ(render(vt::kBool, u32le(1)), "true");
  EXPECT_EQ(render(vt::kBool, u32le(0)), "false");
  EXPECT_EQ(render(vt::kReal64, std::string("\0\0\0\0\0\0\xf8\x3f", 8)), "1.5");
}

TEST(EvtxNativeValues, TimesGuidsSidsAndBinary) {
  EXPECT_EQ(render(vt::kFileTime, u64le(132576068681944370ull)), "2021-02-12T12:34:28.1944370Z");
  EXPECT_EQ(render(vt::kFileTime, u64le(116444736000000000ull)), "1970-01-01T00:00:00.0000000Z");
  // SYSTEMTIME: year, month, weekday, day, hour, minute, second, milliseconds.
  const std::string st =
      u16le(2017) + u16le(7) + u16le(4) + u16le(20) + u16le(8) + u16le(55) + u16le(14) + u16le(432);
  EXPECT_EQ(render(vt::kSystemTime, st), "2017-07-20T08:55:14.4320000Z");
  // February 30 runs into March, as Windows converts it; a year past SYSTEMTIME's range (which
  // would overflow the 100 ns ticks) is shown as its bytes.
  const std::string feb30 =
      u16le(2023) + u16le(2) + u16le(4) + u16le(30) + u16le(0) + u16le(0) + u16le(0) + u16le(0);
  EXPECT_EQ(render(vt::kSystemTime, feb30), "2023-03-02T00:00:00.0000000Z");
  const std::string far =
      u16le(60000) + u16le(1) + u16le(0) + u16le(1) + u16le(0) + u16le(0) + u16le(0) + u16le(0);
  EXPECT_EQ(render(vt::kSystemTime, far), "60EA0100000001000000000000000000");
  EXPECT_EQ(render(vt::kGuid, guid_bytes()), "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  EXPECT_EQ(render(vt::kSid, sid_bytes(5, {18})), "S-1-5-18");
  EXPECT_EQ(render(vt::kSid, sid_bytes(5, {21, 1, 2, 3, 500})), "S-1-5-21-1-2-3-500");
  EXPECT_EQ(render(vt::kSid, sid_bytes(0x0000123456789ABCull, {1})), "S-1-0x123456789ABC-1");
  EXPECT_EQ(render(vt::kBinary, std::string("\x00\x1b\xa0\xff", 4)), "001BA0FF");
  // A value too short for its type is shown as its bytes, not read past its end.
  EXPECT_EQ(render(vt::kGuid, "\x01\x02"), "0102");
  EXPECT_EQ(render(vt::kSid, std::string("\x01\x05\0\0\0\0\0\x05", 8)), "0105000000000005");
}

TEST(EvtxNativeValues, Utf16AndAnsiText) {
  EXPECT_EQ(render(vt::kString, utf16("vagrant")), "vagrant");
  // Stops at a NUL terminator.
  EXPECT_EQ(render(vt::kString, utf16("ab") + u16le(0) + utf16("cd")), "ab");
  // é (U+00E9), € (U+20AC), 😀 (U+1F600 as a surrogate pair).
  EXPECT_EQ(render(vt::kString, u16le(0xE9) + u16le(0x20AC) + u16le(0xD83D) + u16le(0xDE00)),
            "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  // Unpaired surrogates become U+FFFD, as sw::append_sanitized_utf8 does for bad UTF-8.
  EXPECT_EQ(render(vt::kString, u16le(0xD83D) + utf16("x")), "\xEF\xBF\xBDx");
  EXPECT_EQ(render(vt::kString, u16le(0xDE00)), "\xEF\xBF\xBD");
  EXPECT_EQ(render(vt::kString, utf16("a") + "\x41"), "a");  // odd trailing byte dropped
  // ASCII is read eight or four units at a time: a NUL, a unit above 0x7F and the end at every
  // offset of two blocks of eight.
  for (std::size_t at = 0; at < 18; ++at) {
    const std::string head = std::string("ComputerNameOfTheHost").substr(0, at);
    EXPECT_EQ(render(vt::kString, utf16(head) + u16le(0) + utf16("tail")), head) << at;
    EXPECT_EQ(render(vt::kString, utf16(head) + u16le(0xE9) + utf16("tail")), head + "\xC3\xA9tail")
        << at;
    EXPECT_EQ(render(vt::kString, utf16(head) + u16le(0x180) + utf16("t")), head + "\xC6\x80t")
        << at;
    EXPECT_EQ(render(vt::kString, utf16(head) + u16le(0xFF41) + utf16("t")), head + "\xEF\xBD\x81t")
        << at;  // negative as a signed unit
    EXPECT_EQ(render(vt::kString, utf16(head) + u16le(0x80) + utf16("t")), head + "\xC2\x80t")
        << at;
    EXPECT_EQ(render(vt::kString, utf16(head)), head) << at;
  }
  EXPECT_EQ(render(vt::kAnsiString, std::string("caf\xE9 \x80", 6)), "caf\xC3\xA9 \xE2\x82\xAC");
}

TEST(EvtxNativeValues, ArraysJoinedWhereTheyCannotRepeatTheirElement) {
  EXPECT_EQ(render(vt::kString | vt::kArrayFlag,
                   utf16("a") + u16le(0) + u16le(0) + utf16("c") + u16le(0)),
            "a, , c");
  EXPECT_EQ(render(vt::kUInt16 | vt::kArrayFlag, u16le(1) + u16le(2) + u16le(3)), "1, 2, 3");
  EXPECT_EQ(render(vt::kHexInt32 | vt::kArrayFlag, u32le(0x10) + u32le(0xff)), "0x10, 0xff");
  EXPECT_EQ(render(vt::kSid | vt::kArrayFlag, sid_bytes(5, {18}) + sid_bytes(5, {32, 544})),
            "S-1-5-18, S-1-5-32-544");
}

// --- whole records ---

// One record: <Event xmlns=..><System>..</System> + payload </Event> as an inline template whose
// System values are substitutions 0..8, followed by `extra` values for the payload.
struct RecordSpec {
  std::uint64_t record_id = 7;
  std::vector<TemplateValue> payload_values;
};

std::vector<TemplateValue> system_values(std::uint64_t record_id) {
  return {
      {vt::kString, utf16("Test-Provider")},          // 0 Provider Name
      {vt::kGuid, guid_bytes()},                      // 1 Provider Guid
      {vt::kUInt16, u16le(4624)},                     // 2 EventID
      {vt::kNull, ""},                                // 3 Qualifiers (optional, absent)
      {vt::kFileTime, u64le(132576068681944370ull)},  // 4 TimeCreated
      {vt::kUInt64, u64le(record_id)},                // 5 EventRecordID
      {vt::kHexInt64, u64le(0x8020000000000000ull)},  // 6 Keywords
      {vt::kString, utf16("Security")},               // 7 Channel
      {vt::kSid, sid_bytes(5, {18})},                 // 8 Security UserID
  };
}

constexpr std::uint16_t kPayloadBase = 9;

void write_system_template_body(ChunkWriter& w) {
  w.fragment_header();
  w.open_element("Event", true);
  w.attribute("xmlns");
  w.text(kEventNs);
  w.close_start();
  w.open_element("System", false);
  w.close_start();
  w.open_element("Provider", true);
  w.attribute("Name");
  w.substitution(0, vt::kString, true);
  w.attribute("Guid");
  w.substitution(1, vt::kGuid, true);
  w.close_empty();
  w.open_element("EventID", true);
  w.attribute("Qualifiers");
  w.substitution(3, vt::kUInt16, true);
  w.close_start();
  w.substitution(2, vt::kUInt16);
  w.end_element();
  w.open_element("Keywords", false);
  w.close_start();
  w.substitution(6, vt::kHexInt64);
  w.end_element();
  w.open_element("TimeCreated", true);
  w.attribute("SystemTime");
  w.substitution(4, vt::kFileTime, true);
  w.close_empty();
  w.open_element("EventRecordID", false);
  w.close_start();
  w.substitution(5, vt::kUInt64);
  w.end_element();
  w.open_element("Channel", false);
  w.close_start();
  w.substitution(7, vt::kString);
  w.end_element();
  w.open_element("Computer", false);
  w.close_start();
  w.text("host.example");
  w.end_element();
  w.open_element("Security", true);
  w.attribute("UserID");
  w.substitution(8, vt::kSid, true);
  w.close_empty();
  w.end_element();  // System
}

CollectingSink read_image(const std::string& image) {
  std::string error;
  auto reader = NativeEvtxReader::open_memory(image, "crafted.evtx", error);
  EXPECT_NE(reader, nullptr) << error;
  CollectingSink sink;
  if (reader) reader->read(sink);
  return sink;
}

TEST(EvtxNativeRecords, TemplatedSystemAndEventData) {
  ChunkWriter w(7);
  w.begin_record(7);
  w.fragment_header();
  w.begin_template_inline();
  write_system_template_body(w);
  w.open_element("EventData", false);
  w.close_start();
  // <Data Name="TargetUserName">%9</Data>
  w.open_element("Data", true);
  w.attribute("Name");
  w.text("TargetUserName");
  w.close_start();
  w.substitution(kPayloadBase, vt::kString);
  w.end_element();
  // <Data Name="Gone">%10 optional, null</Data>: Windows leaves the element out.
  w.open_element("Data", true);
  w.attribute("Name");
  w.text("Gone");
  w.close_start();
  w.substitution(kPayloadBase + 1, vt::kString, true);
  w.end_element();
  // <Data>%11</Data> with a string array: one unnamed Data per item.
  w.open_element("Data", false);
  w.close_start();
  w.substitution(kPayloadBase + 2, vt::kString | vt::kArrayFlag);
  w.end_element();
  // <Data Name="LogonId">%12 HexInt64</Data>
  w.open_element("Data", true);
  w.attribute("Name");
  w.text("LogonId");
  w.close_start();
  w.substitution(kPayloadBase + 3, vt::kHexInt64);
  w.end_element();
  // <Data Name="Text">a &amp; b &#60; <![CDATA[c]]></Data>
  w.open_element("Data", true);
  w.attribute("Name");
  w.text("Text");
  w.close_start();
  w.text("a ", true);
  w.entity_ref("amp");
  w.text(" b ", true);
  w.char_ref('<');
  w.cdata(" c");
  w.end_element();
  // <Binary>%13</Binary>
  w.open_element("Binary", false);
  w.close_start();
  w.substitution(kPayloadBase + 4, vt::kBinary);
  w.end_element();
  w.end_element();  // EventData
  w.end_element();  // Event
  w.end_template_body();
  std::vector<TemplateValue> values = system_values(7);
  values.push_back({vt::kString, utf16("alice")});
  values.push_back({vt::kNull, ""});
  values.push_back({vt::kString | vt::kArrayFlag, utf16("x") + u16le(0) + utf16("y") + u16le(0)});
  values.push_back({vt::kHexInt64, u64le(0x3e7)});
  values.push_back({vt::kBinary, std::string("\xDE\xAD", 2)});
  w.template_values(values);
  w.end_of_stream();
  w.end_record();

  const CollectingSink sink = read_image(evtx_file({w.finish()}));
  ASSERT_TRUE(sink.errors.empty()) << sink.errors.front().reason;
  ASSERT_EQ(sink.events.size(), 1u);
  const Event& e = sink.events[0];
  EXPECT_EQ(e.provider_name(), "Test-Provider");
  EXPECT_EQ(e.provider_guid(), "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  EXPECT_EQ(e.event_id, 4624u);
  EXPECT_FALSE(e.has_qualifiers);
  EXPECT_EQ(e.keywords, 0x8020000000000000ull);
  EXPECT_EQ(format_time(e.time_created), "2021-02-12T12:34:28.1944370Z");
  EXPECT_EQ(e.record_id, 7u);
  EXPECT_EQ(e.source_offset, 7u);
  EXPECT_EQ(e.channel(), "Security");
  EXPECT_EQ(e.computer(), "host.example");
  EXPECT_EQ(e.user_sid(), "S-1-5-18");
  EXPECT_EQ(e.origin(), "crafted.evtx");
  const auto& f = e.fields();
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(field_name(f[0].id), "TargetUserName");
  EXPECT_EQ(e.value(f[0]), "alice");
  // Unnamed Data are named by their position among the Data elements (1-based).
  EXPECT_EQ(field_name(f[1].id), "param2");
  EXPECT_EQ(e.value(f[1]), "x");
  EXPECT_EQ(field_name(f[2].id), "param3");
  EXPECT_EQ(e.value(f[2]), "y");
  EXPECT_EQ(field_name(f[3].id), "LogonId");
  EXPECT_EQ(e.value(f[3]), "0x3e7");
  EXPECT_EQ(field_name(f[4].id), "Text");
  EXPECT_EQ(e.value(f[4]), "a & b < c");
  EXPECT_EQ(field_name(f[5].id), "Binary");
  EXPECT_EQ(e.value(f[5]), "DEAD");
}

// The second record reuses the first one's template by offset, with other values.
TEST(EvtxNativeRecords, TemplateReferencedByOffset) {
  ChunkWriter w(1);
  w.begin_record(1);
  w.fragment_header();
  const std::uint32_t definition = w.begin_template_inline();
  write_system_template_body(w);
  w.end_element();  // Event
  w.end_template_body();
  w.template_values(system_values(1));
  w.end_of_stream();
  w.end_record();
  w.begin_record(2);
  w.fragment_header();
  w.template_reference(definition);
  std::vector<TemplateValue> values = system_values(2);
  values[2] = {vt::kUInt16, u16le(4634)};
  values[3] = {vt::kUInt16, u16le(16384)};
  w.template_values(values);
  w.end_of_stream();
  w.end_record();

  const CollectingSink sink = read_image(evtx_file({w.finish()}));
  ASSERT_TRUE(sink.errors.empty()) << sink.errors.front().reason;
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].event_id, 4624u);
  EXPECT_EQ(sink.events[1].event_id, 4634u);
  EXPECT_TRUE(sink.events[1].has_qualifiers);
  EXPECT_EQ(sink.events[1].qualifiers, 16384);
  EXPECT_EQ(sink.events[1].record_id, 2u);
}

// UserData carried as a BinXML value (type 0x21) holding its own template instance, the way
// Windows stores most UserData events; nested leaves are flattened with '.'.
TEST(EvtxNativeRecords, UserDataFromEmbeddedBinXml) {
  ChunkWriter w(3);
  w.begin_record(3);
  w.fragment_header();
  w.begin_template_inline();
  write_system_template_body(w);
  w.open_element("UserData", false);
  w.close_start();
  w.substitution(kPayloadBase, vt::kBinXml);
  w.end_element();
  w.end_element();  // Event
  w.end_template_body();
  // The embedded value: <EventXML><Param1>%0</Param1><Outer><Inner>%1</Inner></Outer></EventXML>
  // with its own inline template. Inline names and templates are recognised by their chunk
  // offset, so the value is written where it will sit: right after the value descriptors and
  // the System values.
  std::string embedded;
  {
    const std::size_t descriptors = 4 + 4 * (system_values(3).size() + 1);
    std::size_t data = w.position() + descriptors;
    for (const TemplateValue& v : system_values(3)) data += v.bytes.size();
    ChunkWriter e(0);
    e.raw(std::string(data - 512, '\0'));
    const std::size_t start = e.position();
    e.fragment_header();
    e.begin_template_inline();
    e.open_element("EventXML", true, true);
    e.attribute("xmlns");
    e.text("Event_NS");
    e.close_start();
    e.open_element("Param1", false);
    e.close_start();
    e.substitution(0, vt::kString);
    e.end_element();
    e.open_element("Outer", false);
    e.close_start();
    e.open_element("Inner", false);
    e.close_start();
    e.substitution(1, vt::kUInt32);
    e.end_element();
    e.end_element();
    e.end_element();
    e.end_template_body();
    e.template_values({{vt::kString, utf16("vagrant")}, {vt::kUInt32, u32le(42)}});
    e.end_of_stream();
    embedded = e.bytes().substr(start, e.position() - start);
  }
  std::vector<TemplateValue> values = system_values(3);
  values.push_back({vt::kBinXml, embedded});
  w.template_values(values);
  w.end_of_stream();
  w.end_record();

  const CollectingSink sink = read_image(evtx_file({w.finish()}));
  ASSERT_TRUE(sink.errors.empty()) << sink.errors.front().reason;
  ASSERT_EQ(sink.events.size(), 1u);
  const Event& e = sink.events[0];
  EXPECT_EQ(e.user_data_name(), "EventXML");
  ASSERT_EQ(e.fields().size(), 2u);
  EXPECT_EQ(field_name(e.fields()[0].id), "Param1");
  EXPECT_EQ(e.value(e.fields()[0]), "vagrant");
  EXPECT_EQ(e.fields()[0].origin, FieldOrigin::kUserData);
  EXPECT_EQ(field_name(e.fields()[1].id), "Outer.Inner");
  EXPECT_EQ(e.value(e.fields()[1]), "42");
}

// Records that are well-formed BinXML but not Windows events are reported, not delivered.
TEST(EvtxNativeRecords, NonEventsAreReported) {
  ChunkWriter w(1);
  w.begin_record(1);  // root is not <Event>
  w.fragment_header();
  w.open_element("Banana", false);
  w.close_empty();
  w.end_of_stream();
  w.end_record();
  w.begin_record(2);  // <Event> without <System>
  w.fragment_header();
  w.open_element("Event", false);
  w.close_empty();
  w.end_of_stream();
  w.end_record();
  w.begin_record(3);  // EventID that is not a number
  w.fragment_header();
  w.open_element("Event", false);
  w.close_start();
  w.open_element("System", false);
  w.close_start();
  w.open_element("EventID", false);
  w.close_start();
  w.text("twelve");
  w.end_element();
  w.end_element();
  w.end_element();
  w.end_of_stream();
  w.end_record();
  w.begin_record(4);  // the smallest acceptable event, plain BinXML without a template
  w.fragment_header();
  w.open_element("Event", false);
  w.close_start();
  w.open_element("System", false);
  w.close_start();
  w.open_element("EventID", false);
  w.close_start();
  w.text("12");
  w.end_element();
  w.end_element();
  w.end_element();
  w.end_of_stream();
  w.end_record();

  const CollectingSink sink = read_image(evtx_file({w.finish()}));
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].event_id, 12u);
  ASSERT_EQ(sink.errors.size(), 3u);
  EXPECT_NE(sink.errors[0].reason.find("not an Event"), std::string::npos);
  EXPECT_EQ(sink.errors[0].position, 1u);
  EXPECT_NE(sink.errors[1].reason.find("no <System>"), std::string::npos);
  EXPECT_NE(sink.errors[2].reason.find("not a number"), std::string::npos);
  EXPECT_EQ(sink.errors[2].position, 3u);
}

// Entity references inside attribute values are names too: reading them must not move the
// attribute's own name, which the parser still holds (a fuzzer found it dangling).
TEST(EvtxNativeRecords, EntityNamesInAttributesKeepTheAttributeName) {
  ChunkWriter w(1);
  w.begin_record(1);
  w.fragment_header();
  // Event, System, Provider, Name: four names, so the fifth (the entity) grows the name store.
  w.open_element("Event", false);
  w.close_start();
  w.open_element("System", false);
  w.close_start();
  w.open_element("Provider", true);
  w.attribute("Name");
  w.text("P", true);
  w.entity_ref("fresh");
  w.close_empty();
  w.open_element("EventID", false);
  w.close_start();
  w.text("12");
  w.end_element();
  w.end_element();
  w.end_element();
  w.end_of_stream();
  w.end_record();

  const CollectingSink sink = read_image(evtx_file({w.finish()}));
  ASSERT_TRUE(sink.errors.empty()) << sink.errors.front().reason;
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].event_id, 12u);
  EXPECT_EQ(sink.events[0].provider_name(), "P&fresh;");
}

}  // namespace
}  // namespace sw
