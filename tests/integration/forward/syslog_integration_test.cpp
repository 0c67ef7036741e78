// Alerts through every syslog transport into a real rsyslog, checked field by field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "forward/outputs/relp/relp_output.hpp"
#include "forward/outputs/syslog/syslog_output.hpp"
#include "forward_test_util.hpp"
#include "rsyslog_harness.hpp"
#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/forward.hpp"

namespace sw::forward {
namespace {

detail::SyslogOptions& syslog(OutputConfig& c) {
  return detail::edit_options<detail::SyslogOptions>(c);
}

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::make_alert;
using testing::Received;
using testing::Rsyslog;
using testing::TempDir;

class SyslogIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!Rsyslog::available(why)) GTEST_SKIP() << why;
  }

  OutputConfig config(const std::string& url, Format format = Format::kRfc5424) {
    OutputConfig c;
    c.name = "it";
    c.type = url.rfind("relp", 0) == 0 ? "relp" : "syslog";
    c.format.format = format;
    c.format.cef_syslog_header = true;
    c.spool.dir = dir_.path() / "spool";
    c.retry.initial = 20ms;
    c.retry.max = 200ms;
    detail::Endpoints endpoints;
    endpoints.urls = {url};
    endpoints.connect_timeout = 2s;
    endpoints.io_timeout = 5s;
    if (c.type == "relp") {
      detail::edit_options<detail::RelpOptions>(c).endpoints = endpoints;
    } else {
      syslog(c).endpoints = endpoints;
      syslog(c).confirm_delay = 50ms;
    }
    return c;
  }

  std::unique_ptr<Output> make(const OutputConfig& c) {
    auto made = make_output(c);
    EXPECT_TRUE(made.output) << made.error;
    return std::move(made.output);
  }

  static std::vector<Alert> alerts(int from, int to) {
    std::vector<Alert> v;
    for (int i = from; i < to; ++i) v.push_back(make_alert(i));
    return v;
  }

  // What the collector received once every id of `sent` is among it (or `timeout` passed). A
  // line count is not enough: alerts resent after a reconnect arrive twice, so the count reaches
  // sent.size() while the last ones are still on their way into rsyslog's file.
  static std::vector<Received> wait_for_every_id(const Rsyslog& rsyslog,
                                                 const std::vector<Alert>& sent,
                                                 std::chrono::milliseconds timeout) {
    std::set<std::string> want;
    for (const auto& a : sent) want.insert(a.id);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      rsyslog.wait_for(sent.size(), timeout);
      std::vector<Received> got = rsyslog.received();
      std::set<std::string> seen;
      for (const auto& r : got) {
        auto doc = nlohmann::json::parse(r.msg, nullptr, false);
        if (!doc.is_discarded() && doc["event"]["id"].is_string()) seen.insert(doc["event"]["id"]);
      }
      if (std::includes(seen.begin(), seen.end(), want.begin(), want.end()) ||
          std::chrono::steady_clock::now() >= deadline)
        return got;
      std::this_thread::sleep_for(50ms);
    }
  }

  // Every expected id arrived; anything extra is a duplicate of an expected id.
  static void expect_all_once_or_duplicated(const std::vector<Received>& got,
                                            const std::vector<Alert>& sent) {
    std::set<std::string> want;
    for (const auto& a : sent) want.insert(a.id);
    std::map<std::string, int> seen;
    for (const auto& r : got) {
      auto doc = nlohmann::json::parse(r.msg, nullptr, false);
      ASSERT_FALSE(doc.is_discarded()) << r.msg;
      std::string id = doc["event"]["id"];
      EXPECT_TRUE(want.count(id)) << "unexpected id " << id;
      ++seen[id];
    }
    EXPECT_EQ(seen.size(), want.size()) << "alerts lost";
  }

  TempDir dir_;
};

