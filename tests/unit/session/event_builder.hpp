// Builds the Windows events the session tracker reads, by hand, in the shapes Windows renders
// them (field names and order as in the velociraptor capture), and collects what the tracker
// and the built-in detections produce.
#pragma once

#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sessionwatch/alert_builder.hpp"
#include "sessionwatch/event.hpp"
#include "sessionwatch/session.hpp"

namespace sw::test {

inline constexpr std::string_view kLsmChannel =
    "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational";
inline constexpr std::string_view kLsmProvider =
    "Microsoft-Windows-TerminalServices-LocalSessionManager";
inline constexpr std::string_view kRcmChannel =
    "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational";
inline constexpr std::string_view kRcmProvider =
    "Microsoft-Windows-TerminalServices-RemoteConnectionManager";

using Pairs = std::initializer_list<std::pair<std::string_view, std::string_view>>;

inline Ticks at(std::string_view iso) {
  return parse_time(iso).value();
}

class EventBuilder {
 public:
  EventBuilder(std::string_view channel, std::string_view provider, std::uint32_t id,
               std::string_view time, std::uint64_t record, std::string_view computer) {
    e_.set_channel(channel);
    e_.set_provider_name(provider);
    e_.set_computer(computer);
    e_.event_id = id;
    e_.time_created = at(time);
    e_.record_id = record;
  }
  EventBuilder& data(Pairs pairs) {
    for (auto [k, v] : pairs) e_.add_field(k, v, FieldOrigin::kEventData);
    return *this;
  }
  EventBuilder& user_data(Pairs pairs) {
    e_.set_user_data_name("EventXML");
    for (auto [k, v] : pairs) e_.add_field(k, v, FieldOrigin::kUserData);
    return *this;
  }
  EventBuilder& activity(std::string_view a) {
    e_.set_activity_id(a);
    return *this;
  }
  EventBuilder& message(std::string_view m) {
    e_.set_message(m);
    return *this;
  }
  EventBuilder& user_sid(std::string_view s) {
    e_.set_user_sid(s);
    return *this;
  }
  Event build() const { return e_; }
  operator Event() const { return e_; }

 private:
  Event e_;
};

inline EventBuilder lsm(std::uint32_t id, std::string_view time, std::uint64_t record, Pairs fields,
                        std::string_view activity = {},
                        std::string_view computer = "WS-FIN-07.corp.example") {
  EventBuilder b(kLsmChannel, kLsmProvider, id, time, record, computer);
  b.user_data(fields);
  if (!activity.empty()) b.activity(activity);
  return b;
}

inline EventBuilder security(std::uint32_t id, std::string_view time, std::uint64_t record,
                             Pairs fields, std::string_view computer = "WS-FIN-07.corp.example") {
  EventBuilder b("Security", "Microsoft-Windows-Security-Auditing", id, time, record, computer);
  b.data(fields);
  return b;
}

inline EventBuilder rcm1149(std::string_view time, std::uint64_t record, std::string_view user,
                            std::string_view domain, std::string_view address,
                            std::string_view computer = "WS-FIN-07.corp.example") {
  EventBuilder b(kRcmChannel, kRcmProvider, 1149, time, record, computer);
  b.user_data({{"Param1", user}, {"Param2", domain}, {"Param3", address}});
  return b;
}

inline EventBuilder system(std::string_view provider, std::uint32_t id, std::string_view time,
                           std::uint64_t record, Pairs fields = {},
                           std::string_view computer = "WS-FIN-07.corp.example") {
  EventBuilder b("System", provider, id, time, record, computer);
  b.data(fields);
  return b;
}

inline EventBuilder logon(std::string_view time, std::uint64_t record, std::string_view user,
                          std::string_view domain, std::string_view sid, int type,
                          std::string_view logon_id, std::string_view ip = "-",
                          std::string_view computer = "WS-FIN-07.corp.example") {
  const std::string type_text = std::to_string(type);
  return security(4624, time, record,
                  {{"SubjectUserSid", "S-1-5-18"},
                   {"TargetUserSid", sid},
                   {"TargetUserName", user},
                   {"TargetDomainName", domain},
                   {"TargetLogonId", logon_id},
                   {"LogonType", type_text},
                   {"IpAddress", ip}},
                  computer);
}

inline EventBuilder logoff(std::string_view time, std::uint64_t record, std::string_view user,
                           std::string_view domain, int type, std::string_view logon_id,
                           std::string_view computer = "WS-FIN-07.corp.example") {
  const std::string type_text = std::to_string(type);
  return security(4634, time, record,
                  {{"TargetUserName", user},
                   {"TargetDomainName", domain},
                   {"TargetLogonId", logon_id},
                   {"LogonType", type_text}},
                  computer);
}

// Keeps copies of everything the tracker releases and runs the built-in detections on it.
class Collector : public TrackerSink {
 public:
  struct Derived {
    Event event;
    std::vector<EvidenceRef> evidence;
  };
  void on_event(Event& event) override {
    events.push_back(event);
    if (tracker) {
      const AlertContext ctx = tracker->alert_context(event);
      detections.on_event(event, {}, &ctx, alerts);
    }
  }
  bool wants_event(const Event& event) const override {
    return !event_filter || event_filter(event);
  }
  bool wants_derived(std::uint32_t event_id) const override {
    return wanted.empty() || wanted.count(event_id) > 0;
  }
  void on_derived(Event& event, const std::vector<EvidenceRef>& evidence) override {
    derived.push_back(Derived{event, evidence});
    if (tracker) {
      const AlertContext ctx = tracker->alert_context(event);
      detections.on_event(event, evidence, &ctx, alerts);
    }
  }
  std::vector<const Derived*> of_kind(std::string_view kind) const {
    std::vector<const Derived*> out;
    for (const Derived& d : derived) {
      if (d.event.payload("Kind") == kind) out.push_back(&d);
    }
    return out;
  }
  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (const Derived& d : derived) out.emplace_back(d.event.payload("Kind").value_or("?"));
    return out;
  }

  const SessionTracker* tracker = nullptr;
  std::set<std::uint32_t> wanted;                  // derived event ids wanted; empty: all
  std::function<bool(const Event&)> event_filter;  // events wanted; unset: all
  BuiltinDetections detections;
  std::vector<Event> events;
  std::vector<Derived> derived;
  std::vector<Alert> alerts;
};

// A tracker wired to a collector.
struct Harness {
  explicit Harness(TrackerOptions options = {}) : tracker(options, collector) {
    collector.tracker = &tracker;
  }
  void push(std::vector<Event> events) {
    for (Event& e : events) tracker.push(e);
  }
  void run(std::vector<Event> events) {
    push(std::move(events));
    tracker.flush();
  }
  Collector collector;
  SessionTracker tracker;
};

}  // namespace sw::test
