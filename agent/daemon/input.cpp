#include "daemon/input.hpp"

#include "daemon/inputs/evtx/evtx_input.hpp"
#include "daemon/inputs/file/file_input.hpp"

namespace sw::daemon {

std::unique_ptr<Input> make_input(const InputConfig& config, std::size_t index,
                                  std::string& error) {
  switch (config.type) {
    case InputType::kFile:
      return make_file_input(config, index);
    case InputType::kEvtx:
      return make_evtx_input(config, index);
    case InputType::kEventlog:
      // Provided by agent/platform/windows (EvtSubscribe with bookmarks) on Windows.
      error = "input " + config.name + ": the eventlog input is only available on Windows";
      return nullptr;
  }
  error = "input " + config.name + ": unknown type";
  return nullptr;
}

}  // namespace sw::daemon