TEST_F(SyslogIntegration, TcpOctetCountedRfc5424FieldByField) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTcp);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  auto out = make(config(rsyslog.url()));
  auto sent = alerts(0, 50);
  ASSERT_TRUE(out->enqueue(sent).ok);
  out->start();
  ASSERT_TRUE(out->wait_drained(20s)) << out->metrics().last_error;
  out->stop();
  ASSERT_EQ(rsyslog.wait_for(50, 30s), 50U);
  auto got = rsyslog.received();
  ASSERT_EQ(got.size(), 50U);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const Alert& a = sent[i];
    EXPECT_EQ(got[i].facility, 10);  // authpriv
    EXPECT_EQ(got[i].severity, 3);   // high
    EXPECT_EQ(got[i].hostname, "WS01");
    EXPECT_EQ(got[i].app_name, "sessionwatch");
    EXPECT_EQ(got[i].msgid, "0b3a1c2e111142228333944455556666");
    EXPECT_EQ(got[i].structured_data,
              "[sessionwatch@32473 event_id=\"" + a.id +
                  "\" rule_id=\"0b3a1c2e-1111-4222-8333-944455556666\" rule_name=\"Console logon "
                  "refused (7063)\" level=\"high\" host=\"WS01\" user=\"alice\" domain=\"CORP\" "
                  "event_code=\"7063\"]");
    EXPECT_EQ(nlohmann::json::parse(got[i].msg), alert_to_json(a));
  }
  OutputMetrics m = out->metrics();
  EXPECT_EQ(m.sent, 50U);
  EXPECT_EQ(m.spool_records, 0U);
}

TEST_F(SyslogIntegration, TcpLineFeedFramingRfc3164) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTcp);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  OutputConfig c = config(rsyslog.url(), Format::kRfc3164);
  syslog(c).framing = detail::TcpFraming::kLineFeed;
  auto out = make(c);
  auto sent = alerts(0, 20);
  ASSERT_TRUE(out->enqueue(sent).ok);
  out->start();
  ASSERT_TRUE(out->wait_drained(20s)) << out->metrics().last_error;
  ASSERT_EQ(rsyslog.wait_for(20, 30s), 20U);
  auto got = rsyslog.received();
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].facility, 10);
    EXPECT_EQ(got[i].severity, 3);
    EXPECT_EQ(got[i].hostname, "WS01");
    EXPECT_EQ(got[i].app_name, "sessionwatch");
    // rsyslog keeps the space after "TAG:" in %msg% for RFC 3164.
    EXPECT_EQ(nlohmann::json::parse(got[i].msg), alert_to_json(sent[i]));
  }
}

TEST_F(SyslogIntegration, UdpDatagramsCef) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kUdp);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  auto out = make(config(rsyslog.url(), Format::kCef));
  auto sent = alerts(0, 10);
  ASSERT_TRUE(out->enqueue(sent).ok);
  out->start();
  ASSERT_TRUE(out->wait_drained(10s)) << out->metrics().last_error;
  ASSERT_EQ(rsyslog.wait_for(10, 30s), 10U);
  auto got = rsyslog.received();
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].app_name, "sessionwatch");
    EXPECT_EQ(got[i].hostname, "WS01");
    EXPECT_NE(got[i].msg.find("CEF:0|sessionwatch|sessionwatch|0.1|0b3a1c2e-1111-4222-8333-"
                              "944455556666|Console logon refused (7063)|8|"),
              std::string::npos)
        << got[i].msg;
    EXPECT_NE(got[i].msg.find("externalId=" + sent[i].id), std::string::npos);
  }
}

// An alert as the tracker builds it: the console holder, the attempt and the error.
Alert console_alert(int n) {
  Alert a = make_alert(n, "bob");
  a.detection = "inferred";
  a.error_code = 7063;
  a.attempt = AlertAttempt{"bob", "CORP", "10.20.30.41"};
  a.console = AlertConsole{"alice", "CORP", 1, "locked", "2026-11-20T12:15:00.0000000Z"};
  return a;
}

