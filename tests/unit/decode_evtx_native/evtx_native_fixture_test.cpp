// The native reader on real files (tests/data/evtx_native): expectations come from the corpus
// README and from evtxexport's rendering of the same records, not from this reader.
#include <gtest/gtest.h>

#include <set>

#include "sessionwatch/evtx_native.hpp"
#include "unit/decode_evtx_native/evtx_native_test_util.hpp"

namespace sw {
namespace {

using evtx_native_test::CollectingSink;
using evtx_native_test::fixture;

CollectingSink read_all(const std::string& path, std::uint64_t after = 0) {
  std::string error;
  auto reader = NativeEvtxReader::open_file(path, error);
  EXPECT_NE(reader, nullptr) << error;
  CollectingSink sink;
  if (reader) reader->read(sink, after);
  return sink;
}

TEST(EvtxNativeFixture, ForwardedRecordsWithoutTemplatesDecode) {
  // libevtx 20181227 cannot read this file: its records are plain BinXML without templates and
  // their element starts carry no dependency id.
  const CollectingSink sink = read_all(fixture("ID1149_RDP_success_logins_to_multiple_hosts.evtx"));
  EXPECT_TRUE(sink.errors.empty()) << sink.errors.front().reason;
  ASSERT_EQ(sink.events.size(), 11u);
  std::set<std::string> computers;
  for (const Event& e : sink.events) {
    EXPECT_EQ(e.event_id, 1149u);
    EXPECT_EQ(e.provider_name(), "Microsoft-Windows-TerminalServices-RemoteConnectionManager");
    EXPECT_EQ(e.channel(),
              "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational");
    EXPECT_EQ(e.user_data_name(), "EventXML");
    EXPECT_EQ(e.user_sid(), "S-1-5-20");
    ASSERT_EQ(e.fields().size(), 3u);
    EXPECT_EQ(field_name(e.fields()[0].id), "Param1");
    EXPECT_EQ(field_name(e.fields()[1].id), "Param2");
    EXPECT_EQ(field_name(e.fields()[2].id), "Param3");
    EXPECT_EQ(e.payload("Param1"), "admmig");
    EXPECT_EQ(e.payload("Param3"), "10.23.123.11");
    EXPECT_EQ(e.fields()[0].origin, FieldOrigin::kUserData);
    // Forwarded records keep the source log's EventRecordID; the file's own record ids are
    // 1..11.
    EXPECT_EQ(e.source_offset, &e - &sink.events[0] + 1u);
    EXPECT_NE(e.record_id, e.source_offset);
    // December 2021, as the file's name and the README say.
    EXPECT_EQ(format_time(e.time_created).substr(0, 8), "2021-12-");
    computers.insert(std::string(e.computer()));
  }
  EXPECT_EQ(computers.size(), 11u) << "logins to multiple hosts: one record per host";
  EXPECT_TRUE(computers.contains("rootdc1.offsec.lan"));
}

TEST(EvtxNativeFixture, TemplatedSecurityEventMatchesEvtxexport) {
  const CollectingSink sink = read_all(fixture("ID4625_failed_login_account_restriction.evtx"));
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.events.size(), 2u);
  const Event& e = sink.events[0];
  EXPECT_EQ(e.event_id, 4625u);
  EXPECT_FALSE(e.has_qualifiers);
  EXPECT_EQ(e.provider_name(), "Microsoft-Windows-Security-Auditing");
  EXPECT_EQ(e.provider_guid(), "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  EXPECT_EQ(e.task, 12544);
  EXPECT_EQ(e.keywords, 0x8010000000000000ull);
  EXPECT_EQ(format_time(e.time_created), "2021-10-23T21:50:11.6665197Z");
  EXPECT_EQ(e.record_id, 90907u);
  EXPECT_EQ(e.process_id, 512u);
  EXPECT_EQ(e.thread_id, 500u);
  EXPECT_EQ(e.channel(), "Security");
  EXPECT_EQ(e.computer(), "FS03.offsec.lan");
  EXPECT_EQ(e.user_sid(), "");
  EXPECT_EQ(e.activity_id(), "");
  ASSERT_EQ(e.fields().size(), 21u);
  EXPECT_EQ(field_name(e.fields()[0].id), "SubjectUserSid");
  EXPECT_EQ(e.payload("SubjectUserSid"), "S-1-5-18");
  EXPECT_EQ(e.payload("SubjectLogonId"), "0x3e7");
  EXPECT_EQ(e.payload("Status"), "0xc000006e");
  EXPECT_EQ(e.payload("SubStatus"), "0x0");
  EXPECT_EQ(e.payload("LogonType"), "10");
  EXPECT_EQ(e.payload("LogonProcessName"), "User32 ");
  EXPECT_EQ(e.payload("FailureReason"), "%%2313");
  EXPECT_EQ(e.payload("ProcessName"), "C:\\Windows\\System32\\winlogon.exe");
  EXPECT_EQ(field_name(e.fields()[20].id), "IpPort");
  EXPECT_EQ(sink.events[1].record_id, 90939u);
  EXPECT_EQ(sink.events[1].thread_id, 2988u);
}

TEST(EvtxNativeFixture, UserDataAndCorrelation) {
  const CollectingSink sink = read_all(fixture("RDPAuth_RemoteConnectionManager.evtx"));
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.events.size(), 4u);
  const Event& listener = sink.events[0];
  EXPECT_EQ(listener.event_id, 258u);
  EXPECT_EQ(listener.activity_id(), "{F462570D-7650-4BF6-93FD-C9C86C540000}");
  EXPECT_EQ(listener.user_data_name(), "EventXML");
  EXPECT_EQ(listener.payload("listenerName"), "RDP-Tcp");
  const Event& empty = sink.events[1];
  EXPECT_EQ(empty.event_id, 1136u);
  EXPECT_EQ(empty.activity_id(), "");
  EXPECT_EQ(empty.user_sid(), "S-1-5-18");
  EXPECT_TRUE(empty.fields().empty());
  const Event& login = sink.events[3];
  EXPECT_EQ(login.event_id, 1149u);
  EXPECT_EQ(login.payload("Param1"), "vagrant");
  EXPECT_EQ(login.payload("Param2"), "");
  EXPECT_EQ(login.payload("Param3"), "192.168.38.1");
}

TEST(EvtxNativeFixture, ReadsAfterARecordId) {
  const CollectingSink sink = read_all(fixture("RDPAuth_RemoteConnectionManager.evtx"), 33);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].record_id, 34u);
  EXPECT_EQ(sink.events[1].record_id, 35u);
}

