#include <gtest/gtest.h>

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include "forward/outputs/file/file_output.hpp"
#include "forward/outputs/http/http_output.hpp"
#include "forward/outputs/syslog/syslog_output.hpp"
#include "sessionwatch/forward.hpp"

namespace sw::forward {
namespace {

using namespace std::chrono_literals;

std::optional<OutputConfig> parse(const std::string& yaml, std::vector<ConfigError>& errors) {
  YAML::Node root = YAML::Load(yaml);
  return parse_output_config(root["outputs"][0], {"/var/lib/sessionwatch", "/etc/sessionwatch"},
                             errors);
}

template <class Options>
const Options& options(const std::optional<OutputConfig>& c) {
  std::string error;
  const Options* o = detail::options_of<Options>(*c, error);
  if (!o) throw std::runtime_error(error);
  return *o;
}
const detail::SyslogOptions& syslog(const std::optional<OutputConfig>& c) {
  return options<detail::SyslogOptions>(c);
}
const detail::HttpOptions& http(const std::optional<OutputConfig>& c) {
  return options<detail::HttpOptions>(c);
}

TEST(OutputConfig, FullSyslogTlsEntry) {
  std::vector<ConfigError> errors;
  auto c = parse(R"(
outputs:
  - type: syslog
    name: siem
    urls: [tls://siem-a.example:6514, tls://siem-b.example]
    format: rfc5424
    facility: local3
    enterprise_id: 55555
    framing: lf
    tls: {verify: false, server_name: siem.example}
    spool: {max_bytes: 64MiB, fsync: interval, fsync_interval: 2s, when_full: drop_oldest}
    retry: {initial: 100ms, max: 1m}
    batch: {records: 200}
    confirm_delay: 50ms
)",
                 errors);
  ASSERT_TRUE(c) << (errors.empty() ? "" : errors[0].message);
  EXPECT_EQ(c->name, "siem");
  EXPECT_EQ(c->type, "syslog");
  EXPECT_EQ(syslog(c).endpoints.urls,
            (std::vector<std::string>{"tls://siem-a.example:6514", "tls://siem-b.example"}));
  EXPECT_EQ(c->format.format, Format::kRfc5424);
  EXPECT_EQ(c->format.facility, 19);
  EXPECT_EQ(c->format.enterprise_id, 55555U);
  EXPECT_EQ(syslog(c).framing, detail::TcpFraming::kLineFeed);
  EXPECT_FALSE(syslog(c).tls.verify);
  EXPECT_EQ(syslog(c).tls.server_name, "siem.example");
  EXPECT_EQ(c->spool.dir, std::filesystem::path("/var/lib/sessionwatch/spool/siem"));
  EXPECT_EQ(c->spool.max_bytes, 64ULL << 20);
  EXPECT_EQ(c->spool.fsync, FsyncPolicy::kInterval);
  EXPECT_EQ(c->spool.fsync_interval, 2000ms);
  EXPECT_EQ(c->spool.when_full, FullPolicy::kDropOldest);
  EXPECT_EQ(c->retry.initial, 100ms);
  EXPECT_EQ(c->retry.max, 60000ms);
  EXPECT_EQ(c->batch_records, 200U);
  EXPECT_EQ(syslog(c).confirm_delay, 50ms);
}

TEST(OutputConfig, DefaultsPerType) {
  std::vector<ConfigError> errors;
  auto c = parse("outputs:\n  - type: syslog\n    url: tls://siem.example:6514\n", errors);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->format.format, Format::kRfc5424);
  EXPECT_EQ(c->format.facility, 10);  // authpriv
  EXPECT_TRUE(syslog(c).tls.verify);
  EXPECT_EQ(c->spool.fsync, FsyncPolicy::kBatch);
  EXPECT_EQ(c->spool.when_full, FullPolicy::kBlock);
  EXPECT_FALSE(c->name.empty());
  c = parse("outputs:\n  - type: file\n    path: /var/log/sessionwatch/alerts.jsonl\n", errors);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->format.format, Format::kJson);
  EXPECT_EQ(options<detail::FileOptions>(c).path, "/var/log/sessionwatch/alerts.jsonl");
  EXPECT_TRUE(errors.empty());
}