// A CEF record split as the ArcSight spec reads it: seven '|'-separated header fields ('\|' and
// '\\' escaped), then key=value extensions where a value runs to the next unescaped " key=".
struct Cef {
  std::vector<std::string> header;
  std::map<std::string, std::string> ext;
};

Cef parse_cef(std::string_view text) {
  Cef cef;
  const std::size_t start = text.find("CEF:");
  if (start == std::string_view::npos) return cef;
  std::size_t i = start;
  std::string field;
  for (; i < text.size() && cef.header.size() < 7; ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      field.push_back(text[++i]);
    } else if (text[i] == '|') {
      cef.header.push_back(field);
      field.clear();
    } else {
      field.push_back(text[i]);
    }
  }
  const std::string_view ext = text.substr(i);
  auto key_at = [&](std::size_t at) {  // length of "key=" at `at`, or 0
    std::size_t k = at;
    while (k < ext.size() && (std::isalnum(static_cast<unsigned char>(ext[k])) || ext[k] == '_'))
      ++k;
    return k > at && k < ext.size() && ext[k] == '=' ? k - at : 0;
  };
  std::size_t at = 0;
  while (at < ext.size()) {
    const std::size_t key_len = key_at(at);
    if (key_len == 0) break;
    const std::string key(ext.substr(at, key_len));
    std::string value;
    std::size_t v = at + key_len + 1;
    for (; v < ext.size(); ++v) {
      if (ext[v] == ' ' && key_at(v + 1)) break;
      if (ext[v] == '\\' && v + 1 < ext.size()) {
        const char c = ext[++v];
        value.push_back(c == 'n' ? '\n' : c == 'r' ? '\r' : c);
      } else {
        value.push_back(ext[v]);
      }
    }
    cef.ext[key] = value;
    at = v + 1;
  }
  return cef;
}

// A collector that reads only the structured data (rsyslog's mmpstrucdata) still learns who
// holds the console, who was refused, how it was detected and the error.
TEST_F(SyslogIntegration, StructuredDataParsedByRsyslogNamesTheConsoleHolder) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTcp);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  auto out = make(config(rsyslog.url()));
  ASSERT_TRUE(out->enqueue(std::vector<Alert>{console_alert(0)}).ok);
  out->start();
  ASSERT_TRUE(out->wait_drained(20s)) << out->metrics().last_error;
  out->stop();
  ASSERT_EQ(rsyslog.wait_for(1, 30s), 1U);
  rsyslog.stop();  // flushes the second file too
  const auto parsed = rsyslog.parsed_structured_data();
  ASSERT_EQ(parsed.size(), 1U);
  const auto sd = nlohmann::json::parse(parsed[0]);
  ASSERT_TRUE(sd.contains("sessionwatch@32473")) << parsed[0];
  const auto& p = sd["sessionwatch@32473"];
  EXPECT_EQ(p["holder_user"], "alice");
  EXPECT_EQ(p["holder_domain"], "CORP");
  EXPECT_EQ(p["holder_session"], "1");
  EXPECT_EQ(p["holder_state"], "locked");
  EXPECT_EQ(p["holder_since"], "2026-11-20T12:15:00.0000000Z");
  EXPECT_EQ(p["attempt_user"], "bob");
  EXPECT_EQ(p["attempt_address"], "10.20.30.41");
  EXPECT_EQ(p["detection"], "inferred");
  EXPECT_EQ(p["error_code"], "7063");
}

