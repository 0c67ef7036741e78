// Template plans (BinXmlParser::Plan) against walking each template body: every event, every
// error and its position the same, on the fixtures, the shared corpus when present, and damaged
// copies of a fixture whose templates are where the damage lands.
#include <gtest/gtest.h>

#include <iostream>
#include <random>

#include "decode/evtx_native/binxml.hpp"
#include "decode/evtx_native/values.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/evtx_native.hpp"
#include "unit/decode_evtx_native/evtx_builder.hpp"
#include "unit/decode_evtx_native/evtx_native_test_util.hpp"

namespace sw {
namespace {

using evtx_native::BinXmlParser;
using evtx_native_test::ChunkWriter;
using evtx_native_test::evtx_file;
using evtx_native_test::TemplateValue;
using evtx_native_test::u16le;
using evtx_native_test::u64le;
using evtx_native_test::utf16;
namespace vt = evtx_native::value_type;
using evtx_native_test::files_under;
using evtx_native_test::fixture;
using evtx_native_test::read_file;
using evtx_native_test::shared_dir;

// Everything a reader reports, as text: each event as its JSON line, each error with its place.
std::string decoded(const std::string& image, bool plans) {
  struct Sink : EventSink {
    std::string out;
    void on_event(Event& e) override {
      write_event_json(e, out);
      out += '\n';
    }
    void on_error(const DecodeError& e) override {
      out += "error " + std::to_string(e.position) + ": " + e.reason + '\n';
    }
  } sink;
  BinXmlParser::use_template_plans(plans);
  std::string error;
  auto reader = NativeEvtxReader::open_memory(image, "plan.evtx", error);
  if (reader) {
    const DecodeStats stats = reader->read(sink);
    sink.out += "read " + std::to_string(stats.records_read) + " bad " +
                std::to_string(stats.records_bad) + '\n';
  } else {
    sink.out += "not opened: " + error + '\n';
  }
  BinXmlParser::use_template_plans(true);
  return sink.out;
}

std::vector<std::string> every_evtx_file() {
  // The fixtures of both EVTX test folders (tests/data/evtx_native and tests/data/evtx).
  std::vector<std::string> files = files_under(fixture(""), ".evtx");
  for (const std::string& f : files_under(fixture("../evtx"), ".evtx")) files.push_back(f);
  const std::vector<std::string> corpus = files_under(shared_dir() + "/corpus", ".evtx");
  if (corpus.empty())
    std::cout << "[ NOTE     ] shared corpus not found under " << shared_dir()
              << ": fixtures only\n";
  files.insert(files.end(), corpus.begin(), corpus.end());
  return files;
}

TEST(EvtxNativePlans, EveryFileDecodesAsWalkingItsTemplatesDoes) {
  const std::vector<std::string> files = every_evtx_file();
  ASSERT_GE(files.size(), 6u);
  for (const std::string& path : files) {
    const std::string image = read_file(path);
    const std::string with = decoded(image, true);
    EXPECT_NE(with.find("\"record_id\""), std::string::npos) << path;  // events were read
    EXPECT_EQ(with, decoded(image, false)) << path;
  }
}

// <Event><System><Provider Name="%0"/><EventID Qualifiers="%1?">%2</EventID>
// <TimeCreated SystemTime="%3"/><EventRecordID>%4</EventRecordID><Channel>Sec&amp;urity</Channel>
// <Computer>%5</Computer></System><EventData><Data Name="A">%6</Data>
// <Data Name="B">x&#65;%7?</Data><Data Name="%8?">%9</Data><Data>%10?</Data></EventData></Event>
// (? marks an optional substitution). `after_time`: text after %3 in SystemTime.
void write_template_body(ChunkWriter& w, std::string_view after_time = "") {
  const auto element_of = [&w](std::string_view name, std::uint16_t id, std::uint8_t type,
                               bool optional = false) {
    w.open_element(name, false);
    w.close_start();
    w.substitution(id, type, optional);
    w.end_element();
  };
  w.fragment_header();
  w.open_element("Event", false);
  w.close_start();
  w.open_element("System", false);
  w.close_start();
  w.open_element("Provider", true);
  w.attribute("Name");
  w.substitution(0, vt::kString);
  w.close_empty();
  w.open_element("EventID", true);
  w.attribute("Qualifiers");
  w.substitution(1, vt::kUInt16, true);
  w.close_start();
  w.substitution(2, vt::kUInt16);
  w.end_element();
  w.open_element("TimeCreated", true);
  w.attribute("SystemTime");
  w.substitution(3, vt::kFileTime);
  if (!after_time.empty()) w.text(after_time);
  w.close_empty();
  element_of("EventRecordID", 4, vt::kUInt64);
  w.open_element("Channel", false);
  w.close_start();
  w.text("Sec", true);
  w.entity_ref("amp");
  w.text("urity");
  w.end_element();
  element_of("Computer", 5, vt::kString);
  w.end_element();
  w.open_element("EventData", false);
  w.close_start();
  for (const auto& [name, id] : {std::pair{"A", 6}, std::pair{"B", 7}}) {
    w.open_element("Data", true);
    w.attribute("Name");
    w.text(name);
    w.close_start();
    if (id == 7) {
      w.text("x", true);
      w.char_ref('A');
    }
    w.substitution(static_cast<std::uint16_t>(id), vt::kString, id == 7);
    w.end_element();
  }
  w.open_element("Data", true);
  w.attribute("Name");
  w.substitution(8, vt::kString, true);
  w.close_start();
  w.substitution(9, vt::kString);
  w.end_element();
  element_of("Data", 10, vt::kUInt32, true);
  w.end_element();
  w.end_element();
}

TemplateValue text_value(std::string_view s) {
  return {vt::kString, utf16(s)};
}

std::vector<TemplateValue> values_with(TemplateValue a, TemplateValue optional) {
  return {text_value("Microsoft-Windows-Security-Auditing"),
          optional.type == vt::kNull ? optional : TemplateValue{vt::kUInt16, u16le(0x8000)},
          {vt::kUInt16, u16le(4624)},
          {vt::kFileTime, u64le(132795486116665197ull)},
          {vt::kUInt64, u64le(7)},
          text_value("WS-07.contoso.local"),
          std::move(a),
          optional.type == vt::kNull ? optional : text_value("yz"),
          optional.type == vt::kNull ? optional : text_value("Named"),
          text_value("value"),
          optional};
}

TEST(EvtxNativePlans, EveryKindOfValueGivesWhatTheWalkGives) {
  ChunkWriter w(1);
  w.begin_record(1);
  w.fragment_header();
  const std::uint32_t definition = w.begin_template_inline();
  write_template_body(w);
  w.end_template_body();
  w.template_values(
      values_with(text_value("plain"), {vt::kUInt32, std::string("\x07\x1b\0\0", 4)}));
  w.end_record();
  const std::vector<std::vector<TemplateValue>> later = {
      // every optional value null: EventID loses its Qualifiers, B keeps "xA", the unnamed
      // element and the Data whose name is null vanish or lose their name as the walk decides
      values_with(text_value("plain"), {vt::kNull, ""}),
      // A as a string array: one Data Name="A" per item
      values_with({vt::kString | vt::kArrayFlag, utf16("one") + u16le(0) + utf16("two") + u16le(0)},
                  {vt::kNull, ""}),
      // fewer values than the template refers to: an error, then the next record
      values_with(text_value("short"), {vt::kNull, ""}),
  };
  std::uint64_t id = 2;
  for (std::vector<TemplateValue> values : later) {
    if (id == 4) values.resize(5);
    w.begin_record(id++);
    w.fragment_header();
    w.template_reference(definition);
    w.template_values(values);
    w.end_record();
  }
  const std::string image = evtx_file({w.finish()});
  const std::string with = decoded(image, true);
  EXPECT_EQ(with, decoded(image, false));
  // What the plan gave, in substance: three events, then one record refused.
  EXPECT_NE(with.find("Sec&urity"), std::string::npos) << with;
  EXPECT_NE(with.find("xAyz"), std::string::npos) << with;
  EXPECT_NE(with.find("two"), std::string::npos) << with;
  EXPECT_NE(with.find("does not have"), std::string::npos) << with;
  EXPECT_NE(with.find("read 3 bad 1"), std::string::npos) << with;
}

// The plan leaves a SystemTime that is one FILETIME unformatted (the builder reads it typed); with
// text after it the attribute is read as text, so the FILETIME is written out when the text comes.
TEST(EvtxNativePlans, ATimeFollowedByTextIsReadAsItsText) {
  for (const std::string_view after : {"", "Z"}) {
    ChunkWriter w(1);
    w.begin_record(1);
    w.fragment_header();
    w.begin_template_inline();
    write_template_body(w, after);
    w.end_template_body();
    w.template_values(values_with(text_value("plain"), {vt::kNull, ""}));
    w.end_record();
    const std::string image = evtx_file({w.finish()});
    const std::string with = decoded(image, true);
    EXPECT_EQ(with, decoded(image, false)) << after;
    if (after.empty()) {
      EXPECT_NE(with.find("\"@timestamp\":\"2021-10-24T11:30:11.6665197"), std::string::npos)
          << with;
    } else {
      EXPECT_NE(with.find("SystemTime '2021-10-24T11:30:11.6665197"), std::string::npos) << with;
      EXPECT_NE(with.find("ZZ' is not a time"), std::string::npos) << with;
    }
  }
}

TEST(EvtxNativePlans, DamagedTemplatesGiveTheSameEventsAndErrors) {
  const std::string original = read_file(fixture("ID4625_failed_login_account_restriction.evtx"));
  constexpr std::size_t kRecords = 4096 + 512;  // the first chunk's records and templates
  std::size_t differing_outcomes = 0;
  const std::string clean = decoded(original, true);
  for (std::size_t at = kRecords; at < kRecords + 1500; ++at) {
    for (const int flip : {0xFF, 0x01, 0x40}) {
      std::string file = original;
      file[at] = static_cast<char>(file[at] ^ flip);
      const std::string with = decoded(file, true);
      ASSERT_EQ(with, decoded(file, false)) << "byte " << at << " ^ " << flip;
      differing_outcomes += with != clean;
    }
  }
  // The damage reached the templates: most flips change what is decoded.
  EXPECT_GT(differing_outcomes, 1000u);
  std::mt19937 random(7063);
  for (int round = 0; round < 300; ++round) {
    std::string file = original;
    for (int k = 0; k < 8; ++k) file[kRecords + random() % 3000] = static_cast<char>(random());
    ASSERT_EQ(decoded(file, true), decoded(file, false)) << "round " << round;
  }
}

}  // namespace
}  // namespace sw
