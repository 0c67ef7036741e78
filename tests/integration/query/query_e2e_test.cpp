// The live "who holds the console?" query end to end: the real `sessionwatch run` follows a file
// the test appends the embedded sample's events to, and is asked over HTTP, by `sessionwatch who`
// and by `sessionwatch report --from-agent`.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "integration/daemon/agent_process.hpp"
#include "integration/shell_run.hpp"

namespace {

using namespace sw_test;
using json = nlohmann::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr const char* kToken = "query-e2e-token-0123456789abcdef";

struct Reply {
  int status = 0;  // 0: no answer (not listening yet)
  std::string body;
  // The JSON answer; an empty object when there was none (the agent not listening yet).
  json doc() const {
    json j = json::parse(body, nullptr, false);
    return j.is_discarded() ? json::object() : j;
  }
};

Reply http_get(std::uint16_t port, const std::string& target, const std::string& token = "") {
  Reply reply;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::empty_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "127.0.0.1");
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    reply.status = static_cast<int>(response.result_int());
    reply.body = response.body();
  } catch (const std::exception&) {
    reply.status = 0;
  }
  return reply;
}

// A port nobody listens on now (the kernel's pick, released for the agent).
std::uint16_t free_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

// Polls `done` until it holds or the deadline passes; no fixed sleeps in the tests.
bool eventually(const std::function<bool()>& done, std::chrono::seconds deadline = 30s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

std::vector<std::string> sample_events() {
  std::ifstream in(std::string(SW_SOURCE_DIR) + "/agent/cli/sample/sample_events.xml");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("<Event", 0) == 0 && line.rfind("<Events", 0) != 0) lines.push_back(line);
  }
  return lines;
}

class QueryE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(binary())) GTEST_SKIP() << "sessionwatch binary not built: " << binary();
    dir_ = fs::temp_directory_path() /
           ("sw_query_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    events_ = sample_events();
    ASSERT_GT(events_.size(), 20u);
    port_ = free_port();
  }
  void TearDown() override {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "agent log:\n%s\n", read_file(log()).c_str());
    }
    fs::remove_all(dir_);
  }

  fs::path config() const { return dir_ / "sessionwatch.yaml"; }
  fs::path log() const { return dir_ / "agent.log"; }
  std::string agent_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void write_config(const std::string& metrics) {
    std::ofstream(config()) << "agent:\n  data_dir: " << (dir_ / "data").string() << "\n"
                            << "inputs:\n  - type: file\n    name: sample\n    paths: ["
                            << (dir_ / "in" / "*.xml").string() << "]\n    format: xml\n"
                            << "outputs:\n  - type: file\n    path: "
                            << (dir_ / "alerts.jsonl").string() << "\n"
                            << "metrics:\n"
                            << metrics;
  }

  // Appends the sample's events [from, to) to the followed file, as Windows would write them.
  void append_events(std::size_t from, std::size_t to) {
    std::ofstream out(dir_ / "in" / "events.xml", std::ios::app);
    for (std::size_t i = from; i < to && i < events_.size(); ++i) out << events_[i] << "\n";
  }

  // The first sample event at alice's unlock (17:40): before it she holds the locked console.
  std::size_t unlock_index() const {
    for (std::size_t i = 0; i < events_.size(); ++i) {
      if (events_[i].find("T17:40:00") != std::string::npos) return i;
    }
    return events_.size();
  }

  ShellRun who(const std::string& args) { return run_shell(binary() + " who " + args + " 2>&1"); }

  json console_of(const std::string& host, const std::string& token = "") {
    return http_get(port_, "/v1/hosts/" + host + "/console", token).doc();
  }

  fs::path dir_;
  std::vector<std::string> events_;
  std::uint16_t port_ = 0;
};

