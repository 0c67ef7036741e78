// Every session event type the product relies on, decoded from crafted fixtures in the three
// renderings seen in the field (wevtutil, <Events> exports, python-evtx) plus WEF forwarding.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/decode_xml/collecting_sink.hpp"

namespace sw {
namespace {

using test::CollectingSink;
using test::payload_of;
using test::PayloadField;
using ::testing::ElementsAre;

constexpr auto kEventData = FieldOrigin::kEventData;
constexpr auto kUserData = FieldOrigin::kUserData;

const std::string kDataDir = std::string(SW_TEST_DATA_DIR) + "/xml/";

CollectingSink decode_fixture(const std::string& name) {
  const std::string data = test::read_file(kDataDir + name);
  EXPECT_FALSE(data.empty()) << "missing fixture " << name;
  CollectingSink sink;
  const DecodeStats stats = decode_xml_stream(data, name, sink);
  EXPECT_EQ(stats.records_read, sink.events.size());
  EXPECT_EQ(stats.records_bad, 0u);
  EXPECT_EQ(stats.bytes_read, data.size());
  for (const DecodeError& e : sink.errors) ADD_FAILURE() << e.position << ": " << e.reason;
  return sink;
}

const Event* find_event(const CollectingSink& sink, std::uint32_t id) {
  for (const Event& e : sink.events) {
    if (e.event_id == id) return &e;
  }
  return nullptr;
}

void expect_security_system(const Event& e, std::uint32_t id, std::uint8_t version,
                            std::uint16_t task, std::uint64_t keywords, std::uint64_t record,
                            std::uint32_t thread) {
  EXPECT_EQ(e.event_id, id);
  EXPECT_FALSE(e.has_qualifiers);
  EXPECT_EQ(e.version, version);
  EXPECT_EQ(e.level, 0);
  EXPECT_EQ(e.task, task);
  EXPECT_EQ(e.opcode, 0);
  EXPECT_EQ(e.keywords, keywords);
  EXPECT_EQ(e.record_id, record);
  EXPECT_EQ(e.process_id, 652u);
  EXPECT_EQ(e.thread_id, thread);
  EXPECT_EQ(e.provider_name(), "Microsoft-Windows-Security-Auditing");
  EXPECT_EQ(e.provider_guid(), "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  EXPECT_EQ(e.channel(), "Security");
  EXPECT_EQ(e.computer(), "ws01.corp.example");
  EXPECT_EQ(e.user_sid(), "");
  EXPECT_EQ(e.related_activity_id(), "");
  EXPECT_EQ(e.user_data_name(), "");
  EXPECT_EQ(e.message(), "");
}

constexpr std::string_view kAliceSid = "S-1-5-21-1004336348-1177238915-682003330-1105";
constexpr std::string_view kActivity = "{B2C1A7E0-5D3F-0001-41A8-C1B23F5DD901}";

TEST(XmlSecurityEvents, WevtutilStreamYieldsEightEventsInOrder) {
  const CollectingSink sink = decode_fixture("security_session_wevtutil.xml");
  std::vector<std::uint32_t> ids;
  std::vector<std::uint64_t> offsets;
  for (const Event& e : sink.events) {
    ids.push_back(e.event_id);
    offsets.push_back(e.source_offset);
    EXPECT_EQ(e.origin(), "security_session_wevtutil.xml");
  }
  EXPECT_THAT(ids, ElementsAre(4624, 4625, 4634, 4647, 4778, 4779, 4800, 4801));
  EXPECT_THAT(offsets, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
}

TEST(XmlSecurityEvents, Logon4624) {
  const CollectingSink sink = decode_fixture("security_session_wevtutil.xml");
  const Event* e = find_event(sink, 4624);
  ASSERT_NE(e, nullptr);
  expect_security_system(*e, 4624, 2, 12544, 0x8020000000000000ull, 904211, 7120);
  EXPECT_EQ(e->activity_id(), kActivity);
  EXPECT_EQ(e->time_created, 17101449020000000 + 5123456);
  EXPECT_EQ(format_time(e->time_created), "2024-03-11T08:15:02.5123456Z");
  EXPECT_THAT(
      payload_of(*e),
      ElementsAre(PayloadField{"SubjectUserSid", "S-1-5-18", kEventData},
                  PayloadField{"SubjectUserName", "WS01$", kEventData},
                  PayloadField{"SubjectDomainName", "CORP", kEventData},
                  PayloadField{"SubjectLogonId", "0x3e7", kEventData},
                  PayloadField{"TargetUserSid", std::string(kAliceSid), kEventData},
                  PayloadField{"TargetUserName", "alice", kEventData},
                  PayloadField{"TargetDomainName", "CORP", kEventData},
                  // zero-padded upper-case hex is canonicalized
                  PayloadField{"TargetLogonId", "0x4a3f21", kEventData},
                  PayloadField{"LogonType", "10", kEventData},
                  // trailing space is data, not formatting
                  PayloadField{"LogonProcessName", "User32 ", kEventData},
                  PayloadField{"AuthenticationPackageName", "Negotiate", kEventData},
                  PayloadField{"WorkstationName", "WS01", kEventData},
                  PayloadField{"LogonGuid", "{5F2B8C41-9A3D-4E6B-8C11-2D4F6A8B0C1E}", kEventData},
                  PayloadField{"TransmittedServices", "-", kEventData},
                  PayloadField{"LmPackageName", "-", kEventData},
                  PayloadField{"KeyLength", "0", kEventData},
                  PayloadField{"ProcessId", "0x1f4c", kEventData},
                  PayloadField{"ProcessName", "C:\\Windows\\System32\\svchost.exe", kEventData},
                  PayloadField{"IpAddress", "10.20.30.40", kEventData},
                  PayloadField{"IpPort", "0", kEventData},
                  PayloadField{"ImpersonationLevel", "%%1833", kEventData},
                  PayloadField{"RestrictedAdminMode", "%%1843", kEventData},
                  PayloadField{"TargetOutboundUserName", "-", kEventData},
                  PayloadField{"TargetOutboundDomainName", "-", kEventData},
                  PayloadField{"VirtualAccount", "%%1843", kEventData},
                  PayloadField{"TargetLinkedLogonId", "0x4a3f05", kEventData},
                  PayloadField{"ElevatedToken", "%%1842", kEventData}));
}

TEST(XmlSecurityEvents, FailedLogon4625) {
  const CollectingSink sink = decode_fixture("security_session_wevtutil.xml");
  const Event* e = find_event(sink, 4625);
  ASSERT_NE(e, nullptr);
  expect_security_system(*e, 4625, 0, 12544, 0x8010000000000000ull, 904198, 7044);
  EXPECT_EQ(format_time(e->time_created), "2024-03-11T08:14:40.0012000Z");
  EXPECT_THAT(
      payload_of(*e),
      ElementsAre(PayloadField{"SubjectUserSid", "S-1-5-18", kEventData},
                  PayloadField{"SubjectUserName", "WS01$", kEventData},
                  PayloadField{"SubjectDomainName", "CORP", kEventData},
                  PayloadField{"SubjectLogonId", "0x3e7", kEventData},
                  PayloadField{"TargetUserSid", "S-1-0-0", kEventData},
                  PayloadField{"TargetUserName", "alice", kEventData},
                  PayloadField{"TargetDomainName", "CORP", kEventData},
                  PayloadField{"Status", "0xc000006d", kEventData},
                  PayloadField{"FailureReason", "%%2313", kEventData},
                  PayloadField{"SubStatus", "0xc000006a", kEventData},
                  PayloadField{"LogonType", "10", kEventData},
                  PayloadField{"LogonProcessName", "User32 ", kEventData},
                  PayloadField{"AuthenticationPackageName", "Negotiate", kEventData},
                  PayloadField{"WorkstationName", "WS01", kEventData},
                  PayloadField{"TransmittedServices", "-", kEventData},
                  PayloadField{"LmPackageName", "-", kEventData},
                  PayloadField{"KeyLength", "0", kEventData},
                  PayloadField{"ProcessId", "0x1f4c", kEventData},
                  PayloadField{"ProcessName", "C:\\Windows\\System32\\svchost.exe", kEventData},
                  PayloadField{"IpAddress", "10.20.30.40", kEventData},
                  PayloadField{"IpPort", "0", kEventData}));
}

TEST(XmlSecurityEvents, Logoff4634And4647) {
  const CollectingSink sink = decode_fixture("security_session_wevtutil.xml");
  const Event* logoff = find_event(sink, 4634);
  ASSERT_NE(logoff, nullptr);
  expect_security_system(*logoff, 4634, 0, 12545, 0x8020000000000000ull, 904377, 5312);
  EXPECT_EQ(logoff->activity_id(), "");  // <Correlation/>
  EXPECT_EQ(format_time(logoff->time_created), "2024-03-11T09:02:11.7000000Z");
  EXPECT_THAT(payload_of(*logoff),
              ElementsAre(PayloadField{"TargetUserSid", std::string(kAliceSid), kEventData},
                          PayloadField{"TargetUserName", "alice", kEventData},
                          PayloadField{"TargetDomainName", "CORP", kEventData},
                          PayloadField{"TargetLogonId", "0x4a3f21", kEventData},
                          PayloadField{"LogonType", "10", kEventData}));

  const Event* initiated = find_event(sink, 4647);
  ASSERT_NE(initiated, nullptr);
  expect_security_system(*initiated, 4647, 0, 12545, 0x8020000000000000ull, 904376, 5400);
  EXPECT_EQ(initiated->activity_id(), kActivity);
  EXPECT_EQ(format_time(initiated->time_created), "2024-03-11T09:02:10.1234567Z");
  EXPECT_THAT(payload_of(*initiated),
              ElementsAre(PayloadField{"TargetUserSid", std::string(kAliceSid), kEventData},
                          PayloadField{"TargetUserName", "alice", kEventData},
                          PayloadField{"TargetDomainName", "CORP", kEventData},
                          PayloadField{"TargetLogonId", "0x4a3f21", kEventData}));
}

TEST(XmlSecurityEvents, SessionReconnect4778AndDisconnect4779) {
  const CollectingSink sink = decode_fixture("security_session_wevtutil.xml");
  for (std::uint32_t id : {4778u, 4779u}) {
    const Event* e = find_event(sink, id);
    ASSERT_NE(e, nullptr) << id;
    expect_security_system(*e, id, 0, 12551, 0x8020000000000000ull, id == 4778 ? 904301 : 904290,
                           id == 4778 ? 1056 : 628);
    EXPECT_THAT(payload_of(*e),
                ElementsAre(PayloadField{"AccountName", "alice", kEventData},
                            PayloadField{"AccountDomain", "CORP", kEventData},
                            PayloadField{"LogonID", "0x4a3f21", kEventData},
                            PayloadField{"SessionName", "RDP-Tcp#3", kEventData},
                            PayloadField{"ClientName", "LAPTOP-7Q2", kEventData},
                            PayloadField{"ClientAddress", "10.20.30.40", kEventData}));
  }
  EXPECT_EQ(format_time(find_event(sink, 4778)->time_created), "2024-03-11T08:40:00.0000001Z");
  EXPECT_EQ(format_time(find_event(sink, 4779)->time_created), "2024-03-11T08:35:12.9999999Z");
}

TEST(XmlSecurityEvents, WorkstationLocked4800AndUnlocked4801) {
  const CollectingSink sink = decode_fixture("security_session_wevtutil.xml");
  for (std::uint32_t id : {4800u, 4801u}) {
    const Event* e = find_event(sink, id);
    ASSERT_NE(e, nullptr) << id;
    expect_security_system(*e, id, 0, 12551, 0x8020000000000000ull, id == 4800 ? 904280 : 904285,
                           id == 4800 ? 3312 : 3316);
    EXPECT_THAT(payload_of(*e),
                ElementsAre(PayloadField{"TargetUserSid", std::string(kAliceSid), kEventData},
                            PayloadField{"TargetUserName", "alice", kEventData},
                            PayloadField{"TargetDomainName", "CORP", kEventData},
                            PayloadField{"TargetLogonId", "0x4a3f21", kEventData},
                            PayloadField{"SessionId", "2", kEventData}));
  }
  EXPECT_EQ(format_time(find_event(sink, 4801)->time_created), "2024-03-11T08:33:00.2500000Z");
}

// --- TerminalServices-LocalSessionManager/Operational: payload in UserData/EventXML ---

struct LsmCase {
  std::uint32_t id;
  std::uint64_t record;
  std::uint32_t thread;
  const char* time;
  bool has_activity;
  std::vector<PayloadField> payload;
};

TEST(XmlLocalSessionManager, EveryEventTypeWithUserData) {
  const CollectingSink sink = decode_fixture("lsm_operational_events.xml");
  const std::vector<LsmCase> cases = {
      {21,
       5101,
       2588,
       "2024-03-11T08:15:03.0000000Z",
       true,
       {{"User", "CORP\\alice", kUserData},
        {"SessionID", "2", kUserData},
        {"Address", "10.20.30.40", kUserData}}},
      {22,
       5102,
       2588,
       "2024-03-11T08:15:03.1000000Z",
       true,
       {{"User", "CORP\\alice", kUserData},
        {"SessionID", "2", kUserData},
        {"Address", "10.20.30.40", kUserData}}},
      {23,
       5110,
       2604,
       "2024-03-11T09:02:12.0000000Z",
       false,
       {{"User", "CORP\\alice", kUserData}, {"SessionID", "2", kUserData}}},
      {24,
       5105,
       1844,
       "2024-03-11T08:35:13.0000000Z",
       true,
       {{"User", "CORP\\alice", kUserData},
        {"SessionID", "2", kUserData},
        {"Address", "10.20.30.40", kUserData}}},
      {25,
       5107,
       1844,
       "2024-03-11T08:40:01.0000000Z",
       true,
       {{"User", "CORP\\alice", kUserData},
        {"SessionID", "2", kUserData},
        {"Address", "10.20.30.40", kUserData}}},
      {39,
       5103,
       1844,
       "2024-03-11T08:35:12.5000000Z",
       true,
       {{"TargetSession", "2", kUserData}, {"Source", "3", kUserData}}},
      {40,
       5104,
       1844,
       "2024-03-11T08:35:12.6000000Z",
       true,
       {{"Session", "2", kUserData}, {"Reason", "5", kUserData}}},
      {41,
       5106,
       1844,
       "2024-03-11T08:40:00.9000000Z",
       true,
       {{"User", "CORP\\alice", kUserData}, {"SessionID", "2", kUserData}}},
      {42,
       5108,
       1844,
       "2024-03-11T08:40:01.5000000Z",
       true,
       {{"User", "CORP\\alice", kUserData}, {"SessionID", "2", kUserData}}},
  };
  ASSERT_EQ(sink.events.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const LsmCase& c = cases[i];
    const Event& e = sink.events[i];
    SCOPED_TRACE(c.id);
    EXPECT_EQ(e.event_id, c.id);
    EXPECT_EQ(e.version, 0);
    EXPECT_EQ(e.level, 4);
    EXPECT_EQ(e.task, 0);
    EXPECT_EQ(e.opcode, 0);
    EXPECT_EQ(e.keywords, 0x1000000000000000ull);
    EXPECT_EQ(format_time(e.time_created), c.time);
    EXPECT_EQ(e.record_id, c.record);
    EXPECT_EQ(e.activity_id(), c.has_activity ? "{F420125D-74D2-4A42-ACDF-984926B10000}" : "");
    EXPECT_EQ(e.process_id, 904u);
    EXPECT_EQ(e.thread_id, c.thread);
    EXPECT_EQ(e.provider_name(), "Microsoft-Windows-TerminalServices-LocalSessionManager");
    EXPECT_EQ(e.provider_guid(), "{5d896912-022d-40aa-a3a8-4fa5515c76d7}");
    EXPECT_EQ(e.channel(), "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational");
    EXPECT_EQ(e.computer(), "ws01.corp.example");
    EXPECT_EQ(e.user_sid(), "S-1-5-18");
    EXPECT_EQ(e.user_data_name(), "EventXML");
    EXPECT_EQ(payload_of(e), c.payload);
  }
}

TEST(XmlRemoteConnectionManager, Logon1149ParamsFromUserData) {
  const CollectingSink sink = decode_fixture("rcm_1149.xml");
  ASSERT_EQ(sink.events.size(), 1u);
  const Event& e = sink.events[0];
  EXPECT_EQ(e.event_id, 1149u);
  EXPECT_EQ(e.version, 0);
  EXPECT_EQ(e.level, 4);
  EXPECT_EQ(e.task, 0);
  EXPECT_EQ(e.opcode, 0);
  EXPECT_EQ(e.keywords, 0x1000000000000000ull);
  EXPECT_EQ(format_time(e.time_created), "2024-03-11T08:15:01.9876543Z");
  EXPECT_EQ(e.record_id, 77120u);
  EXPECT_EQ(e.activity_id(), "{F4202E5D-74D2-4A42-ACDF-984926B20000}");
  EXPECT_EQ(e.process_id, 1188u);
  EXPECT_EQ(e.thread_id, 1464u);
  EXPECT_EQ(e.provider_name(), "Microsoft-Windows-TerminalServices-RemoteConnectionManager");
  EXPECT_EQ(e.provider_guid(), "{c76baa63-ae81-421c-b425-340b4b24157f}");
  EXPECT_EQ(e.channel(), "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational");
  EXPECT_EQ(e.computer(), "ws01.corp.example");
  EXPECT_EQ(e.user_sid(), "S-1-5-20");
  EXPECT_EQ(e.user_data_name(), "EventXML");
  EXPECT_THAT(payload_of(e), ElementsAre(PayloadField{"Param1", "alice", kUserData},
                                         PayloadField{"Param2", "CORP", kUserData},
                                         PayloadField{"Param3", "10.20.30.40", kUserData}));
}

TEST(XmlSystemEvents, WinlogonAndUser32FromPythonEvtxRendering) {
  const CollectingSink sink = decode_fixture("system_winlogon_python_evtx.xml");
  ASSERT_EQ(sink.events.size(), 3u);

  const Event& logon = sink.events[0];
  EXPECT_EQ(logon.event_id, 7001u);
  EXPECT_EQ(logon.task, 1101);
  EXPECT_EQ(logon.level, 4);
  EXPECT_EQ(logon.keywords, 0x2000200000000000ull);
  // python-evtx's "2024-03-11 08:15:04.250000": space separator, microseconds, no zone.
  EXPECT_EQ(format_time(logon.time_created), "2024-03-11T08:15:04.2500000Z");
  EXPECT_EQ(logon.record_id, 31001u);
  EXPECT_EQ(logon.activity_id(), "");
  EXPECT_EQ(logon.related_activity_id(), "");
  EXPECT_EQ(logon.process_id, 5460u);
  EXPECT_EQ(logon.thread_id, 5664u);
  EXPECT_EQ(logon.provider_name(), "Microsoft-Windows-Winlogon");
  EXPECT_EQ(logon.provider_guid(), "{dbe9b383-7cf3-4331-91cc-a3cb16a3b538}");
  EXPECT_EQ(logon.channel(), "System");
  EXPECT_EQ(logon.computer(), "ws01.corp.example");
  EXPECT_EQ(logon.user_sid(), "S-1-5-18");
  EXPECT_THAT(payload_of(logon),
              ElementsAre(PayloadField{"TSId", "2", kEventData},
                          PayloadField{"UserSid", std::string(kAliceSid), kEventData}));

  const Event& logoff = sink.events[1];
  EXPECT_EQ(logoff.event_id, 7002u);
  EXPECT_EQ(logoff.task, 1102);
  EXPECT_EQ(format_time(logoff.time_created), "2024-03-11T09:02:12.5000010Z");
  EXPECT_EQ(logoff.thread_id, 5700u);
  EXPECT_THAT(payload_of(logoff),
              ElementsAre(PayloadField{"TSId", "2", kEventData},
                          PayloadField{"UserSid", std::string(kAliceSid), kEventData}));

  const Event& shutdown = sink.events[2];
  EXPECT_EQ(shutdown.event_id, 1074u);
  EXPECT_TRUE(shutdown.has_qualifiers);
  EXPECT_EQ(shutdown.qualifiers, 32768);
  EXPECT_EQ(shutdown.keywords, 0x8080000000000000ull);
  EXPECT_EQ(shutdown.time_created, 17101479000000000);  // "2024-03-11 09:05:00", no fraction
  EXPECT_EQ(shutdown.provider_name(), "User32");
  EXPECT_EQ(shutdown.provider_guid(), "{b0aa8734-56f7-41cc-b2f4-de228e98b946}");
  EXPECT_EQ(shutdown.user_sid(), kAliceSid);
  EXPECT_THAT(
      payload_of(shutdown),
      ElementsAre(
          PayloadField{"param1", "C:\\Windows\\System32\\RuntimeBroker.exe (WS01)", kEventData},
          PayloadField{"param2", "WS01", kEventData},
          PayloadField{"param3", "Other (Unplanned)", kEventData},
          PayloadField{"param4", "0x0", kEventData}, PayloadField{"param5", "restart", kEventData},
          PayloadField{"param6", "", kEventData},
          PayloadField{"param7", "CORP\\alice", kEventData}));
}

TEST(XmlForwardedEvents, RenderingInfoMessageBecomesMessage) {
  const CollectingSink sink = decode_fixture("forwarded_4624.xml");
  ASSERT_EQ(sink.events.size(), 1u);
  const Event& e = sink.events[0];
  EXPECT_EQ(e.event_id, 4624u);
  EXPECT_EQ(e.version, 2);
  EXPECT_EQ(e.task, 12544);
  EXPECT_EQ(e.keywords, 0x8020000000000000ull);
  EXPECT_EQ(format_time(e.time_created), "2024-03-11T08:20:30.1111111Z");
  EXPECT_EQ(e.record_id, 1200456u);
  EXPECT_EQ(e.activity_id(), "{A67BE420-4636-0001-36E4-7BA63646D701}");
  EXPECT_EQ(e.process_id, 576u);
  EXPECT_EQ(e.thread_id, 5164u);
  EXPECT_EQ(e.channel(), "Security");
  EXPECT_EQ(e.computer(), "fs02.corp.example");
  EXPECT_EQ(e.message(),
            "An account was successfully logged on.\r\n\nSubject:\r\n\tSecurity ID:\t\tS-1-0-0\r\n"
            "\tAccount Name:\t\t-\r\n\nNew Logon:\r\n\tAccount Name:\t\tbob\r\n"
            "\tAccount Domain:\t\tCORP\r\n\nLogon Type:\t\t\t3");
  std::string scratch;
  EXPECT_EQ(field_value(e, fields::Message, scratch), e.message());
  // RenderingInfo's own Level/Task/Channel texts never override the System members.
  EXPECT_EQ(e.level, 0);
  EXPECT_EQ(e.payload("Level"), std::nullopt);
  ASSERT_EQ(e.fields().size(), 14u);
  EXPECT_EQ(test::field_or(e, "TargetUserName"), "bob");
  EXPECT_EQ(test::field_or(e, "LogonProcessName"), "NtLmSsp ");
  EXPECT_EQ(test::field_or(e, "IpPort"), "49822");
}

}  // namespace
}  // namespace sw
