#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "daemon/inputs/eventlog/eventlog_input.hpp"
#include "daemon/inputs/file/file_input.hpp"
#include "sessionwatch/config.hpp"

namespace sw {
namespace {

using daemon::EventlogInputOptions;
using daemon::FileInputOptions;

// The typed options of an input (its type's own struct); fails the test when they are missing.
template <class Options>
const Options& options(const InputConfig& input) {
  std::string error;
  const Options* typed = daemon::options_of<Options>(input, error);
  if (!typed) throw std::runtime_error(error);
  return *typed;
}

// Paths come back in the platform's own spelling ("\\var\\lib\\sw" on Windows).
std::string native(const char* path) {
  return std::filesystem::path(path).make_preferred().string();
}

constexpr const char* kValid = R"(agent:
  data_dir: /var/lib/sw
  log_level: debug
inputs:
  - type: file
    paths: ["/var/log/win/*.jsonl"]
    format: jsonl
  - type: file
    name: tools
    paths: /var/log/tools/*.log
    format: text
    computer: WS01
  - type: evtx
    paths: [/srv/evtx/*.evtx]
rules:
  paths: [rules]
  on_error: skip
outputs:
  - type: file
    path: alerts.jsonl
  - type: stdout
metrics:
  listen: 127.0.0.1:9464
)";

TEST(Config, ValidFileIsTyped) {
  const ConfigResult r = parse_config(kValid, "/etc/sw/sw.yaml");
  ASSERT_TRUE(r.errors.empty()) << to_string(r.errors.front());
  const Config& c = *r.config;
  EXPECT_EQ(c.agent.data_dir, native("/var/lib/sw"));
  EXPECT_EQ(c.agent.log_level, LogLevel::kDebug);
  ASSERT_EQ(c.inputs.size(), 3u);
  EXPECT_EQ(c.inputs[0].name, "file-1");
  EXPECT_EQ(options<FileInputOptions>(c.inputs[0]).format, InputFormat::kJsonl);
  EXPECT_EQ(c.inputs[1].name, "tools");
  EXPECT_EQ(options<FileInputOptions>(c.inputs[1]).paths,
            std::vector<std::string>{native("/var/log/tools/*.log")});
  EXPECT_EQ(options<FileInputOptions>(c.inputs[1]).computer, "WS01");
  EXPECT_EQ(c.inputs[2].type, "evtx");
  // Relative paths are taken from the config file's folder.
  EXPECT_EQ(c.rules.paths, std::vector<std::string>{native("/etc/sw/rules")});
  EXPECT_TRUE(c.rules.skip_broken);
  ASSERT_EQ(c.outputs.size(), 2u);
  EXPECT_EQ(c.outputs[0].path, native("/etc/sw/alerts.jsonl"));
  EXPECT_EQ(c.outputs[1].type, "stdout");
  EXPECT_TRUE(c.metrics.enabled);
  EXPECT_EQ(c.metrics.address, "127.0.0.1");
  EXPECT_EQ(c.metrics.port, 9464);
}

TEST(Config, MetricsOffWhenAbsent) {
  const ConfigResult r = parse_config(
      "inputs:\n  - type: file\n    paths: [/x/*.log]\noutputs:\n  - type: stdout\n", "c.yaml");
  ASSERT_TRUE(r.config);
  EXPECT_FALSE(r.config->metrics.enabled);
#ifdef _WIN32
  EXPECT_EQ(r.config->agent.data_dir, "C:/ProgramData/sessionwatch/data");
#else
  EXPECT_EQ(r.config->agent.data_dir, "/var/lib/sessionwatch");
#endif
  EXPECT_TRUE(r.config->rules.paths.empty());
}

// Each error names the file, the line and the column of the offending key or value.
struct BadCase {
  const char* yaml;
  int line;
  int column;
  const char* message_part;
};

class ConfigErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigErrors, ReportFileLineColumn) {
  const BadCase& c = GetParam();
  const ConfigResult r = parse_config(c.yaml, "/etc/sw/bad.yaml");
  EXPECT_FALSE(r.config);
  ASSERT_FALSE(r.errors.empty());
  const ConfigError& e = r.errors.front();
  EXPECT_EQ(e.file, "/etc/sw/bad.yaml");
  EXPECT_EQ(e.line, c.line) << to_string(e);
  EXPECT_EQ(e.column, c.column) << to_string(e);
  EXPECT_NE(e.message.find(c.message_part), std::string::npos) << to_string(e);
  EXPECT_EQ(to_string(e).rfind("/etc/sw/bad.yaml:" + std::to_string(c.line) + ":", 0), 0u);
}

constexpr const char* kOk =
    "inputs:\n  - type: file\n    paths: [/x/*.log]\noutputs:\n  - type: stdout\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigErrors,
    ::testing::Values(
        // A typo in a key is an error, not a silent default.
        BadCase{"agent:\n  data_dri: /x\ninputs:\n  - type: file\n    paths: [/x/*.log]\n"
                "outputs:\n  - type: stdout\n",
                2, 3, "unknown key 'data_dri'"},
        BadCase{"inputs:\n  - type: file\n    paths: [/x/*.log]\n    fromat: jsonl\n"
                "outputs:\n  - type: stdout\n",
                4, 5, "inputs[1].fromat: unknown key in a file input"},
        BadCase{"inputs:\n  - type: files\n    paths: [/x/*.log]\noutputs:\n  - type: stdout\n", 2,
                11, "not one of file, evtx, eventlog"},
        BadCase{"inputs:\n  - type: file\noutputs:\n  - type: stdout\n", 2, 5,
                "'paths' is required"},
        BadCase{"inputs:\n  - type: file\n    paths: [/x/*.log]\n    format: csv\n"
                "outputs:\n  - type: stdout\n",
                4, 13, "format 'csv'"},
        BadCase{
            "inputs:\n  - type: file\n    paths: [\"/x/*/a.log\"]\noutputs:\n  - type: stdout\n", 3,
            12, "wildcards are allowed in the file name only"},
        BadCase{"agent:\n  log_level: loud\ninputs:\n  - type: file\n    paths: [/x/*.log]\n"
                "outputs:\n  - type: stdout\n",
                2, 14, "log_level 'loud'"},
        BadCase{"inputs:\n  - type: file\n    paths: [/x/*.log]\noutputs:\n  - type: file\n", 5, 5,
                "path"},
        BadCase{"inputs:\n  - type: file\n    paths: [/x/*.log]\noutputs:\n  - type: stdout\n"
                "metrics:\n  listen: localhost\n",
                7, 11, "must be address:port"},
        BadCase{"inputs:\n  - type: file\n    paths: [/x/*.log]\noutputs:\n  - type: stdout\n"
                "rules:\n  on_error: ignore\n",
                7, 13, "not one of refuse, skip"},
        BadCase{"inputs:\n  - type: file\n    paths: [/x/*.log]\noutputs:\n  - type: stdout\n"
                "rules:\n  placeholders: [admins]\n",
                7, 17, "map each name to a value or a list"},
        BadCase{"inputs:\n  - type: file\n    paths: [/x/*.log]\n", 1, 1, "'outputs' is required"},
        BadCase{"inputs: [\n", 2, 1, "invalid YAML"},
        BadCase{"inputs:\n  - type: file\n    paths: [/x/*.log]\n  - type: file\n    name: file-1\n"
                "    paths: [/y/*.log]\noutputs:\n  - type: stdout\n",
                5, 11, "already named 'file-1'"},
        BadCase{"extra: 1\ninputs:\n  - type: file\n    paths: [/x/*.log]\noutputs:\n  - type: "
                "stdout\n",
                1, 1, "unknown key 'extra' in top level"}));

