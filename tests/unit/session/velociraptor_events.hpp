// The session events of the velociraptor RDPAuth capture (host dc.windomain.local,
// 2021-02-12), transcribed field by field from `evtxexport -f xml` of
// ../shared/corpus/evtx/velociraptor/*.evtx (Velocidex/velociraptor test data, AGPL-3.0; see
// tests/data/session/README.md). Only the records the tracker reads are kept; network (type 3)
// and service (type 5) logons are left out.
#pragma once

#include <vector>

#include "unit/session/event_builder.hpp"

namespace sw::test {

inline constexpr std::string_view kDc = "dc.windomain.local";
inline constexpr std::string_view kConsoleActivity = "{61A55000-55E5-1017-0000-000000000000}";
inline constexpr std::string_view kRdpActivity = "{F4205BAC-1B01-40FC-AEEF-3C971C730000}";
inline constexpr std::string_view kVagrantSid = "S-1-5-21-3648566514-1342408385-4134854909-1000";

inline std::vector<Event> velociraptor_lsm() {
  auto ev = [](std::uint32_t id, std::string_view t, std::uint64_t rec, Pairs f,
               std::string_view act) { return lsm(id, t, rec, f, act, kDc).build(); };
  return {
      ev(23, "2021-02-12T12:32:43.3403792Z", 164,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "3"}}, kConsoleActivity),
      ev(41, "2021-02-12T12:33:51.9326563Z", 167,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "1"}}, kConsoleActivity),
      ev(42, "2021-02-12T12:33:51.9414417Z", 168,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "1"}}, kConsoleActivity),
      ev(21, "2021-02-12T12:33:52.7048364Z", 169,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "1"}, {"Address", "LOCAL"}},
         kConsoleActivity),
      ev(22, "2021-02-12T12:33:53.8481790Z", 170,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "1"}, {"Address", "LOCAL"}},
         kConsoleActivity),
      ev(41, "2021-02-12T12:34:28.2166221Z", 171,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "2"}}, kRdpActivity),
      ev(40, "2021-02-12T12:34:28.4262502Z", 172, {{"Session", "1"}, {"Reason", "5"}},
         kConsoleActivity),
      ev(24, "2021-02-12T12:34:28.9922768Z", 173,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "1"}, {"Address", "LOCAL"}},
         kConsoleActivity),
      ev(40, "2021-02-12T12:34:29.0594213Z", 174, {{"Session", "2"}, {"Reason", "0"}},
         kRdpActivity),
      ev(40, "2021-02-12T12:34:29.4158324Z", 175, {{"Session", "1"}, {"Reason", "5"}},
         kConsoleActivity),
      ev(25, "2021-02-12T12:34:30.9512982Z", 176,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "1"}, {"Address", "192.168.38.1"}},
         kRdpActivity),
      ev(42, "2021-02-12T12:34:30.9518871Z", 177,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "2"}}, kRdpActivity),
      ev(23, "2021-02-12T12:34:40.6322488Z", 178,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "1"}}, kRdpActivity),
      ev(40, "2021-02-12T12:34:41.0140022Z", 179, {{"Session", "1"}, {"Reason", "12"}},
         kRdpActivity),
      ev(24, "2021-02-12T12:34:41.1463972Z", 180,
         {{"User", "WINDOMAIN\\vagrant"}, {"SessionID", "1"}, {"Address", "192.168.38.1"}},
         kRdpActivity),
  };
}

inline std::vector<Event> velociraptor_rcm() {
  EventBuilder b = rcm1149("2021-02-12T12:34:25.6064230Z", 35, "vagrant", "", "192.168.38.1", kDc);
  b.activity(kRdpActivity);
  return {b.build()};
}

