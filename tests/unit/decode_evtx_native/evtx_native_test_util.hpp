// Helpers shared by the native EVTX reader tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/event.hpp"

namespace sw::evtx_native_test {

// Keeps copies of everything a reader hands over.
class CollectingSink : public EventSink {
 public:
  void on_event(Event& event) override { events.push_back(event); }
  void on_error(const DecodeError& error) override { errors.push_back(error); }
  std::vector<Event> events;
  std::vector<DecodeError> errors;
};

// Every difference between two events, one per line; empty when they are equal. Payload values
// that both parse as the same time compare equal (libevtx prints 9 fractional digits, Windows 7).
std::string describe_differences(const Event& expected, const Event& actual);

// Every regular file under `dir` whose name ends in `suffix`, sorted.
std::vector<std::string> files_under(const std::string& dir, const std::string& suffix);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);

std::string shared_dir();
std::string fixture(const std::string& name);

}  // namespace sw::evtx_native_test
