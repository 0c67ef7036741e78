// What each input under inputs/<type>/ registers (as outputs do in forward/output_plugin.hpp):
// its type, its own keys, the parser that reads them into its options and the factory that makes
// the input. daemon/config.cpp and make_input consult the table in input.cpp and name no input.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "daemon/yaml_reader.hpp"
#include "sessionwatch/config.hpp"

namespace sw {
class EventInterest;
}

namespace sw::daemon {

class Input;

// What an input's parser reads with.
struct InputParseContext {
  YamlReader& reader;    // records every problem with file:line:column, resolves paths
  std::string where;     // "inputs[2]", the start of its messages
  std::string data_dir;  // the agent's
};

// Reads the type's own keys of one `inputs:` item (`type` and `name` are the caller's; unknown keys
// are refused before). Reports every problem to context.reader; what it returns is only used when
// there was none.
using InputParse = std::shared_ptr<const InputOptions> (*)(const YAML::Node& item,
                                                           const InputParseContext& context);
// `needed`: the events the detector reads, for inputs that filter at the origin. Null and `error`
// when the input cannot be made.
using InputFactory = std::unique_ptr<Input> (*)(const InputConfig& config, std::size_t index,
                                                const EventInterest& needed, std::string& error);

struct InputPlugin {
  std::string_view type;
  // Its own keys, beside `type` and `name`: any other key is refused.
  std::span<const std::string_view> keys;
  InputParse parse;
  InputFactory make;
};

// Every input type, in input.cpp: adding one is one line there and one folder.
std::span<const InputPlugin> input_registry();
const InputPlugin* find_input_plugin(std::string_view type);
// "file, evtx, eventlog, kafka"
std::string input_types();

// The options of `config` as the type's own struct; null (and `error`) when they are missing or
// of another type (a config built in code without them).
template <class Options>
const Options* options_of(const InputConfig& config, std::string& error) {
  const auto* options = dynamic_cast<const Options*>(config.options.get());
  if (!options) error = "input " + config.name + " has no " + config.type + " options";
  return options;
}

// For configs built in code (tests, benches): the options of `config` as a mutable copy of the
// type's struct (default ones when it has none), which `config` then holds.
template <class Options>
Options& edit_options(InputConfig& config) {
  const auto* current = dynamic_cast<const Options*>(config.options.get());
  auto copy = current ? std::make_shared<Options>(*current) : std::make_shared<Options>();
  config.options = copy;
  return *copy;
}

}  // namespace sw::daemon
