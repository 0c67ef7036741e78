// Test helpers shared by the XML and EVTX decoder tests.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw::test {

// Keeps copies of everything a decoder reports.
class CollectingSink : public EventSink {
 public:
  void on_event(Event& event) override { events.push_back(event); }
  void on_error(const DecodeError& error) override { errors.push_back(error); }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    progress.emplace_back(done, total);
  }

  std::map<std::uint32_t, int> counts_by_event_id() const {
    std::map<std::uint32_t, int> counts;
    for (const Event& e : events) ++counts[e.event_id];
    return counts;
  }

  std::vector<Event> events;
  std::vector<DecodeError> errors;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
};

using PayloadField = std::tuple<std::string, std::string, FieldOrigin>;

// The payload as (name, value, origin) triples, in order.
inline std::vector<PayloadField> payload_of(const Event& e) {
  std::vector<PayloadField> out;
  for (const Field& f : e.fields()) {
    out.emplace_back(std::string(field_name(f.id)), std::string(e.value(f)), f.origin);
  }
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string field_or(const Event& e, std::string_view name,
                            std::string fallback = "<absent>") {
  auto v = e.payload(name);
  return v ? std::string(*v) : fallback;
}

}  // namespace sw::test
