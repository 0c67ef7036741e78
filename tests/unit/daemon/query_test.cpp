// The live query state and its API answers, driven by the detector the agent builds
// (make_detector with the state-change hook) over the sample bundled in the binary.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/engine.hpp"
#include "daemon/query.hpp"
#include "daemon/query_api.hpp"
#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/decode.hpp"

namespace sw::daemon {
namespace {

using json = nlohmann::json;

// The sample's <Event> lines (the <Events> wrapper left out), in file order.
std::vector<std::string> sample_events() {
  std::ifstream in(std::string(SW_SOURCE_DIR) + "/agent/cli/sample/sample_events.xml");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("<Event ", 0) == 0 || line.rfind("<Event>", 0) == 0) lines.push_back(line);
  }
  return lines;
}

// Index of the first sample event at or after alice's unlock (17:40): before it she holds the
// locked console.
std::size_t unlock_index(const std::vector<std::string>& lines) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("T17:40:00") != std::string::npos) return i;
  }
  return lines.size();
}

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lines_ = sample_events();
    ASSERT_GT(lines_.size(), 20u);
    Config config;
    std::vector<std::string> problems;
    detector_ = make_detector(config, problems, 0, live_);
    ASSERT_TRUE(detector_);
  }

  void feed(std::size_t from, std::size_t to,
            std::size_t session_records = LiveState::kAllSessions) {
    XmlEventDecoder decoder;
    for (std::size_t i = from; i < to && i < lines_.size(); ++i) {
      Event e;
      std::string error;
      ASSERT_TRUE(decoder.decode(lines_[i], e, error)) << error;
      e.set_origin("sample_events.xml");
      e.source_offset = i + 2;
      const LiveState::CauseScope cause(live_.get(), e);
      detector_->process(e, [&](Alert&& a) { live_->on_alert(a); });
    }
    live_->publish(detector_->tracker(), session_records);
  }

  json get(const std::string& target, int expected_status = 200) {
    const HttpReply reply =
        answer_query(*live_, target, parse_time("2026-11-21T00:00:00Z").value());
    EXPECT_EQ(reply.status, expected_status) << target << ": " << reply.body;
    return json::parse(reply.body);
  }

  std::vector<std::string> lines_;
  std::shared_ptr<LiveState> live_ = std::make_shared<LiveState>();
  std::unique_ptr<Detector> detector_;
};

TEST_F(QueryTest, ConsoleNamesTheLockedHolderAndTheEventThatSaidSo) {
  feed(0, unlock_index(lines_));
  const json console = get("/v1/hosts/WS-FIN-07/console");
  EXPECT_EQ(console["host"], "WS-FIN-07.corp.example");
  EXPECT_EQ(console["console"]["state"], "locked");
  EXPECT_EQ(console["console"]["holder"], "CORP\\alice");
  EXPECT_EQ(console["console"]["session_id"], 1);
  EXPECT_EQ(console["console"]["since"], "2026-11-20T12:15:00.0000000Z");
  ASSERT_FALSE(console["sources"].empty());
  const json& last = console["sources"].back();
  EXPECT_EQ(last["channel"], "Security");
  EXPECT_EQ(last["event_id"], 4800);
  EXPECT_EQ(last["file"], "sample_events.xml");
  EXPECT_EQ(console["remediation"]["logoff"], "logoff 1 /server:WS-FIN-07.corp.example");
  EXPECT_EQ(console["remediation"]["quser"], "quser /server:WS-FIN-07.corp.example");
}

TEST_F(QueryTest, TheAnswerChangesWhenTheHolderLogsOff) {
  feed(0, unlock_index(lines_));
  EXPECT_EQ(get("/v1/hosts/ws-fin-07/console")["console"]["state"], "locked");
  EXPECT_EQ(get("/v1/hosts/ws-fin-07/sessions")["sessions"].size(), 1u);
  feed(unlock_index(lines_), lines_.size());
  const json console = get("/v1/hosts/ws-fin-07/console");
  EXPECT_EQ(console["console"]["state"], "none");
  EXPECT_TRUE(console["console"]["holder"].is_null());
  EXPECT_FALSE(console["remediation"].contains("logoff"));
  EXPECT_TRUE(get("/v1/hosts/ws-fin-07/sessions")["sessions"].empty());
}