TEST(EvtxNativeFixture, OriginAndCountHint) {
  std::string error;
  const std::string path = fixture("RDPAuth_RemoteConnectionManager.evtx");
  auto reader = NativeEvtxReader::open_file(path, error);
  ASSERT_NE(reader, nullptr) << error;
  EXPECT_EQ(reader->record_count_hint(), 4u);
  EXPECT_EQ(reader->header().major_version, 3);
  EXPECT_TRUE(reader->header().checksum_ok);
  CollectingSink sink;
  const DecodeStats stats = reader->read(sink);
  EXPECT_EQ(stats.records_read, 4u);
  EXPECT_EQ(stats.records_bad, 0u);
  EXPECT_EQ(stats.bytes_read, 65536u);
  ASSERT_FALSE(sink.events.empty());
  EXPECT_EQ(sink.events[0].origin(), path);
  // A second read gives the same records again.
  CollectingSink again;
  reader->read(again);
  EXPECT_EQ(again.events.size(), 4u);
}

TEST(EvtxNativeFixture, FactoryRejectsWhatIsNotEvtx) {
  std::string error;
  EXPECT_EQ(open_native_evtx(fixture("README.md"), error), nullptr);
  EXPECT_NE(error.find("not an EVTX file"), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(open_native_evtx(fixture("no-such-file.evtx"), error), nullptr);
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_NE(open_native_evtx(fixture("ID4625_failed_login_account_restriction.evtx"), error),
            nullptr);
}

}  // namespace
}  // namespace sw