// What a rule's `|expand` `%name%` stands for: a value or a list, by name.
TEST(Config, RulePlaceholdersAreValuesByName) {
  auto r = parse_config(
      std::string(kOk) + "rules:\n  placeholders:\n    admins: [alice, bob]\n    dc: DC01\n",
      "c.yaml");
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : to_string(r.errors[0]));
  const auto& p = r.config->rules.placeholders;
  ASSERT_EQ(p.size(), 2U);
  EXPECT_EQ(p.at("admins"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(p.at("dc"), std::vector<std::string>{"DC01"});
}

TEST(Config, EveryProblemIsReportedInFileOrder) {
  const ConfigResult r = parse_config(
      "agent:\n  colour: red\ninputs:\n  - type: file\n    paths: [/x/*.log]\n    bogus: 1\n"
      "outputs:\n  - type: stdout\n    color: 2\n",
      "c.yaml");
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_EQ(r.errors[1].line, 6);
  EXPECT_EQ(r.errors[2].line, 9);
}

TEST(Config, UnreadableFileIsAnError) {
  const ConfigResult r = load_config("/nonexistent/sessionwatch.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, "/nonexistent/sessionwatch.yaml");
  EXPECT_NE(r.errors[0].message.find("cannot read"), std::string::npos);
  EXPECT_TRUE(parse_config(kOk, "ok.yaml").config);
}

// `event_ids` of an eventlog input: all, auto or ids and ranges. Off Windows the input itself is
// refused, but the value is still checked, so a config written on Linux for Windows agents is
// validated there too.
ConfigResult eventlog_config(const std::string& event_ids) {
  return parse_config(
      "inputs:\n  - type: eventlog\n    channels: [Security, System]\n"
      "    event_ids: " +
          event_ids + "\noutputs:\n  - type: stdout\n",
      "/etc/sw/sw.yaml");
}

std::vector<std::string> messages_besides_platform(const ConfigResult& r) {
  std::vector<std::string> out;
  for (const ConfigError& e : r.errors) {
    if (e.message.find("only available on Windows") == std::string::npos)
      out.push_back(to_string(e));
  }
  return out;
}

TEST(Config, EventlogEventIdsListAndRanges) {
  const ConfigResult r = eventlog_config("[4779, \"4624\", \"4778-4779\", 21, \"23 - 25\"]");
  EXPECT_TRUE(messages_besides_platform(r).empty()) << messages_besides_platform(r).front();
#ifdef _WIN32
  ASSERT_TRUE(r.config);
  const auto& eventlog = options<EventlogInputOptions>(r.config->inputs[0]);
  EXPECT_EQ(eventlog.event_id_filter, EventlogInputOptions::EventIds::kList);
  EXPECT_EQ(eventlog.event_ids, (std::vector<std::uint32_t>{21, 23, 24, 25, 4624, 4778, 4779}));
#endif
}

TEST(Config, EventlogEventIdsAutoAndAll) {
  for (const char* value : {"auto", "all"}) {
    const ConfigResult r = eventlog_config(value);
    EXPECT_TRUE(messages_besides_platform(r).empty()) << value;
#ifdef _WIN32
    ASSERT_TRUE(r.config);
    EXPECT_EQ(options<EventlogInputOptions>(r.config->inputs[0]).event_id_filter,
              std::string(value) == "auto" ? EventlogInputOptions::EventIds::kAuto
                                           : EventlogInputOptions::EventIds::kAll);
#endif
  }
}

TEST(Config, EventlogLanguageIsAnLcidOrTheServers) {
  auto parse = [](const std::string& language) {
    return parse_config("inputs:\n  - type: eventlog\n    channels: [Security]\n    language: " +
                            language + "\noutputs:\n  - type: stdout\n",
                        "/etc/sw/sw.yaml");
  };
  for (const char* good : {"0x407", "1031", "server"}) {
    const ConfigResult r = parse(good);
    EXPECT_TRUE(messages_besides_platform(r).empty()) << good;
#ifdef _WIN32
    ASSERT_TRUE(r.config);
    EXPECT_EQ(options<EventlogInputOptions>(r.config->inputs[0]).language,
              std::string(good) == "server" ? 0u : 0x407u);
#endif
  }
  const std::vector<std::string> bad = messages_besides_platform(parse("german"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("language must be a Windows LCID"), std::string::npos) << bad[0];
  EXPECT_EQ(EventlogInputOptions{}.language, 0x409u) << "en-US unless configured";
}

TEST(Config, EventlogEventIdsErrorsSayWhere) {
  struct Bad {
    const char* value;
    int column;
    const char* message;
  };
  for (const Bad& bad :
       {Bad{"some", 16, "'some' is not all, auto or a list"},
        Bad{"[4624, 70000]", 23, "'70000' is not an event id"},
        Bad{"[\"4779-4778\"]", 17, "'4779-4778' is not an event id"},
        Bad{"[4624, x]", 23, "'x' is not an event id"}, Bad{"[]", 16, "non-empty list"}}) {
    const std::vector<std::string> errors = messages_besides_platform(eventlog_config(bad.value));
    ASSERT_EQ(errors.size(), 1u) << bad.value;
    EXPECT_NE(errors[0].find(bad.message), std::string::npos) << errors[0];
    EXPECT_EQ(errors[0].rfind("/etc/sw/sw.yaml:4:" + std::to_string(bad.column) + ":", 0), 0u)
        << errors[0];
  }
}

}  // namespace
}  // namespace sw

namespace sw {
namespace {

// The configuration is as untrusted as the rules: its YAML is parsed within bounds too.
TEST(ConfigHostile, YamlBombsAreRefusedWithTheirPlace) {
  const ConfigResult deep = parse_config("inputs: " + std::string(100'000, '['), "c.yaml");
  ASSERT_EQ(deep.errors.size(), 1U);
  EXPECT_NE(deep.errors[0].message.find("nested deeper than 64"), std::string::npos)
      << to_string(deep.errors[0]);
  EXPECT_EQ(deep.errors[0].line, 1);
  const ConfigResult looping = parse_config("!, a", "c.yaml");
  ASSERT_EQ(looping.errors.size(), 1U);
  EXPECT_NE(looping.errors[0].message.find("invalid YAML"), std::string::npos)
      << to_string(looping.errors[0]);
}

TEST(ConfigHostile, OversizedFileIsRefusedUnread) {
  const auto file = std::filesystem::temp_directory_path() / "sw-config-oversized.yaml";
  {
    std::ofstream out(file, std::ios::binary);
    out << kOk << "# " << std::string(2 << 20, 'x') << "\n";
  }
  const ConfigResult r = load_config(file.string());
  std::filesystem::remove(file);
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_NE(r.errors[0].message.find("larger than 1048576 bytes"), std::string::npos)
      << to_string(r.errors[0]);
}

bool has_warning(const ConfigResult& r, const std::string& part, int line) {
  return std::any_of(r.warnings.begin(), r.warnings.end(), [&](const ConfigError& w) {
    return w.message.find(part) != std::string::npos && w.line == line;
  });
}

bool has_error(const ConfigResult& r, const std::string& part) {
  return std::any_of(r.errors.begin(), r.errors.end(), [&](const ConfigError& e) {
    return e.message.find(part) != std::string::npos;
  });
}

std::string all_messages(const ConfigResult& r) {
  std::string out;
  for (const auto* list : {&r.errors, &r.warnings}) {
    for (const ConfigError& e : *list) out += to_string(e) + "\n";
  }
  return out;
}

constexpr const char* kToken = "s3cret-token-0123456789abcdef";

TEST(ConfigMetrics, BeyondLoopbackWithoutTokenIsRefused) {
  for (const char* listen : {"0.0.0.0:9464", "[::]:9464", "10.1.2.3:9464"}) {
    const ConfigResult r =
        parse_config(std::string(kOk) + "metrics:\n  listen: \"" + listen + "\"\n", "c.yaml");
    EXPECT_FALSE(r.config) << listen;
    EXPECT_TRUE(has_error(r, "set metrics.token or metrics.token_file")) << listen;
  }
  for (const char* listen : {"127.0.0.1:9464", "[::1]:9464", "localhost:9464"}) {
    const ConfigResult r =
        parse_config(std::string(kOk) + "metrics:\n  listen: \"" + listen + "\"\n", "c.yaml");
    ASSERT_TRUE(r.config) << listen;
    EXPECT_TRUE(r.warnings.empty()) << listen << ": " << to_string(r.warnings[0]);
    EXPECT_TRUE(r.config->metrics.token.empty());
  }
}

TEST(ConfigMetrics, BeyondLoopbackWithTokenIsAcceptedAndTheTokenNeverShown) {
  const ConfigResult r = parse_config(
      std::string(kOk) + "metrics:\n  listen: 0.0.0.0:9464\n" + "  token: " + kToken + "\n",
      "c.yaml");
  ASSERT_TRUE(r.config) << all_messages(r);
  EXPECT_EQ(r.config->metrics.token, kToken);
  EXPECT_EQ(all_messages(r).find(kToken), std::string::npos);
}

TEST(ConfigMetrics, TokenFileIsReadRelativeToTheConfigWithoutItsNewline) {
  const auto dir = std::filesystem::temp_directory_path() / "sw_config_token_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << kToken << "\n";
  const ConfigResult r =
      parse_config(std::string(kOk) + "metrics:\n  listen: 0.0.0.0:9464\n  token_file: token\n",
                   (dir / "sw.yaml").string());
  ASSERT_TRUE(r.config) << all_messages(r);
  EXPECT_EQ(r.config->metrics.token, kToken);
  std::filesystem::remove_all(dir);
}

TEST(ConfigMetrics, BadTokensAreRefusedWithoutEchoingThem) {
  const std::string base = std::string(kOk) + "metrics:\n  listen: 127.0.0.1:9464\n";
  const struct {
    std::string yaml, message;
  } cases[] = {
      {base + "  token: short1\n", "at least 16 characters"},
      {base + "  token: \"has a space in it 0123\"\n", "must not contain spaces"},
      {base + "  token: " + kToken + "\n  token_file: /x\n", "exclusive"},
      // The path as the OS spells it (C:/nonexistent\sw-token on Windows): its name is enough.
      {base + "  token_file: /nonexistent/sw-token\n", "metrics.token_file"},
  };
  for (const auto& c : cases) {
    const ConfigResult r = parse_config(c.yaml, "c.yaml");
    EXPECT_FALSE(r.config) << c.yaml;
    EXPECT_TRUE(has_error(r, c.message)) << c.yaml << "\n" << all_messages(r);
    EXPECT_EQ(all_messages(r).find("short1"), std::string::npos);
    EXPECT_EQ(all_messages(r).find("has a space"), std::string::npos);
  }
}

TEST(ConfigWarnings, TlsWithoutVerificationIsValidButWarned) {
  const ConfigResult r = parse_config(
      "inputs:\n  - type: file\n    paths: [/x/*.log]\noutputs:\n  - type: syslog\n"
      "    url: tls://siem.example:6514\n    tls:\n      verify: false\n",
      "c.yaml");
  if (!r.config && r.errors[0].message.find("not available in this build") != std::string::npos)
    GTEST_SKIP() << "built without the forwarding module";
  ASSERT_TRUE(r.config) << to_string(r.errors[0]);
  EXPECT_TRUE(has_warning(r, "tls.verify: false", 8));
}

TEST(ConfigWarnings, UrlPasswordOverPlainHttpIsWarnedWithoutThePassword) {
  const ConfigResult r = parse_config(
      "inputs:\n  - type: file\n    paths: [/x/*.log]\noutputs:\n  - type: http\n"
      "    url: http://admin:s3cret@siem.example/in\n",
      "c.yaml");
  if (!r.config && r.errors[0].message.find("not available in this build") != std::string::npos)
    GTEST_SKIP() << "built without the forwarding module";
  ASSERT_TRUE(r.config) << to_string(r.errors[0]);
  ASSERT_EQ(r.warnings.size(), 1U);
  EXPECT_NE(r.warnings[0].message.find("travels in clear"), std::string::npos);
  EXPECT_EQ(r.warnings[0].message.find("s3cret"), std::string::npos) << r.warnings[0].message;
}

#ifndef _WIN32
TEST(ConfigWarnings, DataDirOpenToOthersIsWarned) {
  const auto dir = std::filesystem::temp_directory_path() / "sw-config-data-dir";
  std::filesystem::create_directories(dir);
  const std::string yaml = "agent:\n  data_dir: " + dir.string() + "\n" + kOk;
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all |
                                        std::filesystem::perms::group_read |
                                        std::filesystem::perms::group_exec);
  EXPECT_TRUE(has_warning(parse_config(yaml, "c.yaml"), "open to other users", 2));
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  EXPECT_TRUE(parse_config(yaml, "c.yaml").warnings.empty());
  std::filesystem::remove_all(dir);
}
#endif

}  // namespace
}  // namespace sw

namespace sw {
namespace {

// The problems of `yaml` other than the ones this build adds for a type it lacks (eventlog off
// Windows, kafka without librdkafka), as file:line:column: message.
std::vector<std::string> problems(const std::string& yaml) {
  std::vector<std::string> out;
  for (const ConfigError& e : parse_config(yaml, "/etc/sw/sw.yaml").errors) {
    if (e.message.find("only available on Windows") != std::string::npos) continue;
    if (e.message.find("not in this build") != std::string::npos) continue;
    out.push_back(to_string(e));
  }
  return out;
}

// Each input owns its keys: a key of another type (or of none) is refused with its place and
// key, every one of them in one pass, worded as the outputs' are.
TEST(ConfigInputs, EachTypeRefusesTheKeysOfTheOthers) {
  struct Case {
    const char* keys;  // the item's keys after `type`, the two last ones foreign
    const char* type;
    const char* owner;
    const char* foreign[2];
  };
  for (const Case& c : {
           Case{"    paths: [/x/*.log]\n    event_ids: [4624]\n    brokers: k:9092\n",
                "file",
                "a file input",
                {"event_ids", "brokers"}},
           Case{"    paths: [/x/*.evtx]\n    channels: [Security]\n    format: xml\n",
                "evtx",
                "an evtx input",
                {"channels", "format"}},
           Case{"    channels: [Security]\n    paths: [/x/*.log]\n    computer: WS1\n",
                "eventlog",
                "an eventlog input",
                {"paths", "computer"}},
           Case{"    brokers: k:9092\n    group_id: g\n    topics: t\n    paths: /x/*.log\n"
                "    event_ids: auto\n",
                "kafka",
                "a kafka input",
                {"paths", "event_ids"}},
       }) {
    const std::string yaml = std::string("inputs:\n  - type: ") + c.type + "\n" + c.keys +
                             "outputs:\n  - type: stdout\n";
    const std::vector<std::string> errors = problems(yaml);
    ASSERT_EQ(errors.size(), 2u) << c.type << ": " << (errors.empty() ? "" : errors[0]);
    const int first_line = std::string(c.type) == "kafka" ? 6 : 4;
    for (int i = 0; i < 2; ++i) {
      const std::string expected = "/etc/sw/sw.yaml:" + std::to_string(first_line + i) +
                                   ":5: inputs[1]." + c.foreign[i] + ": unknown key in " + c.owner +
                                   " (type, name, ";
      EXPECT_EQ(errors[i].rfind(expected, 0), 0u) << errors[i] << "\nexpected " << expected;
    }
  }
}

// yaml-cpp keeps both entries of a key given twice and every lookup finds the first: the second
// `paths` (or `type`) would be ignored without a word.
TEST(ConfigInputs, AKeyGivenTwiceIsRefused) {
  for (const char* item : {
           "  - type: file\n    paths: [/x/*.log]\n    paths: [/y/*.log]\n",
           "  - type: evtx\n    paths: [/x/*.evtx]\n    paths: [/y/*.evtx]\n",
           "  - type: eventlog\n    channels: [Security]\n    channels: [System]\n",
           "  - type: kafka\n    brokers: k:9092\n    group_id: g\n    topics: t\n    topics: u\n",
       }) {
    const std::vector<std::string> errors =
        problems(std::string("inputs:\n") + item + "outputs:\n  - type: stdout\n");
    ASSERT_EQ(errors.size(), 1u) << item;
    const int line = std::string(item).find("kafka") != std::string::npos ? 6 : 4;
    EXPECT_EQ(errors[0].rfind("/etc/sw/sw.yaml:" + std::to_string(line) + ":5: '", 0), 0u)
        << errors[0];
    EXPECT_NE(errors[0].find("is given twice in inputs[1] (first on line " +
                             std::to_string(line - 1) + ")"),
              std::string::npos)
        << errors[0];
  }
  // A second `type` would have made it another input altogether.
  const std::vector<std::string> retyped = problems(
      "inputs:\n  - type: evtx\n    paths: [/x/*.evtx]\n    type: file\n"
      "outputs:\n  - type: stdout\n");
  ASSERT_EQ(retyped.size(), 1u);
  EXPECT_NE(retyped[0].find("'type' is given twice in inputs[1]"), std::string::npos) << retyped[0];
}

// The sections share the check: a repeated agent.data_dir is not silently the first one.
TEST(ConfigInputs, AKeyGivenTwiceInASectionIsRefused) {
  const std::vector<std::string> errors =
      problems("agent:\n  data_dir: /a\n  data_dir: /b\n" + std::string(kOk));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("/etc/sw/sw.yaml:3:3: 'data_dir' is given twice in agent", 0), 0u)
      << errors[0];
}

// An eventlog input with no channel would subscribe to nothing and report nothing.
TEST(ConfigInputs, EventlogChannelsMustNotBeEmpty) {
  const std::vector<std::string> errors =
      problems("inputs:\n  - type: eventlog\n    channels: []\noutputs:\n  - type: stdout\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("/etc/sw/sw.yaml:3:15: inputs[1].channels must not be empty", 0), 0u)
      << errors[0];
}

// `check` prints what each input's options say about it; the types come from the registry.
TEST(ConfigInputs, TheRegistryNamesEveryType) {
  EXPECT_EQ(daemon::input_types(), "file, evtx, eventlog, kafka");
  const ConfigResult r = parse_config(kValid, "/etc/sw/sw.yaml");
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->inputs[0].options->summary(), ", format jsonl");
  EXPECT_EQ(r.config->inputs[2].options->globs(),
            std::vector<std::string>{native("/srv/evtx/*.evtx")});
  EXPECT_FALSE(r.config->inputs[2].yaml.empty()) << "a reload compares inputs by their keys";
  EXPECT_EQ(parse_config("inputs:\n  - type: tcp\noutputs:\n  - type: stdout\n", "c.yaml")
                .errors.at(0)
                .message,
            "inputs[1].type 'tcp' is not one of file, evtx, eventlog, kafka");
}

}  // namespace
}  // namespace sw