TEST_F(QueryTest, TheConsoleIsPublishedAtOnceAndSessionListsWithinTheirBudget) {
  feed(0, unlock_index(lines_), 0);
  EXPECT_EQ(get("/v1/hosts/ws-fin-07/console")["console"]["state"], "locked");
  EXPECT_TRUE(get("/v1/hosts/ws-fin-07/sessions")["sessions"].empty());
  EXPECT_TRUE(live_->sessions_behind());
  live_->publish(detector_->tracker(), 1);  // no new event: the list catches up on its own
  EXPECT_FALSE(live_->sessions_behind());
  EXPECT_EQ(get("/v1/hosts/ws-fin-07/sessions")["sessions"].size(), 1u);
}

// Without the query API (metrics off) nothing is copied for it; once it is on again (a restart
// of the pipeline), marking every computer makes the view whole.
TEST_F(QueryTest, AViewNobodyCanAskForCopiesNothingAndIsWholeOnceEnabled) {
  live_->set_enabled(false);
  feed(0, unlock_index(lines_));
  EXPECT_EQ(live_->find("WS-FIN-07"), nullptr);
  EXPECT_FALSE(live_->sessions_behind());
  live_->set_enabled(true);
  live_->mark_all(detector_->tracker());
  live_->publish(detector_->tracker());
  EXPECT_EQ(get("/v1/hosts/ws-fin-07/console")["console"]["state"], "locked");
  EXPECT_EQ(get("/v1/hosts/ws-fin-07/sessions")["sessions"].size(), 1u);
}

TEST_F(QueryTest, AViewSharesTheSessionListItsChangeLeftAlone) {
  feed(0, unlock_index(lines_));
  const auto before = live_->find("WS-FIN-07");
  Alert alert;
  alert.host = "WS-FIN-07.corp.example";
  live_->on_alert(alert);
  live_->publish(detector_->tracker());
  const auto after = live_->find("WS-FIN-07");
  ASSERT_NE(before, after);
  EXPECT_EQ(after->refusals->total, (before->refusals ? before->refusals->total : 0) + 1);
  EXPECT_EQ(before->sessions.get(), after->sessions.get());  // shared, not copied
}

TEST_F(QueryTest, AComputerIsFoundByFqdnOrShortNameInAnyCase) {
  feed(0, lines_.size());
  for (const char* name : {"WS-FIN-07", "ws-fin-07", "WS-FIN-07.corp.example",
                           "ws-fin-07.CORP.EXAMPLE", "Ws-Fin-07"}) {
    EXPECT_EQ(get(std::string("/v1/hosts/") + name + "/console")["host"], "WS-FIN-07.corp.example")
        << name;
  }
  const json hosts = get("/v1/hosts");
  ASSERT_EQ(hosts["count"], 1);
  EXPECT_EQ(hosts["hosts"][0]["short_name"], "WS-FIN-07");
  EXPECT_EQ(hosts["hosts"][0]["refusals"], 4);
}

TEST_F(QueryTest, RefusalsKeepTheirFactsAndFilterBySince) {
  feed(0, lines_.size());
  const json all = get("/v1/hosts/ws-fin-07/refusals");
  ASSERT_EQ(all["refusals"].size(), 4u);
  EXPECT_EQ(all["total"], 4);
  EXPECT_EQ(all["dropped"], 0);
  const json& first = all["refusals"][0];
  EXPECT_EQ(first["requester"], "CORP\\bob");
  EXPECT_EQ(first["address"], "10.20.30.41");
  EXPECT_EQ(first["holder"], "CORP\\alice");
  EXPECT_EQ(first["holder_state"], "locked");
  EXPECT_EQ(first["detection"], "inferred");
  EXPECT_EQ(first["id"].get<std::string>().size(), 32u);
  const json later = get("/v1/hosts/ws-fin-07/refusals?since=2026-11-20T13:10:00Z");
  EXPECT_EQ(later["refusals"].size(), 2u);
  // A client may escape the colons.
  EXPECT_EQ(get("/v1/hosts/ws-fin-07/refusals?since=2026-11-20T13%3A10%3A00Z")["refusals"].size(),
            2u);
}

