// JSON lines in the Winlogbeat/ECS and the NXLog im_msvistalog shapes, line by line through one
// decoder (it keeps its parser between lines, as the daemon's file inputs do).
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sw::JsonLineDecoder decoder;
  sw::Event event;
  std::string error;
  sw::fuzz::for_each_line(sw::fuzz::as_view(data, size), [&](std::string_view line) {
    error.clear();
    if (decoder.decode(line, event, error)) {
      sw::fuzz::check_event(event);
    } else {
      sw::fuzz::require(!error.empty(), "JSON line refused without a reason", line);
    }
  });
  return 0;
}
