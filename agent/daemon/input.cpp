// The input factory's table. A new input is a folder under inputs/ (its options, their parser and
// the input) and one line here.
#include "daemon/input.hpp"

#include <array>

#include "daemon/input_plugin.hpp"
#include "daemon/inputs/eventlog/eventlog_input.hpp"
#include "daemon/inputs/evtx/evtx_input.hpp"
#include "daemon/inputs/file/file_input.hpp"
#include "daemon/inputs/kafka/kafka_config.hpp"

namespace sw::daemon {

std::span<const InputPlugin> input_registry() {
  static const std::array kEntries = {
      kFileInput,
      kEvtxInput,
      kEventlogInput,
      kKafkaInput,
  };
  return kEntries;
}

const InputPlugin* find_input_plugin(std::string_view type) {
  for (const InputPlugin& plugin : input_registry()) {
    if (plugin.type == type) return &plugin;
  }
  return nullptr;
}

std::string input_types() {
  std::string out;
  for (const InputPlugin& plugin : input_registry()) {
    out += (out.empty() ? "" : ", ") + std::string(plugin.type);
  }
  return out;
}

std::unique_ptr<Input> make_input(const InputConfig& config, std::size_t index,
                                  const EventInterest& needed, std::string& error) {
  const InputPlugin* plugin = find_input_plugin(config.type);
  if (!plugin) {
    error = "input " + config.name + ": unknown type '" + config.type + "'";
    return nullptr;
  }
  return plugin->make(config, index, needed, error);
}

}  // namespace sw::daemon