TEST_F(SyslogIntegration, CefExtensionsNameTheConsoleHolder) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kUdp);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  auto out = make(config(rsyslog.url(), Format::kCef));
  ASSERT_TRUE(out->enqueue(std::vector<Alert>{console_alert(0)}).ok);
  out->start();
  ASSERT_TRUE(out->wait_drained(10s)) << out->metrics().last_error;
  ASSERT_EQ(rsyslog.wait_for(1, 30s), 1U);
  const Cef cef = parse_cef(rsyslog.received()[0].msg);
  ASSERT_EQ(cef.header.size(), 7U) << rsyslog.received()[0].msg;
  EXPECT_EQ(cef.header[4], "0b3a1c2e-1111-4222-8333-944455556666");
  EXPECT_EQ(cef.header[5], "Console logon refused (7063)");
  EXPECT_EQ(cef.ext.at("duser"), "alice");
  EXPECT_EQ(cef.ext.at("dntdom"), "CORP");
  EXPECT_EQ(cef.ext.at("cn1Label"), "consoleSessionId");
  EXPECT_EQ(cef.ext.at("cn1"), "1");
  EXPECT_EQ(cef.ext.at("cs3Label"), "consoleState");
  EXPECT_EQ(cef.ext.at("cs3"), "locked");
  EXPECT_EQ(cef.ext.at("cs4Label"), "consoleSince");
  EXPECT_EQ(cef.ext.at("cs5"), "inferred");
  EXPECT_EQ(cef.ext.at("cs6"), "7063");
  EXPECT_EQ(cef.ext.at("suser"), "bob");
  EXPECT_EQ(cef.ext.at("msg"), "The user CORP\\alice is already logged on to the console");
}

// rsyslog reads a RFC 3164 HOSTNAME it cannot parse as the TAG: a computer named "sshd:" or
// "dc01 sshd[4242]:" must not arrive as program sshd, neither in RFC 3164 nor in CEF's header.
TEST_F(SyslogIntegration, SpoofingComputerNameCannotPoseAsAnotherProgram) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTcp);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  const std::vector<std::pair<std::string, std::string>> hosts = {
      {"sshd:", "sshd"}, {"dc01 sshd[4242]:", "dc01-sshd-4242"}, {"WS_01.corp", "WS_01.corp"}};
  std::size_t expected = 0;
  for (Format format : {Format::kRfc3164, Format::kCef}) {
    OutputConfig c = config(rsyslog.url(), format);
    syslog(c).framing = detail::TcpFraming::kLineFeed;
    c.spool.dir = dir_.path() / ("spool-" + std::string(to_string(format)));
    auto out = make(c);
    std::vector<Alert> sent;
    for (const auto& [host, shown] : hosts) {
      sent.push_back(make_alert(static_cast<int>(sent.size())));
      sent.back().host = host;
    }
    ASSERT_TRUE(out->enqueue(sent).ok);
    out->start();
    ASSERT_TRUE(out->wait_drained(10s)) << out->metrics().last_error;
    out->stop();
    expected += sent.size();
  }
  ASSERT_EQ(rsyslog.wait_for(expected, 30s), expected);
  const auto got = rsyslog.received();
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].app_name, "sessionwatch") << got[i].msg;
    EXPECT_EQ(got[i].hostname, hosts[i % hosts.size()].second) << got[i].msg;
  }
}

TEST_F(SyslogIntegration, HostileFieldArrivesAsOneEscapedRecord) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTcp);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  const std::string hostile = "x\"]\\\n<86>1 2021-01-01T00:00:00Z forged sessionwatch - - - {}\r\n";
  for (detail::TcpFraming framing :
       {detail::TcpFraming::kOctetCounting, detail::TcpFraming::kLineFeed}) {
    OutputConfig c = config(rsyslog.url());
    syslog(c).framing = framing;
    c.spool.dir = dir_.path() / ("spool-" + std::to_string(static_cast<int>(framing)));
    auto out = make(c);
    std::vector<Alert> one = {make_alert(1, hostile)};
    ASSERT_TRUE(out->enqueue(one).ok);
    out->start();
    ASSERT_TRUE(out->wait_drained(10s)) << out->metrics().last_error;
    out->stop();
  }
  rsyslog.wait_for(2, 5s);
  std::this_thread::sleep_for(300ms);  // would a forged second record show up?
  auto got = rsyslog.received();
  ASSERT_EQ(got.size(), 2U);
  for (const auto& r : got) {
    EXPECT_EQ(r.hostname, "WS01");
    EXPECT_NE(r.structured_data.find(
                  "user=\"x\\\"\\]\\\\#012<86>1 2021-01-01T00:00:00Z forged sessionwatch - - - "
                  "{}#015#012\""),
              std::string::npos)
        << r.structured_data;
    auto doc = nlohmann::json::parse(r.msg);
    EXPECT_EQ(doc["user"]["name"], hostile);
  }
}

