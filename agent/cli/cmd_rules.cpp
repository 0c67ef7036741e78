// `sessionwatch rules check|test`: rule authors' tools.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/eventlog.hpp"
#include "sessionwatch/pipeline.hpp"
#include "sessionwatch/rules.hpp"

namespace sw::cli {

namespace {

constexpr const char* kRulesHelp = R"(Usage: sessionwatch rules check DIR|FILE...
       sessionwatch rules test --rules DIR|FILE [--rules ...] FILE...
       sessionwatch rules xpath [--rules DIR|FILE ...] [--channel NAME ...]

check   Loads every Sigma rule (*.yml, *.yaml, recursively) and lists every problem as
        file:line:column: [rule] message. Sigma features sessionwatch does not implement are
        named 'unsupported: <feature>', never ignored. Exit 0 when all rules load, 1 otherwise.
test    Runs the rules over event files (any format 'scan' reads) and prints which rule fired
        on which event, with the fields that matched and their values.
xpath   Prints the Windows Event Log query an eventlog input with `event_ids: auto` subscribes
        with: the events the rules and the session tracker read, per channel, as a QueryList
        (paste it into Event Viewer's Filter Current Log > XML, or give it to wevtutil qe /sq).
        Without --rules, for the built-in detections. On stderr: why a channel is read whole.
        Default channels: Security, System and the TerminalServices LocalSessionManager and
        RemoteConnectionManager Operational logs.

Examples:
  sessionwatch rules check rules/
  sessionwatch rules test --rules rules/ Security.evtx TerminalServices-LocalSessionManager.evtx
  sessionwatch rules xpath --rules rules/ > sessionwatch-query.xml
)";

int rules_check(const std::vector<std::string>& paths) {
  if (paths.empty()) {
    std::fprintf(stderr, "sessionwatch rules check: no DIR or FILE given\n\n%s", kRulesHelp);
    return kExitUsage;
  }
  const RuleLoadResult loaded = RuleSet::load(paths);
  for (const RuleProblem& p : loaded.problems) std::printf("%s\n", to_string(p).c_str());
  std::fprintf(stderr,
               "sessionwatch rules check: %zu file(s), %zu rule(s) loaded, %zu rule(s) rejected, "
               "%zu file(s) rejected (unreadable or not YAML)\n",
               loaded.files, loaded.loaded, loaded.rejected, loaded.rejected_files);
  return loaded.ok() ? kExitOk : kExitSomeBad;
}

class RuleTestSink : public EventSink {
 public:
  explicit RuleTestSink(Detector& detector) : detector_(detector) {}
  void on_event(Event& event) override {
    detector_.process(event, [this](Alert&& a) { print(a); });
  }
  void on_error(const DecodeError& e) override {
    ++bad_;
    std::fprintf(stderr, "%s:%llu: %s\n", e.origin.c_str(),
                 static_cast<unsigned long long>(e.position), e.reason.c_str());
  }
  void finish() {
    detector_.flush([this](Alert&& a) { print(a); });
  }
  std::uint64_t bad() const { return bad_; }
  std::uint64_t fired() const { return fired_; }

 private:
  void print(const Alert& a) {
    ++fired_;
    const nlohmann::json& w = a.extras.value("winlog", nlohmann::json::object());
    std::string event = w.value("channel", std::string("?")) + " " +
                        w.value("event_id", nlohmann::json("?")).dump() + " record " +
                        w.value("record_id", nlohmann::json("?")).dump();
    std::printf("%s  %-60s  %s\n", format_time(a.time).c_str(), a.rule_name.c_str(), event.c_str());
    const nlohmann::json sw = a.extras.value("sessionwatch", nlohmann::json::object());
    if (sw.contains("matched_fields") && sw["matched_fields"].is_array()) {
      const nlohmann::json data = w.value("event_data", nlohmann::json::object());
      for (const auto& f : sw["matched_fields"]) {
        const std::string name = f.is_string() ? f.get<std::string>() : f.dump();
        std::string value = data.contains(name) ? data[name].dump() : "";
        std::printf("    >> %s%s%s\n", name.c_str(), value.empty() ? "" : " = ", value.c_str());
      }
    }
    if (sw.contains("correlation")) {
      std::printf("    >> correlation %s\n", sw["correlation"].dump().c_str());
    }
  }