TEST_F(QueryTest, TheRefusalRingIsBounded) {
  live_ = std::make_shared<LiveState>(LiveStateOptions{3, 8, 10000});
  Config config;
  std::vector<std::string> problems;
  detector_ = make_detector(config, problems, 0, live_);
  feed(0, lines_.size());
  const json r = get("/v1/hosts/ws-fin-07/refusals");
  ASSERT_EQ(r["refusals"].size(), 3u);
  EXPECT_EQ(r["total"], 4);
  EXPECT_EQ(r["dropped"], 1);
  EXPECT_EQ(r["refusals"][2]["requester"], "CORP\\svc-inventory");  // the newest stays
}

TEST_F(QueryTest, RefusalsFromInputsOfDifferentPaceAreKeptInTimeOrder) {
  feed(0, lines_.size());
  Alert late;  // a tool's text line read after the Event Log, about an earlier time
  late.id = "0123456789abcdef0123456789abcdef";
  late.host = "WS-FIN-07";
  late.time = parse_time("2026-11-20T13:00:00Z").value();
  late.user = AlertUser{"carol", "CORP"};
  live_->on_alert(late);
  live_->publish(detector_->tracker());
  const json r = get("/v1/hosts/ws-fin-07/refusals");
  ASSERT_EQ(r["refusals"].size(), 5u);
  EXPECT_EQ(r["refusals"][0]["requester"], "CORP\\carol");
  for (std::size_t i = 1; i < r["refusals"].size(); ++i) {
    EXPECT_LE(r["refusals"][i - 1]["time"].get<std::string>(),
              r["refusals"][i]["time"].get<std::string>());
  }
}

TEST_F(QueryTest, BadRequestsGetAClearJsonError) {
  feed(0, lines_.size());
  const struct {
    std::string target;
    int status;
    std::string says;
  } cases[] = {
      {"/v1/hosts/nope/console", 404, "unknown computer 'nope'"},
      {"/v1/hosts/ws-fin-08.corp.example/sessions", 404, "unknown computer"},
      {"/v1/hosts/ws%20fin/console", 400, "is not a computer name"},
      {"/v1/hosts/..x/console", 400, "is not a computer name"},
      {"/v1/hosts/%ZZ/console", 400, "is not a computer name"},
      {"/v1/hosts/" + std::string(300, 'a') + "/console", 400, "is not a computer name"},
      {"/v1/hosts/ws-fin-07/owner", 404, "try /v1/hosts/ws-fin-07/console"},
      {"/v1/hosts/ws-fin-07", 404, "name what to ask"},
      {"/v1/elsewhere", 404, "try /v1/hosts"},
      {"/v1/hosts/ws-fin-07/refusals?since=yesterday", 400, "is not a UTC time"},
      {"/v1/hosts/ws-fin-07/refusals?limit=3", 400, "unknown parameter 'limit'"},
      {"/v1/hosts/ws-fin-07/console?since=2026-11-20", 400, "unknown parameter 'since'"},
      {"/v1/hosts/\xff\xfe/console", 400, "is not a computer name"},
  };
  for (const auto& c : cases) {
    const json body = get(c.target, c.status);
    ASSERT_TRUE(body.contains("error")) << c.target;
    EXPECT_NE(body["error"].get<std::string>().find(c.says), std::string::npos)
        << c.target << ": " << body["error"];
  }
}

TEST_F(QueryTest, ReadersOnAnotherThreadSeeWholeViewsWhileTheTrackerChanges) {
  // Run under ThreadSanitizer too: the listener's reads and the detection thread's publishing
  // share only the mutex-guarded map of immutable views.
  std::atomic<bool> done{false};
  std::atomic<int> answers{0};
  std::thread reader([&] {
    while (!done) {
      const HttpReply r = answer_query(*live_, "/v1/hosts/ws-fin-07/console", 0);
      if (r.status == 200) {
        const json j = json::parse(r.body);
        // A view is whole: a holder always comes with its state.
        if (!j["console"]["holder"].is_null()) {
          EXPECT_NE(j["console"]["state"], "none");
        }
      }
      answer_query(*live_, "/v1/hosts", 0);
      ++answers;
    }
  });
  for (int round = 0; round < 20; ++round) {  // one state across detectors, as across reloads
    Config config;
    std::vector<std::string> problems;
    detector_ = make_detector(config, problems, 0, live_);
    feed(0, lines_.size());
  }
  while (answers < 10) std::this_thread::yield();
  done = true;
  reader.join();
  EXPECT_EQ(get("/v1/hosts/ws-fin-07/console")["console"]["state"], "none");
}

}  // namespace
}  // namespace sw::daemon