TEST_F(SyslogIntegration, CollectorDownAtStartThenUpLosesNothing) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTcp);
  auto out = make(config(rsyslog.url()));
  auto sent = alerts(0, 300);
  ASSERT_TRUE(out->enqueue(sent).ok);
  out->start();
  std::this_thread::sleep_for(300ms);
  OutputMetrics m = out->metrics();
  EXPECT_GT(m.retried, 0U);
  EXPECT_EQ(m.spool_records, 300U);
  EXPECT_NE(m.last_error.find("cannot connect"), std::string::npos) << m.last_error;
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  ASSERT_TRUE(out->wait_drained(20s)) << out->metrics().last_error;
  out->stop();
  expect_all_once_or_duplicated(wait_for_every_id(rsyslog, sent, 30s), sent);
}

void restart_mid_stream(Rsyslog& rsyslog, Output& out, const std::vector<Alert>& sent) {
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  out.start();
  // Feed in chunks, as the pipeline would, and restart the collector part-way.
  bool restarted = false;
  for (std::size_t i = 0; i < sent.size(); i += 500) {
    auto chunk = std::span(sent).subspan(i, std::min<std::size_t>(500, sent.size() - i));
    ASSERT_TRUE(out.enqueue(chunk).ok);
    if (!restarted && i >= 4000) {
      rsyslog.wait_for(2000, 10s);
      rsyslog.stop();
      std::this_thread::sleep_for(100ms);
      ASSERT_TRUE(rsyslog.start(error)) << error;
      restarted = true;
    }
  }
  ASSERT_TRUE(out.wait_drained(60s)) << out.metrics().last_error;
  out.stop();
}

TEST_F(SyslogIntegration, TcpCollectorRestartedMidStreamOf10000) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTcp);
  auto out = make(config(rsyslog.url()));
  auto sent = alerts(0, 10000);
  restart_mid_stream(rsyslog, *out, sent);
  expect_all_once_or_duplicated(wait_for_every_id(rsyslog, sent, 30s), sent);
  EXPECT_GE(out->metrics().reconnects, 1U);
}

// The log an on-call reader gets for an outage: one warning when delivery starts failing (with the
// collector's address), none per retry, a line when it works again saying how long it was down,
// and one when the backlog is delivered. Never an empty "()" where the address belongs.
TEST_F(SyslogIntegration, AnOutageIsLoggedOnceWithItsEndAndBacklog) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTcp);
  OutputConfig c = config(rsyslog.url());
  c.batch_records = 10;
  auto log = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*log);
  spdlog::default_logger()->sinks().push_back(sink);
  auto out = make(c);
  const auto sent = alerts(0, 200);
  ASSERT_TRUE(out->enqueue(sent).ok);
  out->start();
  const auto until = std::chrono::steady_clock::now() + 20s;
  // Five failed attempts (a batch of 10 each) before the collector comes up.
  while (out->metrics().retried < 50 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  ASSERT_TRUE(out->wait_drained(30s)) << out->metrics().last_error;
  out->stop();  // the sender thread wrote its last line
  spdlog::default_logger()->sinks().pop_back();
  const std::string logged = log->str();
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (auto at = logged.find(what); at != std::string::npos; at = logged.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("alerts wait in the spool and are retried"), 1U) << logged;
  EXPECT_NE(logged.find(rsyslog.url()), std::string::npos) << logged;
  EXPECT_EQ(count("delivering again to " + rsyslog.url() + " after "), 1U) << logged;
  EXPECT_EQ(count("backlog delivered"), 1U) << logged;
  EXPECT_EQ(logged.find("()"), std::string::npos) << logged;
  EXPECT_EQ(rsyslog.wait_for(sent.size(), 30s), sent.size());
}