TEST(OutputConfig, HttpOptions) {
  std::vector<ConfigError> errors;
  auto c = parse(R"(
outputs:
  - type: http
    url: https://splunk.example:8088/services/collector/raw
    http:
      headers: {Authorization: "Splunk 1234-abcd"}
      body: json_array
      gzip: true
)",
                 errors);
  ASSERT_TRUE(c) << errors.at(0).message;
  EXPECT_EQ(http(c).body, detail::HttpBody::kJsonArray);
  EXPECT_TRUE(http(c).gzip);
  ASSERT_EQ(http(c).headers.size(), 1U);
  EXPECT_EQ(http(c).headers[0].first, "Authorization");
  EXPECT_EQ(http(c).headers[0].second, "Splunk 1234-abcd");
}

TEST(OutputConfig, ErrorsCarryTheLine) {
  std::vector<ConfigError> errors;
  auto c = parse(R"(outputs:
  - type: syslog
    url: tcp://siem.example:514
    fromat: rfc5424
    spool:
      when_full: maybe
)",
                 errors);
  EXPECT_FALSE(c);
  ASSERT_EQ(errors.size(), 2U);
  EXPECT_EQ(errors[0].key, "fromat");
  EXPECT_NE(errors[0].message.find("unknown key"), std::string::npos);
  EXPECT_EQ(errors[0].line, 4);
  EXPECT_NE(errors[1].message.find("block or drop_oldest"), std::string::npos);
  EXPECT_EQ(errors[1].key, "spool.when_full");
  EXPECT_EQ(errors[1].line, 6);
}

// Found by fuzz_config: `tls: x` threw yaml-cpp's BadSubscript out of the parser (the agent's
// `check` and `run` died on it). Every nested section that is not a map is an error.
TEST(OutputConfig, SectionThatIsNotAMapIsAnError) {
  const std::pair<const char*, const char*> cases[] = {
      {"syslog\n    url: tcp://h:514", "tls"},   {"http\n    url: http://h", "http"},
      {"file\n    path: /tmp/a", "rotate"},      {"syslog\n    url: tcp://h:514", "spool"},
      {"syslog\n    url: tcp://h:514", "retry"}, {"syslog\n    url: tcp://h:514", "batch"}};
  for (const auto& [type, section] : cases) {
    std::vector<ConfigError> errors;
    const std::string yaml =
        std::string("outputs:\n  - type: ") + type + "\n    " + section + ": [x]\n";
    EXPECT_FALSE(parse(yaml, errors)) << section;
    ASSERT_EQ(errors.size(), 1u) << section;
    EXPECT_EQ(errors[0].key, section);
    EXPECT_EQ(errors[0].message, "must be a map");
    EXPECT_EQ(errors[0].line, 4);
  }
}

TEST(OutputConfig, ContradictionsAreRefused) {
  struct Case {
    const char* yaml;
    const char* says;
  } cases[] = {
      {"outputs:\n  - type: syslog\n    url: http://x\n", "scheme must be one of"},
      {"outputs:\n  - type: syslog\n", "needs 'url'"},
      {"outputs:\n  - type: amqp\n    url: tcp://x\n", "unknown output type"},
      {"outputs:\n  - type: http\n    url: http://x\n    format: rfc5424\n    http: {body: bulk}\n",
       "need format json"},
      {"outputs:\n  - type: syslog\n    url: tls://x\n    tls: {cert_file: /nonexistent}\n",
       "go together"},
      {"outputs:\n  - type: syslog\n    url: tcp://x:99999\n", "port out of range"},
      {"outputs:\n  - type: file\n", "needs 'path'"},
      {"outputs:\n  - type: syslog\n    url: tcp://x\n    spool: {max_bytes: lots}\n",
       "expected a size"},
  };
  for (const auto& tc : cases) {
    std::vector<ConfigError> errors;
    EXPECT_FALSE(parse(tc.yaml, errors)) << tc.yaml;
    const auto said = std::find_if(errors.begin(), errors.end(), [&](const ConfigError& e) {
      return e.message.find(tc.says) != std::string::npos;
    });
    ASSERT_NE(said, errors.end()) << tc.yaml << " -> " << errors.at(0).message;
    EXPECT_GT(said->line, 0) << tc.yaml;
  }
}