TEST_F(QueryE2E, EachEndpointAndWhoAnswerAndALogoffChangesTheAnswer) {
  write_config("  listen: 127.0.0.1:" + std::to_string(port_) + "\n");
  append_events(0, unlock_index());
  Agent agent(config(), log());
  ASSERT_TRUE(agent.started());

  // Every refusal of the first part is in once the 14:05 one is: the answer is complete.
  ASSERT_TRUE(eventually([&] {
    const json r = http_get(port_, "/v1/hosts/ws-fin-07/refusals").doc();
    return r.is_object() && r.value("total", 0) == 4;
  })) << http_get(port_, "/v1/hosts/ws-fin-07/refusals").body;

  const json hosts = http_get(port_, "/v1/hosts").doc();
  ASSERT_EQ(hosts.value("count", 0), 1) << hosts;
  EXPECT_EQ(hosts["hosts"][0]["name"], "WS-FIN-07.corp.example");
  EXPECT_EQ(hosts["hosts"][0]["console"]["holder"], "CORP\\alice");
  EXPECT_EQ(hosts["hosts"][0]["console"]["state"], "locked");

  const json console = console_of("WS-FIN-07");
  EXPECT_EQ(console["console"]["session_id"], 1);
  EXPECT_EQ(console["console"]["since"], "2026-11-20T12:15:00.0000000Z");
  ASSERT_FALSE(console["sources"].empty()) << console;
  EXPECT_EQ(console["sources"].back()["event_id"], 4800);
  EXPECT_EQ(console["sources"].back()["file"], (dir_ / "in" / "events.xml").string());
  EXPECT_EQ(console_of("ws-fin-07.CORP.example")["console"], console["console"])
      << "the FQDN in any case names the same computer";

  // Session lists are published within a budget (docs/query.md): they may trail the console.
  const auto sessions_of = [&] { return http_get(port_, "/v1/hosts/ws-fin-07/sessions").doc(); };
  ASSERT_TRUE(eventually([&] { return sessions_of()["sessions"].size() == 1u; })) << sessions_of();
  const json sessions = sessions_of();
  EXPECT_TRUE(sessions["sessions"][0]["console"].get<bool>());
  EXPECT_EQ(sessions["sessions"][0]["user"], "alice");

  const json since =
      http_get(port_, "/v1/hosts/ws-fin-07/refusals?since=2026-11-20T14:00:00Z").doc();
  ASSERT_EQ(since["refusals"].size(), 1u) << since;
  EXPECT_EQ(since["refusals"][0]["requester"], "CORP\\svc-inventory");

  const ShellRun held = who("ws-fin-07 --agent " + agent_url());
  EXPECT_EQ(held.exit_code, 0) << held.out;
  for (const char* line :
       {"console held by CORP\\alice (session 1)", "state: locked since 2026-11-20 12:15:00 UTC",
        "quser /server:WS-FIN-07.corp.example", "logoff 1 /server:WS-FIN-07.corp.example",
        "2026-11-20 13:02:08 UTC  CORP\\bob from 10.20.30.41  inferred", "Security event 4800"}) {
    EXPECT_NE(held.out.find(line), std::string::npos) << line << " not in:\n" << held.out;
  }

  append_events(unlock_index(), events_.size());  // alice unlocks and logs off
  ASSERT_TRUE(eventually([&] { return console_of("ws-fin-07")["console"]["state"] == "none"; }))
      << console_of("ws-fin-07");
  EXPECT_TRUE(console_of("ws-fin-07")["console"]["holder"].is_null());
  EXPECT_EQ(console_of("ws-fin-07")["sources"].back()["event_id"], 4647);
  EXPECT_TRUE(eventually([&] { return sessions_of()["sessions"].empty(); })) << sessions_of();
  const ShellRun free = who("WS-FIN-07 --agent " + agent_url());
  EXPECT_EQ(free.exit_code, 0) << free.out;
  EXPECT_NE(free.out.find("nobody holds the console"), std::string::npos) << free.out;
  EXPECT_EQ(free.out.find("logoff 1"), std::string::npos) << free.out;

  // The same state as a page: one mark per refusal the agent keeps.
  const fs::path page = dir_ / "now.html";
  const ShellRun report = run_shell(binary() + " report --from-agent " + agent_url() + " -o " +
                                    page.string() + " 2>&1");
  ASSERT_EQ(report.exit_code, 0) << report.out;
  const std::string html = read_file(page);
  EXPECT_NE(html.find("WS-FIN-07.corp.example"), std::string::npos);
  // A local: the loop would otherwise walk a member of a temporary already destroyed.
  const json refusals =
      http_get(port_, "/v1/hosts/ws-fin-07/refusals").doc().value("refusals", json::array());
  ASSERT_FALSE(refusals.empty());
  for (const json& r : refusals) {
    EXPECT_NE(html.find("data-alert-id=\"" + r["id"].get<std::string>() + "\""), std::string::npos);
  }
}