TEST_F(SyslogIntegration, RelpDeliversAndSurvivesARestartMidStream) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kRelp);
  auto out = make(config(rsyslog.url()));
  auto sent = alerts(0, 10000);
  restart_mid_stream(rsyslog, *out, sent);
  auto got = wait_for_every_id(rsyslog, sent, 30s);
  ASSERT_FALSE(got.empty());
  expect_all_once_or_duplicated(got, sent);
  EXPECT_EQ(got.front().app_name, "sessionwatch");
  EXPECT_EQ(got.front().facility, 10);
}

class TlsIntegration : public SyslogIntegration {
 protected:
  void SetUp() override {
    SyslogIntegration::SetUp();
    if (IsSkipped()) return;
    std::string error;
    ASSERT_TRUE(testing::make_test_pki(dir_.path() / "pki", pki_, error)) << error;
  }
  testing::TestPki pki_;
};

TEST_F(TlsIntegration, VerifiedConnectionDelivers) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTls, &pki_);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  OutputConfig c = config("tls://localhost:" + std::to_string(rsyslog.port()));
  syslog(c).tls.ca_file = pki_.ca.string();
  auto out = make(c);
  auto sent = alerts(0, 100);
  ASSERT_TRUE(out->enqueue(sent).ok);
  out->start();
  ASSERT_TRUE(out->wait_drained(20s)) << out->metrics().last_error;
  out->stop();
  ASSERT_EQ(rsyslog.wait_for(100, 30s), 100U);
  auto got = rsyslog.received();
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(nlohmann::json::parse(got[i].msg), alert_to_json(sent[i]));
    EXPECT_EQ(got[i].msgid, "0b3a1c2e111142228333944455556666");
  }
}

void expect_refused(Output& out, Rsyslog& rsyslog, const std::string& says) {
  std::vector<Alert> sent = {make_alert(1), make_alert(2)};
  ASSERT_TRUE(out.enqueue(sent).ok);
  out.start();
  std::this_thread::sleep_for(500ms);
  OutputMetrics m = out.metrics();
  out.stop();
  EXPECT_NE(m.last_error.find(says), std::string::npos) << m.last_error;
  EXPECT_EQ(m.spool_records, 2U);
  EXPECT_EQ(m.sent, 0U);
  EXPECT_EQ(rsyslog.count(), 0U);
}

TEST_F(TlsIntegration, WrongCaIsRefusedAndAlertsStaySpooled) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTls, &pki_);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  OutputConfig c = config("tls://localhost:" + std::to_string(rsyslog.port()));
  syslog(c).tls.ca_file = pki_.other_ca.string();
  auto out = make(c);
  expect_refused(*out, rsyslog, "certificate of 'localhost' not accepted");
}

TEST_F(TlsIntegration, WrongHostNameIsRefusedAndAlertsStaySpooled) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTls, &pki_);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  OutputConfig c = config("tls://127.0.0.1:" + std::to_string(rsyslog.port()));
  syslog(c).tls.ca_file = pki_.ca.string();
  syslog(c).tls.server_name = "siem.wrong.example";
  auto out = make(c);
  expect_refused(*out, rsyslog, "hostname mismatch");
}