  Detector& detector_;
  std::uint64_t bad_ = 0;
  std::uint64_t fired_ = 0;
};

int rules_test(const std::vector<std::string>& args) {
  Args a(args, {"rules"}, {"help"}, {{'h', "help"}});
  if (!a.ok() || a.values("rules").empty() || a.positional().empty()) {
    std::fprintf(stderr, "sessionwatch rules test: %s\n\n%s",
                 a.ok() ? "needs --rules and at least one FILE" : a.error().c_str(), kRulesHelp);
    return kExitUsage;
  }
  DetectorOptions options;
  options.rule_paths = a.values("rules");
  options.tracker.reorder_window = 0;  // decode_files_merged hands events over in time order
  std::vector<std::string> problems;
  auto detector = Detector::create(options, problems);
  for (const std::string& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
  if (!detector) return kExitUsage;
  RuleTestSink sink(*detector);
  decode_files_merged(a.positional(), DecodeOptions{}, sink);
  sink.finish();
  std::fprintf(stderr, "sessionwatch rules test: %llu rule firing(s)\n",
               static_cast<unsigned long long>(sink.fired()));
  return sink.bad() > 0 ? kExitSomeBad : kExitOk;
}

int rules_xpath(const std::vector<std::string>& args) {
  Args a(args, {"rules", "channel"}, {"help"}, {{'h', "help"}});
  if (!a.ok() || !a.positional().empty()) {
    std::fprintf(stderr, "sessionwatch rules xpath: %s\n\n%s",
                 a.ok() ? "takes no FILE arguments" : a.error().c_str(), kRulesHelp);
    return kExitUsage;
  }
  DetectorOptions options;
  options.rule_paths = a.values("rules");
  std::vector<std::string> problems;
  auto detector = Detector::create(options, problems);
  for (const std::string& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
  if (!detector) return kExitUsage;
  std::unique_ptr<RuleSet> rules;
  if (!options.rule_paths.empty()) rules = std::move(RuleSet::load(options.rule_paths).rules);

  std::vector<std::string> channels = a.values("channel");
  if (channels.empty()) {
    channels = {"Security", "System",
                "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
                "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"};
  }
  const EventInterest interest = detector->interest();
  std::string xml = "<QueryList>\n  <Query Id=\"0\">\n";
  for (const std::string& channel : channels) {
    const std::optional<std::vector<std::uint32_t>> ids = interest.event_ids(channel);
    const eventlog::SubscriptionQuery query =
        eventlog::build_subscription_query(channel, ids ? *ids : std::vector<std::uint32_t>{}, "");
    xml += "    <Select Path=\"" + markup_escape(channel) + "\">" + markup_escape(query.xpath) +
           "</Select>\n";
    if (!ids) {
      std::vector<std::string> reasons;
      if (!detector->tracker().interest().event_ids(channel)) {
        reasons.emplace_back("errors can be reported by any of its events");
      }
      if (rules) {
        for (const std::string& rule : rules->rules_reading_whole(channel)) {
          reasons.push_back("rule " + rule);
        }
      }
      std::string why;
      for (const std::string& r : reasons) why += (why.empty() ? "" : "; ") + r;
      std::fprintf(stderr, "%s: every event (%s)\n", channel.c_str(), why.c_str());
    } else if (ids->empty()) {
      std::fprintf(stderr, "%s: nothing the rules or the session tracker read\n", channel.c_str());
    } else {
      std::fprintf(stderr, "%s: %zu event id(s)%s%s\n", channel.c_str(), ids->size(),
                   query.fallback_reason.empty() ? "" : "; ", query.fallback_reason.c_str());
    }
  }
  xml += "  </Query>\n</QueryList>\n";
  std::fputs(xml.c_str(), stdout);
  return kExitOk;
}

}  // namespace

int cmd_rules(const std::vector<std::string>& args) {
  if (args.empty() || args.front() == "--help" || args.front() == "-h") {
    std::fputs(kRulesHelp, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args.front() == "check") return rules_check(rest);
  if (args.front() == "test") return rules_test(rest);
  if (args.front() == "xpath") return rules_xpath(rest);
  std::fprintf(stderr, "sessionwatch rules: unknown subcommand '%s'\n\n%s", args.front().c_str(),
               kRulesHelp);
  return kExitUsage;
}

}  // namespace sw::cli
