// Detector::interest() is what the Windows Event Log input asks Windows for when `event_ids:
// auto` is set. The promise: the alerts are the same as with every event. Checked by running the
// same inputs twice, once whole and once with the events outside the interest dropped, with the
// built-in detections and with the shipped rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/evtx_native.hpp"
#include "sessionwatch/pipeline.hpp"

namespace sw {
namespace {

namespace fs = std::filesystem;

struct Collect : EventSink {
  std::vector<Event> events;
  void on_event(Event& e) override { events.push_back(e); }
  void on_error(const DecodeError&) override {}
};

std::vector<Event> read_xml(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  Collect sink;
  decode_xml_stream(text.str(), path, sink);
  return std::move(sink.events);
}

std::vector<Event> read_evtx(const std::string& path) {
  std::string error;
  auto reader = open_native_evtx(path, error);
  EXPECT_TRUE(reader) << path << ": " << error;
  Collect sink;
  if (reader) reader->read(sink);
  return std::move(sink.events);
}

std::unique_ptr<Detector> make_detector(bool shipped_rules) {
  DetectorOptions options;
  if (shipped_rules) options.rule_paths = {std::string(SW_SOURCE_DIR) + "/rules"};
  // As a scan does: files read one after another are seen in time order.
  options.tracker.reorder_window = 30LL * 86400 * kTicksPerSecond;
  options.tracker.max_buffered_events = 500000;
  std::vector<std::string> problems;
  auto detector = Detector::create(options, problems);
  for (const std::string& p : problems) ADD_FAILURE() << p;
  return detector;
}

struct Outcome {
  std::vector<std::string> alerts;  // whole ECS documents, sorted
  std::size_t events_used = 0;
};

Outcome detect(std::vector<Event> events, bool shipped_rules, bool filter) {
  auto detector = make_detector(shipped_rules);
  Outcome out;
  if (!detector) return out;
  const EventInterest interest = detector->interest();
  auto on_alert = [&](Alert&& a) { out.alerts.push_back(alert_to_json(a).dump()); };
  for (Event& e : events) {
    if (filter && !interest.accepts(e.channel(), e.event_id)) continue;
    ++out.events_used;
    detector->process(e, on_alert);
  }
  detector->flush(on_alert);
  std::sort(out.alerts.begin(), out.alerts.end());
  return out;
}

// Security noise a busy server writes between the session events (process creation, special
// logons, firewall, Kerberos), with a record id each.
std::vector<Event> with_security_noise(std::vector<Event> events) {
  std::vector<Event> out;
  std::uint64_t record = 900000;
  for (Event& e : events) {
    for (std::uint32_t id : {4688u, 4672u, 5156u, 4769u}) {
      Event noise;
      noise.set_channel("Security");
      noise.set_provider_name("Microsoft-Windows-Security-Auditing");
      noise.set_computer(e.computer());
      noise.event_id = id;
      noise.record_id = ++record;
      noise.time_created = e.time_created;
      noise.add_field("SubjectUserName", "svc_backup");
      noise.add_field("Status", "0x0");
      out.push_back(std::move(noise));
    }
    out.push_back(std::move(e));
  }
  return out;
}

void expect_same_alerts(const std::vector<Event>& events, const std::string& what) {
  for (bool rules : {false, true}) {
    const Outcome whole = detect(events, rules, false);
    const Outcome filtered = detect(events, rules, true);
    EXPECT_EQ(filtered.alerts, whole.alerts)
        << what << (rules ? " (shipped rules)" : " (built-in detections)");
    std::cout << "[ interest ] " << what << (rules ? ", rules" : ", built-in") << ": "
              << filtered.events_used << " of " << whole.events_used << " events kept, "
              << whole.alerts.size() << " alerts\n";
  }
}

TEST(DetectorInterest, SecurityIsNarrowedAndTheRestReadWhole) {
  for (bool rules : {false, true}) {
    auto detector = make_detector(rules);
    ASSERT_TRUE(detector);
    const EventInterest interest = detector->interest();
    const auto security = interest.event_ids("Security");
    ASSERT_TRUE(security.has_value()) << interest.describe();
    for (std::uint32_t id : {4624u, 4634u, 4647u, 4778u, 4779u, 4800u, 4801u, 4625u}) {
      EXPECT_TRUE(interest.accepts("Security", id)) << id;
    }
    // Process creation feeds the shipped tscon/logoff rules only.
    EXPECT_EQ(interest.accepts("Security", 4688), rules);
    EXPECT_FALSE(interest.accepts("Security", 5156));
    EXPECT_FALSE(interest.accepts("Security", 4769));
    // Errors can be reported by any event elsewhere.
    EXPECT_TRUE(interest.accepts("Application", 1000));
    EXPECT_TRUE(
        interest.accepts("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", 41));
  }
}

TEST(DetectorInterest, SampleWithNoiseGivesTheSameAlerts) {
  std::vector<Event> events =
      read_xml(std::string(SW_SOURCE_DIR) + "/agent/cli/sample/sample_events.xml");
  ASSERT_GT(events.size(), 20u);
  const Outcome whole = detect(events, false, false);
  ASSERT_FALSE(whole.alerts.empty()) << "the sample raises alerts";
  const std::vector<Event> noisy = with_security_noise(std::move(events));
  expect_same_alerts(noisy, "embedded sample + Security noise");
  // The noise is what the filter takes away.
  EXPECT_LT(detect(noisy, false, true).events_used, noisy.size() / 2);
}

TEST(DetectorInterest, RdpLogsGiveTheSameAlerts) {
  std::vector<Event> events;
  const std::string dir = std::string(SW_TEST_DATA_DIR) + "/evtx/";
  for (const char* name :
       {"RDPAuth_Security.evtx", "RDPAuth_System.evtx", "RDPAuth_LocalSessionManager.evtx",
        "RDPAuth_RemoteConnectionManager.evtx", "ID4625_failed_login_account_restriction.evtx"}) {
    std::vector<Event> file = read_evtx(dir + name);
    std::move(file.begin(), file.end(), std::back_inserter(events));
  }
  ASSERT_GT(events.size(), 100u);
  expect_same_alerts(events, "tests/data/evtx");
}

TEST(DetectorInterest, EveryCorpusEvtxGivesTheSameAlerts) {
  const fs::path corpus = fs::path(SW_SHARED_DIR) / "corpus" / "evtx";
  if (!fs::exists(corpus))
    GTEST_SKIP() << "EVTX corpus not found in SW_SHARED_DIR (" << corpus << ")";
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
    if (entry.path().extension() == ".evtx") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const std::string& file : files) expect_same_alerts(read_evtx(file), file);
}

}  // namespace
}  // namespace sw
