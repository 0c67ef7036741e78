#include "daemon/input.hpp"

#include "daemon/inputs/eventlog/eventlog_input.hpp"
#include "daemon/inputs/evtx/evtx_input.hpp"
#include "daemon/inputs/file/file_input.hpp"
#include "daemon/inputs/kafka/kafka_input.hpp"

namespace sw::daemon {

std::unique_ptr<Input> make_input(const InputConfig& config, std::size_t index,
                                  const EventInterest& needed, std::string& error) {
  switch (config.type) {
    case InputType::kFile:
      return make_file_input(config, index);
    case InputType::kEvtx:
      return make_evtx_input(config, index);
    case InputType::kEventlog:
      // EvtSubscribe with bookmarks (agent/platform/windows); off Windows its source refuses to
      // start with a message, and the config check refuses it before that.
      return make_eventlog_input(config, index, needed);
    case InputType::kKafka:
      return make_kafka_input(config, index, error);
  }
  error = "input " + config.name + ": unknown type";
  return nullptr;
}

}  // namespace sw::daemon