TEST_F(SyslogIntegration, SpoolFullBlockGivesBackpressureDropOldestCounts) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTcp);
  auto sent = alerts(0, 400);
  {
    OutputConfig c = config(rsyslog.url());
    c.spool.max_bytes = 64 << 10;  // ~70 alerts
    c.spool.dir = dir_.path() / "spool-block";
    auto out = make(c);
    out->start();  // collector down: nothing leaves the spool
    EnqueueResult r = out->enqueue(sent, 100ms);
    EXPECT_FALSE(r.ok);
    EXPECT_GT(r.accepted, 20U);
    EXPECT_LT(r.accepted, 400U);
    EXPECT_NE(r.error.find("full"), std::string::npos) << r.error;
    EXPECT_EQ(out->metrics().dropped, 0U);
    out->stop();
  }
  OutputConfig c = config(rsyslog.url());
  c.spool.max_bytes = 64 << 10;
  c.spool.when_full = FullPolicy::kDropOldest;
  auto out = make(c);
  EnqueueResult r = out->enqueue(sent, 100ms);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.accepted, 400U);
  OutputMetrics m = out->metrics();
  EXPECT_GT(m.dropped, 0U);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  out->start();
  ASSERT_TRUE(out->wait_drained(20s)) << out->metrics().last_error;
  out->stop();
  std::size_t expected = 400 - m.dropped;
  ASSERT_EQ(rsyslog.wait_for(expected, 30s), expected);
  // What arrived is the newest alerts, in order.
  auto got = rsyslog.received();
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(nlohmann::json::parse(got[i].msg), alert_to_json(sent[m.dropped + i]));
  }
}

TEST_F(SyslogIntegration, CorruptSpoolTailIsCutAndTheRestDelivered) {
  Rsyslog rsyslog(dir_.path() / "rsyslog", Rsyslog::Input::kTcp);
  auto sent = alerts(0, 100);
  OutputConfig c = config(rsyslog.url());
  {
    auto out = make(c);
    ASSERT_TRUE(out->enqueue(sent).ok);
  }
  // Scribble over the last 30 bytes, as a crash in the middle of a write might leave them.
  fs::path last;
  for (auto& e : fs::directory_iterator(c.spool.dir)) {
    if (e.path().extension() == ".seg" && fs::file_size(e.path()) > 8)
      last = std::max(last, e.path());
  }
  ASSERT_FALSE(last.empty());
  {
    std::fstream f(last, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-30, std::ios::end);
    f << std::string(30, '\0');
  }
  auto out = make(c);
  EXPECT_GT(out->metrics().corrupt_bytes, 0U);
  EXPECT_EQ(out->metrics().spool_records, 99U);
  std::string error;
  ASSERT_TRUE(rsyslog.start(error)) << error;
  out->start();
  ASSERT_TRUE(out->wait_drained(20s)) << out->metrics().last_error;
  out->stop();
  ASSERT_EQ(rsyslog.wait_for(99, 30s), 99U);
  auto got = rsyslog.received();
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(nlohmann::json::parse(got[i].msg), alert_to_json(sent[i]));
  }
}

TEST_F(SyslogIntegration, FailsOverToTheSecondCollectorAndBack) {
  Rsyslog first(dir_.path() / "first", Rsyslog::Input::kTcp);
  Rsyslog second(dir_.path() / "second", Rsyslog::Input::kTcp);
  std::string error;
  ASSERT_TRUE(second.start(error)) << error;
  OutputConfig c = config(first.url());
  syslog(c).endpoints.urls.push_back(second.url());
  syslog(c).failback_interval = 200ms;
  auto out = make(c);
  out->start();
  auto batch1 = alerts(0, 20);
  ASSERT_TRUE(out->enqueue(batch1).ok);
  ASSERT_TRUE(out->wait_drained(10s)) << out->metrics().last_error;
  EXPECT_EQ(out->metrics().active_url, second.url());
  ASSERT_TRUE(first.start(error)) << error;
  std::this_thread::sleep_for(400ms);
  auto batch2 = alerts(20, 40);
  ASSERT_TRUE(out->enqueue(batch2).ok);
  ASSERT_TRUE(out->wait_drained(10s)) << out->metrics().last_error;
  EXPECT_EQ(out->metrics().active_url, first.url());
  out->stop();
  EXPECT_EQ(second.wait_for(20, 30s), 20U);
  EXPECT_EQ(first.wait_for(20, 30s), 20U);
}

}  // namespace
}  // namespace sw::forward
