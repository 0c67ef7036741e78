// Helpers shared by the libFuzzer targets: input splitting, a sink that checks what decoders hand
// out, and a property check that stops the run with a message (a finding), not a silent abort.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw::fuzz {

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A property the target asserts was violated: print what and abort, so libFuzzer records the
// input as a crash.
[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %.*s\n%.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void require(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

// Lines of `data` without their '\n' (and a trailing '\r'), as the line decoders get them.
template <typename F>
void for_each_line(std::string_view data, F&& on_line) {
  while (!data.empty()) {
    const std::size_t nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(line);
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
}

// What every decoder promises of the events it produces: strings are valid UTF-8 (decoders
// normalize), so every later stage may rely on it.
inline void check_event(const Event& e) {
  for (std::string_view s : {e.provider_name(), e.provider_guid(), e.channel(), e.computer(),
                             e.user_sid(), e.message(), e.user_data_name()}) {
    require(is_valid_utf8(s), "decoded System string is not valid UTF-8", s);
  }
  for (const Field& f : e.fields()) {
    require(is_valid_utf8(field_name(f.id)), "decoded field name is not valid UTF-8",
            field_name(f.id));
    require(is_valid_utf8(e.value(f)), "decoded field value is not valid UTF-8", e.value(f));
  }
}

// Checks each event and counts what came out; decode errors are expected on fuzzed input.
class CheckingSink : public EventSink {
 public:
  void on_event(Event& event) override {
    check_event(event);
    ++events;
  }
  void on_error(const DecodeError& error) override {
    require(!error.reason.empty(), "decode error without a reason");
    ++errors;
  }
  std::size_t events = 0;
  std::size_t errors = 0;
};

}  // namespace sw::fuzz
