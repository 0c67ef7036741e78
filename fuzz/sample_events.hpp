// A few events of the kinds rules look at (a refused logon, a session event, a derived event),
// for targets that need something to match a fuzzed rule against.
#pragma once

#include <vector>

#include "sessionwatch/event.hpp"

namespace sw::fuzz {

inline std::vector<Event> sample_events() {
  std::vector<Event> events(3);
  Ticks t = 1'613'133'268LL * kTicksPerSecond;
  for (Event& e : events) {
    e.time_created = (t += 60 * kTicksPerSecond);
    e.set_computer("WS01.corp.example");
    e.set_provider_name("Microsoft-Windows-Security-Auditing");
  }
  events[0].event_id = 4625;
  events[0].record_id = 1;
  events[0].set_channel("Security");
  events[0].add_field("TargetUserName", "bob");
  events[0].add_field("TargetDomainName", "CORP");
  events[0].add_field("Status", "0xc000015b");
  events[0].add_field("SubStatus", "0x0");
  events[0].add_field("LogonType", "10");
  events[0].add_field("IpAddress", "10.20.30.41");
  events[1].event_id = 21;
  events[1].record_id = 2;
  events[1].set_channel("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational");
  events[1].add_field("User", "CORP\\alice", FieldOrigin::kUserData);
  events[1].add_field("SessionID", "1", FieldOrigin::kUserData);
  events[1].add_field("Address", "LOCAL", FieldOrigin::kUserData);
  events[2].event_id = 7063;
  events[2].record_id = 3;
  events[2].set_channel("sessionwatch");
  events[2].set_message(
      "The user CORP\\alice is already logged on to the console of this computer.");
  events[2].add_field("sessionwatch.error_code", "7063", FieldOrigin::kExtra);
  events[2].add_field("sessionwatch.requester", "CORP\\bob", FieldOrigin::kExtra);
  return events;
}

}  // namespace sw::fuzz
