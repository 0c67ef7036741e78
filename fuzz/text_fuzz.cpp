// Plain text lines (tool output, script logs): any line that is not empty yields an event.
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sw::DecodeOptions options;
  options.default_computer = "WS01";
  sw::TextLineDecoder decoder(options);
  sw::Event event;
  std::string error;
  sw::fuzz::for_each_line(sw::fuzz::as_view(data, size), [&](std::string_view line) {
    error.clear();
    const bool decoded = decoder.decode(line, 1'613'133'268LL * sw::kTicksPerSecond, event, error);
    if (decoded) sw::fuzz::check_event(event);
    sw::fuzz::require(decoded || line.empty() || !error.empty(),
                      "text line refused without a reason", line);
  });
  return 0;
}
