// The agent's configuration loader (sessionwatch.yaml, including the outputs' sections the
// forwarding module validates): every problem is a ConfigError with a message, never a crash.
#include "fuzz_util.hpp"
#include "sessionwatch/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sw::ConfigResult result =
      sw::parse_config(sw::fuzz::as_view(data, size), "/nonexistent/fuzz/sessionwatch.yaml");
  sw::fuzz::require(result.config.has_value() == result.errors.empty(),
                    "a config and errors, or neither");
  for (const sw::ConfigError& e : result.errors) {
    sw::fuzz::require(!e.message.empty(), "config error without a message", sw::to_string(e));
  }
  return 0;
}