// An output's name is a directory under data_dir/spool: nothing that could leave it.
TEST(OutputConfig, NamesAreIdentifiersWithTheirPlace) {
  for (const std::string& name :
       std::vector<std::string>{"../../../x", "/etc/cron.d/x", "a/b", ".hidden", "..", "a b", "x:y",
                                std::string(65, 'a')}) {
    std::vector<ConfigError> errors;
    const std::string yaml =
        "outputs:\n  - type: syslog\n    url: tcp://x\n    name: \"" + name + "\"\n";
    EXPECT_FALSE(parse(yaml, errors)) << name;
    ASSERT_EQ(errors.size(), 1U) << name;
    EXPECT_NE(errors[0].message.find("output name"), std::string::npos) << errors[0].message;
    EXPECT_EQ(errors[0].line, 4) << name;
    EXPECT_EQ(errors[0].column, 11) << name;
  }
  for (const std::string& name :
       std::vector<std::string>{"siem", "siem-a.b_2", std::string(64, 'a')}) {
    std::vector<ConfigError> errors;
    EXPECT_TRUE(
        parse("outputs:\n  - type: syslog\n    url: tcp://x\n    name: " + name + "\n", errors))
        << name;
  }
  OutputConfig built;
  built.type = "file";
  built.name = "../x";
  auto file = std::make_shared<detail::FileOptions>();
  file->path = "/tmp/a";
  built.options = file;
  built.spool.dir = "/tmp/s";
  ASSERT_FALSE(validate(built).empty());
  EXPECT_NE(validate(built)[0].message.find("output name"), std::string::npos);
}

TEST(OutputConfig, DefaultNameOfALongUrlIsBounded) {
  std::vector<ConfigError> errors;
  auto c =
      parse("outputs:\n  - type: syslog\n    url: tcp://" + std::string(200, 'h') + "\n", errors);
  ASSERT_TRUE(c) << errors[0].message;
  EXPECT_EQ(c->name.size(), 64U);
}

// A password in a URL is HTTP basic authentication, never part of the URL that logs, metrics
// and spool names show.
TEST(OutputConfig, UrlUserAndPasswordBecomeBasicAuthAndLeaveTheUrl) {
  std::vector<ConfigError> errors;
  auto c = parse(
      "outputs:\n  - type: http\n    urls: [\"https://admin:p%40ss:w@siem.example/in\", "
      "https://other.example/in]\n",
      errors);
  ASSERT_TRUE(c) << errors[0].message;
  EXPECT_EQ(http(c).endpoints.urls,
            (std::vector<std::string>{"https://siem.example/in", "https://other.example/in"}));
  EXPECT_EQ(http(c).endpoints.logins, (std::vector<std::string>{"admin:p@ss:w", ""}));
  EXPECT_EQ(c->name.find("admin"), std::string::npos) << c->name;
  EXPECT_EQ(c->name.find("ss"), std::string::npos) << c->name;
}

TEST(OutputConfig, UrlPasswordIsRefusedWhereThereIsNoLoginAndNeverEchoed) {
  const char* cases[] = {
      "outputs:\n  - type: syslog\n    url: tcp://admin:s3cret@siem.example:514\n",
      "outputs:\n  - type: relp\n    url: relp://admin:s3cret@siem.example\n",
      "outputs:\n  - type: http\n    url: http://admin:s3cret%zz@siem.example\n",
      ("outputs:\n  - type: http\n    url: http://admin:s3cret@siem.example\n"
       "    http: {headers: {authorization: Bearer x}}\n"),
      "outputs:\n  - type: http\n    url: http://admin:s3cret@:80\n",
  };
  for (const char* yaml : cases) {
    std::vector<ConfigError> errors;
    EXPECT_FALSE(parse(yaml, errors)) << yaml;
    ASSERT_FALSE(errors.empty()) << yaml;
    for (const ConfigError& e : errors) {
      EXPECT_EQ(e.message.find("s3cret"), std::string::npos) << e.message;
      EXPECT_GT(e.line, 0) << e.message;
    }
  }
}