inline std::vector<Event> velociraptor_security() {
  auto sec = [](std::uint32_t id, std::string_view t, std::uint64_t rec, Pairs f) {
    return security(id, t, rec, f, kDc).build();
  };
  auto lo = [](std::string_view t, std::uint64_t rec, int type, std::string_view id,
               std::string_view ip) {
    return logon(t, rec, "vagrant", "WINDOMAIN", kVagrantSid, type, id, ip, kDc).build();
  };
  return {
      sec(4647, "2021-02-12T12:32:43.2904523Z", 505868,
          {{"TargetUserSid", kVagrantSid},
           {"TargetUserName", "vagrant"},
           {"TargetDomainName", "WINDOMAIN"},
           {"TargetLogonId", "0x00000000001febc5"}}),
      lo("2021-02-12T12:33:51.7249893Z", 506366, 2, "0x00000000000512d1", "127.0.0.1"),
      lo("2021-02-12T12:33:51.7252519Z", 506368, 2, "0x00000000000513da", "127.0.0.1"),
      lo("2021-02-12T12:34:28.1944372Z", 506508, 10, "0x00000000000ae31a", "192.168.38.1"),
      lo("2021-02-12T12:34:28.1946377Z", 506510, 10, "0x00000000000ae330", "192.168.38.1"),
      sec(4779, "2021-02-12T12:34:28.5433124Z", 506516,
          {{"AccountName", "vagrant"},
           {"AccountDomain", "WINDOMAIN"},
           {"LogonID", "0x00000000000513da"},
           {"SessionName", "Console"},
           {"ClientName", "Unknown"},
           {"ClientAddress", "LOCAL"}}),
      sec(4778, "2021-02-12T12:34:30.0502110Z", 506531,
          {{"AccountName", "vagrant"},
           {"AccountDomain", "WINDOMAIN"},
           {"LogonID", "0x00000000000513da"},
           {"SessionName", "RDP-Tcp#0"},
           {"ClientName", "silversurfer"},
           {"ClientAddress", "192.168.38.1"}}),
      sec(4634, "2021-02-12T12:34:31.1290657Z", 506534,
          {{"TargetUserSid", kVagrantSid},
           {"TargetUserName", "vagrant"},
           {"TargetDomainName", "WINDOMAIN"},
           {"TargetLogonId", "0x00000000000ae330"},
           {"LogonType", "10"}}),
      sec(4634, "2021-02-12T12:34:31.1291772Z", 506535,
          {{"TargetUserSid", kVagrantSid},
           {"TargetUserName", "vagrant"},
           {"TargetDomainName", "WINDOMAIN"},
           {"TargetLogonId", "0x00000000000ae31a"},
           {"LogonType", "10"}}),
      sec(4647, "2021-02-12T12:34:40.6092328Z", 506570,
          {{"TargetUserSid", kVagrantSid},
           {"TargetUserName", "vagrant"},
           {"TargetDomainName", "WINDOMAIN"},
           {"TargetLogonId", "0x00000000000513da"}}),
  };
}

inline std::vector<Event> velociraptor_system() {
  return {
      system("User32", 1074, "2021-02-12T12:32:40.9204516Z", 15393,
             {{"param1", "C:\\Windows\\System32\\RuntimeBroker.exe (DC)"},
              {"param2", "DC"},
              {"param3", "Other (Unplanned)"},
              {"param4", "0x0"},
              {"param5", "restart"},
              {"param6", ""},
              {"param7", "WINDOMAIN\\vagrant"}},
             kDc),
      system("EventLog", 6006, "2021-02-12T12:32:44.2562013Z", 15396, {}, kDc),
      system("Microsoft-Windows-Winlogon", 7002, "2021-02-12T12:32:43.4687578Z", 15398,
             {{"TSId", "3"}, {"UserSid", kVagrantSid}}, kDc),
      system("EventLog", 6005, "2021-02-12T12:33:10.5744631Z", 15427, {}, kDc),
      system("Microsoft-Windows-Winlogon", 7001, "2021-02-12T12:33:51.9425973Z", 15561,
             {{"TSId", "1"}, {"UserSid", kVagrantSid}}, kDc),
      system("Microsoft-Windows-Winlogon", 7002, "2021-02-12T12:34:40.7968518Z", 15576,
             {{"TSId", "1"}, {"UserSid", kVagrantSid}}, kDc),
  };
}

// The four files one after another, as `scan` reads them.
inline std::vector<Event> velociraptor_by_file() {
  std::vector<Event> all;
  for (auto part :
       {velociraptor_lsm(), velociraptor_rcm(), velociraptor_security(), velociraptor_system()}) {
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

}  // namespace sw::test