TEST_F(QueryE2E, BadOrUnknownHostsGetAClearAnswer) {
  write_config("  listen: 127.0.0.1:" + std::to_string(port_) + "\n");
  append_events(0, events_.size());
  Agent agent(config(), log());
  ASSERT_TRUE(
      eventually([&] { return http_get(port_, "/v1/hosts").doc().value("count", 0) == 1; }));

  const Reply unknown = http_get(port_, "/v1/hosts/ws-fin-99/console");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.doc().value("error", "").find("unknown computer 'ws-fin-99'"),
            std::string::npos)
      << unknown.body;
  const Reply malformed = http_get(port_, "/v1/hosts/ws%2Ffin/console");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.doc().value("error", "").find("is not a computer name"), std::string::npos)
      << malformed.body;

  const ShellRun who_unknown = who("ws-fin-99 --agent " + agent_url());
  EXPECT_EQ(who_unknown.exit_code, 1) << who_unknown.out;
  EXPECT_NE(who_unknown.out.find("unknown computer 'ws-fin-99'"), std::string::npos)
      << who_unknown.out;
  const ShellRun who_bad = who("'ws fin' --agent " + agent_url());
  EXPECT_EQ(who_bad.exit_code, 2) << who_bad.out;
  EXPECT_NE(who_bad.out.find("is not a computer name"), std::string::npos) << who_bad.out;
}

TEST_F(QueryE2E, WhoSaysSoWhenNoAgentListens) {
  const ShellRun r = who("ws-fin-07 --agent " + agent_url());
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("cannot reach the agent at " + agent_url()), std::string::npos) << r.out;
}

TEST_F(QueryE2E, BeyondLoopbackEveryRequestNeedsTheToken) {
  const std::string listen = "  listen: 0.0.0.0:" + std::to_string(port_) + "\n";
  write_config(listen);
  const ShellRun refused = run_shell(binary() + " check -c " + config().string() + " 2>&1");
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  EXPECT_NE(refused.out.find("set metrics.token or metrics.token_file"), std::string::npos)
      << refused.out;

  const fs::path token_file = dir_ / "token";
  std::ofstream(token_file) << kToken << "\n";
  write_config(listen + "  token_file: " + token_file.string() + "\n");
  const ShellRun accepted = run_shell(binary() + " check -c " + config().string() + " 2>&1");
  EXPECT_EQ(accepted.exit_code, 0) << accepted.out;
  EXPECT_EQ(accepted.out.find(kToken), std::string::npos) << "check printed the token";

  append_events(0, events_.size());
  Agent agent(config(), log());
  ASSERT_TRUE(eventually([&] { return http_get(port_, "/healthz", kToken).status == 200; }));
  for (const char* target : {"/v1/hosts", "/v1/hosts/ws-fin-07/console", "/metrics", "/healthz"}) {
    EXPECT_EQ(http_get(port_, target).status, 401) << target;
    EXPECT_EQ(http_get(port_, target, std::string(kToken) + "x").status, 401) << target;
    EXPECT_EQ(http_get(port_, target, std::string(kToken).substr(1)).status, 401) << target;
  }
  ASSERT_TRUE(
      eventually([&] { return console_of("ws-fin-07", kToken)["console"]["state"] == "none"; }));

  const ShellRun without = who("ws-fin-07 --agent " + agent_url());
  EXPECT_EQ(without.exit_code, 3) << without.out;
  EXPECT_NE(without.out.find("wants a bearer token"), std::string::npos) << without.out;
  const ShellRun with =
      who("ws-fin-07 --agent " + agent_url() + " --token-file " + token_file.string());
  EXPECT_EQ(with.exit_code, 0) << with.out;
  const ShellRun from_env = run_shell("SESSIONWATCH_TOKEN=" + std::string(kToken) + " " + binary() +
                                      " who ws-fin-07 --agent " + agent_url() + " 2>&1");
  EXPECT_EQ(from_env.exit_code, 0) << from_env.out;

  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(30s), 0);
  EXPECT_EQ(read_file(log()).find(kToken), std::string::npos) << "the agent logged its token";
}

}  // namespace
