// The eventlog input's keys. Off Windows the input is refused, but its keys are still checked, so
// a config written on Linux for Windows agents is validated there too.
#include <array>
#include <charconv>
#include <set>

#include "daemon/inputs/eventlog/eventlog_input.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::daemon {

namespace {

constexpr std::array<std::string_view, 4> kEventlogKeys = {"channels", "query", "event_ids",
                                                           "language"};

// `language: 0x409 | 1033 | server`
void parse_language(const YAML::Node& node, const InputParseContext& context,
                    EventlogInputOptions& options) {
  const std::string where = context.where + ".language";
  std::string text;
  if (!context.reader.nonempty_scalar(node, where, text)) return;
  if (text == "server") {
    options.language = 0;
    return;
  }
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const std::string_view digits = std::string_view(text).substr(hex ? 2 : 0);
  std::uint32_t lcid = 0;
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), lcid, hex ? 16 : 10);
  if (ec != std::errc() || end != digits.data() + digits.size() || lcid == 0) {
    context.reader.error(node.Mark(),
                         where + " must be a Windows LCID such as 0x409 (en-US) or 'server'");
    return;
  }
  options.language = lcid;
}

bool parse_event_id(std::string_view s, std::uint32_t& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty() || s.size() > 5) return false;
  std::uint32_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  out = n;
  return n <= 65535;
}

// "4624" or "4778-4779"
bool parse_event_id_range(std::string_view text, std::uint32_t& first, std::uint32_t& last) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    if (!parse_event_id(text, first)) return false;
    last = first;
    return true;
  }
  return parse_event_id(text.substr(0, dash), first) &&
         parse_event_id(text.substr(dash + 1), last) && first <= last;
}

constexpr std::string_view kEventIdsHelp =
    " (all: every event; auto: what the rules and the session tracker read; or a list of "
    "ids and ranges such as [4624, 4634, \"4778-4779\"])";

void parse_event_id_list(const YAML::Node& node, const std::string& where, YamlReader& reader,
                         EventlogInputOptions& options) {
  std::set<std::uint32_t> ids;
  for (const YAML::Node& item : node) {
    const std::string text = item.IsScalar() ? item.Scalar() : std::string();
    std::uint32_t first = 0, last = 0;
    if (!parse_event_id_range(text, first, last)) {
      reader.error(item.Mark(), where + ": '" + text +
                                    "' is not an event id (0-65535) or a range such as 4778-4779");
      continue;
    }
    for (std::uint32_t id = first; id <= last; ++id) ids.insert(id);
  }
  options.event_id_filter = EventlogInputOptions::EventIds::kList;
  options.event_ids.assign(ids.begin(), ids.end());
}

// `event_ids: all | auto | [4624, 4634, "4778-4779"]`
void parse_event_ids(const YAML::Node& node, const InputParseContext& context,
                     EventlogInputOptions& options) {
  const std::string where = context.where + ".event_ids";
  if (node.IsScalar()) {
    const std::string& value = node.Scalar();
    if (value == "all") {
      options.event_id_filter = EventlogInputOptions::EventIds::kAll;
    } else if (value == "auto") {
      options.event_id_filter = EventlogInputOptions::EventIds::kAuto;
    } else {
      context.reader.error(node.Mark(), where + " '" + value + "' is not all, auto or a list" +
                                            std::string(kEventIdsHelp));
    }
    return;
  }
  if (!node.IsSequence() || node.size() == 0) {
    context.reader.error(
        node.Mark(), where + " must be all, auto or a non-empty list" + std::string(kEventIdsHelp));
    return;
  }
  parse_event_id_list(node, where, context.reader, options);
}

// Required, one channel or a list of them.
void parse_channels(const YAML::Node& item, const InputParseContext& context,
                    EventlogInputOptions& options) {
  const YAML::Node node = item["channels"];
  if (!node) {
    context.reader.error(item.Mark(),
                         context.where + ": 'channels' is required (e.g. [Security, System])");
    return;
  }
  const std::string where = context.where + ".channels";
  if (context.reader.string_list(node, where, options.channels) && options.channels.empty()) {
    context.reader.error(node.Mark(), where + " must not be empty (e.g. [Security, System])");
  }
}

std::shared_ptr<const InputOptions> parse_eventlog_options(const YAML::Node& item,
                                                           const InputParseContext& context) {
  auto options = std::make_shared<EventlogInputOptions>();
  if (item["query"]) {
    context.reader.nonempty_scalar(item["query"], context.where + ".query", options->query);
  }
  if (item["language"]) parse_language(item["language"], context, *options);
  if (item["event_ids"]) parse_event_ids(item["event_ids"], context, *options);
  if (!platform::eventlog_available()) {
    context.reader.error(item["type"].Mark(),
                         context.where + ": the eventlog input is only available on Windows");
  }
  parse_channels(item, context, *options);
  return options;
}

}  // namespace

std::vector<std::string> EventlogInputOptions::details() const {
  std::vector<std::string> out;
  for (const std::string& channel : channels) out.push_back("channel " + channel);
  return out;
}

const InputPlugin kEventlogInput = {"eventlog", kEventlogKeys, &parse_eventlog_options,
                                    &make_eventlog_input};

}  // namespace sw::daemon