// Each output type owns its keys: another type's keys are refused, each at its line (before, a
// syslog output with a file path, an HTTP body and file rotation passed `check`).
TEST(OutputConfig, AKeyOfAnotherTypeIsRefused) {
  std::vector<ConfigError> errors;
  EXPECT_FALSE(parse(R"(outputs:
  - type: syslog
    url: tcp://siem.example:514
    path: /tmp/x
    http: {body: bulk}
    rotate: {max_files: 3}
)",
                     errors));
  ASSERT_EQ(errors.size(), 3U);
  const char* keys[] = {"path", "http", "rotate"};
  for (std::size_t i = 0; i < errors.size(); ++i) {
    EXPECT_EQ(errors[i].key, keys[i]);
    EXPECT_NE(errors[i].message.find("unknown key in a syslog output"), std::string::npos)
        << errors[i].message;
    EXPECT_EQ(errors[i].line, static_cast<int>(4 + i));
  }
  for (const char* yaml : {"outputs:\n  - type: file\n    path: /tmp/a\n    url: tcp://x\n",
                           "outputs:\n  - type: stdout\n    tls: {verify: true}\n",
                           "outputs:\n  - type: http\n    url: http://x\n    framing: lf\n"}) {
    errors.clear();
    EXPECT_FALSE(parse(yaml, errors)) << yaml;
    ASSERT_EQ(errors.size(), 1U) << yaml;
    EXPECT_NE(errors[0].message.find("unknown key"), std::string::npos) << errors[0].message;
  }
}

// Every problem of an output comes out of one parse, with its key (before, a bad URL was reported
// only once every other key was right, and a range error did not say which key).
TEST(OutputConfig, EveryProblemAtOnceWithItsKey) {
  std::vector<ConfigError> errors;
  EXPECT_FALSE(parse(R"(outputs:
  - type: syslog
    url: tcp://127.0.0.1:notaport
    format: foo
    batch: {records: 0}
    spool: {fsync: sometimes}
    retry: {initial: soon}
    tls: {cert_file: /nonexistent/cert.pem}
)",
                     errors));
  std::vector<std::string> keys;
  for (const ConfigError& e : errors) keys.push_back(e.key);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"batch.records", "format", "retry.initial",
                                            "spool.fsync", "tls", "tls.cert_file", "url"}));
  for (const ConfigError& e : errors) EXPECT_GT(e.line, 0) << e.key;
  const auto port = std::find_if(errors.begin(), errors.end(),
                                 [](const ConfigError& e) { return e.key == "url"; });
  ASSERT_NE(port, errors.end());
  EXPECT_NE(port->message.find("notaport"), std::string::npos);
  EXPECT_EQ(port->line, 3);
  const auto records = std::find_if(errors.begin(), errors.end(),
                                    [](const ConfigError& e) { return e.key == "batch.records"; });
  ASSERT_NE(records, errors.end());
  EXPECT_EQ(records->message, "must be between 1 and 100000");
}

// A relative file path is taken from the config file's folder.
TEST(OutputConfig, RelativeFilePathFollowsTheConfigFile) {
  std::vector<ConfigError> errors;
  auto c = parse("outputs:\n  - type: file\n    path: out/alerts.jsonl\n", errors);
  ASSERT_TRUE(c);
  EXPECT_EQ(options<detail::FileOptions>(c).path,
            std::filesystem::path("/etc/sessionwatch/out/alerts.jsonl"));
}

}  // namespace
}  // namespace sw::forward
