// EvtxReader over real EVTX fixtures. Expected counts come from python-evtx, which shares no code
// with libevtx; expected values from the files' own content.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "oracle/evtx/evtx_oracle.hpp"
#include "unit/decode_xml/collecting_sink.hpp"

namespace sw {
namespace {

using test::CollectingSink;
using test::field_or;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const std::string kEvtxDir = std::string(SW_TEST_DATA_DIR) + "/evtx/";

struct ReadResult {
  CollectingSink sink;
  DecodeStats stats;
  std::uint64_t hint = 0;
};

ReadResult read_fixture(const std::string& name, std::uint64_t after = 0) {
  ReadResult r;
  std::string error;
  auto reader = open_oracle_evtx(kEvtxDir + name, error);
  EXPECT_NE(reader, nullptr) << error;
  if (!reader) return r;
  r.hint = reader->record_count_hint();
  r.stats = reader->read(r.sink, after);
  return r;
}

std::vector<std::string> values_of(const CollectingSink& sink, std::uint32_t id,
                                   std::string_view field) {
  std::vector<std::string> out;
  for (const Event& e : sink.events) {
    if (e.event_id == id) out.push_back(field_or(e, field));
  }
  return out;
}

const Event* first_event(const CollectingSink& sink, std::uint32_t id) {
  for (const Event& e : sink.events) {
    if (e.event_id == id) return &e;
  }
  return nullptr;
}

TEST(EvtxReader, MissingFileIsAnErrorNamingIt) {
  std::string error;
  EXPECT_EQ(open_oracle_evtx(kEvtxDir + "no-such-file.evtx", error), nullptr);
  EXPECT_THAT(error, HasSubstr("no-such-file.evtx"));
}

TEST(EvtxReader, NonEvtxFileIsRefusedByLibevtx) {
  std::string error;
  EXPECT_EQ(open_oracle_evtx(kEvtxDir + "README.md", error), nullptr);
  EXPECT_THAT(error, HasSubstr("README.md"));
  EXPECT_THAT(error, HasSubstr("libevtx could not open it as an EVTX file"));
}

TEST(EvtxReader, LocalSessionManagerCountsAndFields) {
  const ReadResult r = read_fixture("RDPAuth_LocalSessionManager.evtx");
  EXPECT_EQ(r.hint, 17u);
  EXPECT_EQ(r.stats.records_read, 17u);
  EXPECT_EQ(r.stats.records_bad, 0u);
  EXPECT_TRUE(r.sink.errors.empty());
  EXPECT_EQ(r.stats.bytes_read, 69632u);
  EXPECT_THAT(r.sink.counts_by_event_id(),
              ElementsAre(Pair(21, 1), Pair(22, 1), Pair(23, 2), Pair(24, 2), Pair(25, 1),
                          Pair(32, 1), Pair(40, 4), Pair(41, 2), Pair(42, 2), Pair(54, 1)));
  EXPECT_THAT(values_of(r.sink, 40, "Reason"), ElementsAre("5", "0", "5", "12"));
  EXPECT_THAT(values_of(r.sink, 21, "Address"), ElementsAre("LOCAL"));
  EXPECT_THAT(values_of(r.sink, 24, "Address"), ElementsAre("LOCAL", "192.168.38.1"));

  const Event* reconnect = first_event(r.sink, 25);
  ASSERT_NE(reconnect, nullptr);
  EXPECT_EQ(field_or(*reconnect, "Address"), "192.168.38.1");
  EXPECT_EQ(field_or(*reconnect, "User"), "WINDOMAIN\\vagrant");
  EXPECT_EQ(field_or(*reconnect, "SessionID"), "1");
  EXPECT_EQ(reconnect->user_data_name(), "EventXML");
  EXPECT_EQ(format_time(reconnect->time_created), "2021-02-12T12:34:30.9512982Z");
  EXPECT_EQ(reconnect->record_id, 176u);
  EXPECT_EQ(reconnect->source_offset, 176u);
  EXPECT_EQ(reconnect->activity_id(), "{F4205BAC-1B01-40FC-AEEF-3C971C730000}");
  EXPECT_EQ(reconnect->process_id, 740u);
  EXPECT_EQ(reconnect->thread_id, 764u);
  EXPECT_EQ(reconnect->keywords, 0x1000000000000000ull);
  EXPECT_EQ(reconnect->level, 4);
  EXPECT_EQ(reconnect->user_sid(), "S-1-5-18");
  EXPECT_EQ(reconnect->computer(), "dc.windomain.local");
  EXPECT_EQ(reconnect->channel(),
            "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational");
  EXPECT_EQ(reconnect->origin(), kEvtxDir + "RDPAuth_LocalSessionManager.evtx");

  std::uint64_t previous = 0;
  for (const Event& e : r.sink.events) {
    EXPECT_GT(e.record_id, previous) << "records out of order";
    previous = e.record_id;
  }
  ASSERT_FALSE(r.sink.progress.empty());
  EXPECT_EQ(r.sink.progress.back().first, 69632u);
  EXPECT_EQ(r.sink.progress.back().second, 69632u);
}

TEST(EvtxReader, RemoteConnectionManager1149) {
  const ReadResult r = read_fixture("RDPAuth_RemoteConnectionManager.evtx");
  EXPECT_EQ(r.stats.records_read, 4u);
  EXPECT_THAT(r.sink.counts_by_event_id(),
              ElementsAre(Pair(258, 1), Pair(261, 1), Pair(1136, 1), Pair(1149, 1)));
  const Event* logon = first_event(r.sink, 1149);
  ASSERT_NE(logon, nullptr);
  EXPECT_EQ(field_or(*logon, "Param1"), "vagrant");
  EXPECT_EQ(field_or(*logon, "Param2"), "");
  EXPECT_EQ(field_or(*logon, "Param3"), "192.168.38.1");
  EXPECT_EQ(format_time(logon->time_created), "2021-02-12T12:34:25.6064230Z");
  EXPECT_EQ(logon->record_id, 35u);
}

TEST(EvtxReader, SecuritySessionEvents) {
  const ReadResult r = read_fixture("RDPAuth_Security.evtx");
  EXPECT_EQ(r.hint, 789u);
  EXPECT_EQ(r.stats.records_read, 789u);
  EXPECT_TRUE(r.sink.errors.empty());
  const auto counts = r.sink.counts_by_event_id();
  EXPECT_EQ(counts.at(4624), 67);
  EXPECT_EQ(counts.at(4627), 67);
  EXPECT_EQ(counts.at(4634), 32);
  EXPECT_EQ(counts.at(4647), 2);
  EXPECT_EQ(counts.at(4672), 57);
  EXPECT_EQ(counts.at(4688), 107);
  EXPECT_EQ(counts.at(4778), 1);
  EXPECT_EQ(counts.at(4779), 1);
  EXPECT_EQ(counts.size(), 42u);

  std::map<std::string, int> logon_types;
  for (const std::string& t : values_of(r.sink, 4624, "LogonType")) ++logon_types[t];
  EXPECT_THAT(logon_types, UnorderedElementsAre(Pair("0", 1), Pair("2", 8), Pair("3", 37),
                                                Pair("5", 19), Pair("10", 2)));

  const Event* reconnect = first_event(r.sink, 4778);
  ASSERT_NE(reconnect, nullptr);
  EXPECT_EQ(field_or(*reconnect, "SessionName"), "RDP-Tcp#0");
  EXPECT_EQ(field_or(*reconnect, "ClientName"), "silversurfer");
  EXPECT_EQ(field_or(*reconnect, "ClientAddress"), "192.168.38.1");
  EXPECT_EQ(field_or(*reconnect, "AccountDomain"), "WINDOMAIN");
  EXPECT_EQ(field_or(*reconnect, "LogonID"), "0x513da");  // libevtx pads it to 16 digits
  EXPECT_EQ(format_time(reconnect->time_created), "2021-02-12T12:34:30.0502110Z");
  EXPECT_EQ(reconnect->record_id, 506531u);
  EXPECT_EQ(reconnect->task, 12551);
  EXPECT_EQ(reconnect->provider_guid(), "{54849625-5478-4994-A5BA-3E3B0328C30D}");

  EXPECT_THAT(values_of(r.sink, 4779, "SessionName"), ElementsAre("Console"));
}

TEST(EvtxReader, SystemWinlogonAndUser32) {
  const ReadResult r = read_fixture("RDPAuth_System.evtx");
  EXPECT_EQ(r.stats.records_read, 186u);
  const auto counts = r.sink.counts_by_event_id();
  EXPECT_EQ(counts.at(7001), 1);
  EXPECT_EQ(counts.at(7002), 2);
  EXPECT_EQ(counts.at(1074), 1);
  EXPECT_EQ(counts.at(7036), 128);
  EXPECT_THAT(values_of(r.sink, 7002, "TSId"), ElementsAre("3", "1"));
  EXPECT_THAT(values_of(r.sink, 7002, "UserSid"),
              ElementsAre("S-1-5-21-3648566514-1342408385-4134854909-1000",
                          "S-1-5-21-3648566514-1342408385-4134854909-1000"));
  const Event* shutdown = first_event(r.sink, 1074);
  ASSERT_NE(shutdown, nullptr);
  EXPECT_EQ(shutdown->provider_name(), "User32");
  EXPECT_TRUE(shutdown->has_qualifiers);
  EXPECT_EQ(shutdown->qualifiers, 32768);
  EXPECT_EQ(field_or(*shutdown, "param5"), "restart");
  EXPECT_EQ(field_or(*shutdown, "param6"), "");
  EXPECT_EQ(field_or(*shutdown, "param7"), "WINDOMAIN\\vagrant");
  EXPECT_EQ(format_time(shutdown->time_created), "2021-02-12T12:32:40.9204516Z");
  const Event* service = first_event(r.sink, 7036);
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->provider_name(), "Service Control Manager");
}

TEST(EvtxReader, ReadsOnlyRecordsAfterACheckpoint) {
  const ReadResult all = read_fixture("RDPAuth_LocalSessionManager.evtx");
  ASSERT_EQ(all.sink.events.size(), 17u);
  const std::uint64_t checkpoint = all.sink.events[9].record_id;
  const ReadResult rest = read_fixture("RDPAuth_LocalSessionManager.evtx", checkpoint);
  ASSERT_EQ(rest.sink.events.size(), 7u);
  EXPECT_EQ(rest.sink.events.front().record_id, all.sink.events[10].record_id);
  for (const Event& e : rest.sink.events) EXPECT_GT(e.record_id, checkpoint);
  const ReadResult none = read_fixture("RDPAuth_LocalSessionManager.evtx", ~0ull);
  EXPECT_TRUE(none.sink.events.empty());
  EXPECT_TRUE(none.sink.errors.empty());
}

TEST(EvtxReader, RecoveredRecordsAreSeparateAndNotDuplicates) {
  std::string error;
  auto reader = open_oracle_evtx(kEvtxDir + "RDPAuth_LocalSessionManager.evtx", error);
  ASSERT_NE(reader, nullptr) << error;
  CollectingSink allocated;
  reader->read(allocated);
  std::set<std::uint64_t> allocated_ids;
  for (const Event& e : allocated.events) allocated_ids.insert(e.record_id);

  CollectingSink recovered;
  const DecodeStats stats = reader->read_recovered(recovered);
  std::set<std::uint64_t> recovered_ids;
  for (const Event& e : recovered.events) {
    EXPECT_EQ(allocated_ids.count(e.record_id), 0u) << e.record_id;
    recovered_ids.insert(e.record_id);
  }
  // `evtxexport -m recovered` finds these three older records in the file's slack space.
  EXPECT_THAT(recovered_ids, ElementsAre(125, 160, 161));
  EXPECT_EQ(stats.records_read, recovered.events.size());
  const Event* logoff = nullptr;
  for (const Event& e : recovered.events) {
    if (e.record_id == 160) logoff = &e;
  }
  ASSERT_NE(logoff, nullptr);
  EXPECT_EQ(logoff->event_id, 41u);
  EXPECT_EQ(field_or(*logoff, "User"), "WINDOMAIN\\vagrant");
}

TEST(EvtxReader, FailedLogonFromEvtxToMitreAttack) {
  const ReadResult r = read_fixture("ID4625_failed_login_account_restriction.evtx");
  ASSERT_EQ(r.stats.records_read, 2u);
  for (const Event& e : r.sink.events) {
    EXPECT_EQ(e.event_id, 4625u);
    EXPECT_EQ(e.computer(), "FS03.offsec.lan");
    EXPECT_EQ(field_or(e, "Status"), "0xc000006e");
    EXPECT_EQ(field_or(e, "SubStatus"), "0x0");
    EXPECT_EQ(field_or(e, "LogonType"), "10");
    EXPECT_EQ(field_or(e, "SubjectLogonId"), "0x3e7");
  }
  EXPECT_EQ(format_time(r.sink.events[0].time_created), "2021-10-23T21:50:11.6665197Z");
  EXPECT_EQ(r.sink.events[0].record_id, 90907u);
}

TEST(EvtxReader, FileLibevtxCannotDecodeIsReportedRecordByRecord) {
  const std::string name = "ID1149_RDP_success_logins_to_multiple_hosts.evtx";
  const ReadResult r = read_fixture(name);
  EXPECT_EQ(r.hint, 11u);
  EXPECT_EQ(r.stats.records_read, 0u);
  EXPECT_EQ(r.stats.records_bad, 11u);
  ASSERT_EQ(r.sink.errors.size(), 12u);
  for (std::size_t i = 0; i < 11; ++i) {
    EXPECT_EQ(r.sink.errors[i].origin, kEvtxDir + name);
    EXPECT_EQ(r.sink.errors[i].position, i + 1);
    EXPECT_THAT(r.sink.errors[i].reason, HasSubstr("libevtx could not"));
    // libevtx's innermost cause is kept, since only it says what is wrong with the data.
    EXPECT_THAT(r.sink.errors[i].reason, HasSubstr("(cause: libfwevt_xml_document_read"));
  }
  EXPECT_THAT(r.sink.errors[0].reason, HasSubstr("unsupported type: 0x05"));
  const DecodeError& verdict = r.sink.errors.back();
  EXPECT_THAT(verdict.reason, HasSubstr(name));
  EXPECT_THAT(verdict.reason, HasSubstr("libevtx could not decode any of its 11 records"));
}

}  // namespace
}  // namespace sw
