// Helpers for the JSON-lines, text and dispatcher tests.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "sessionwatch/decode.hpp"

namespace sw::testing {

class RecordingSink : public EventSink {
 public:
  void on_event(Event& event) override { events.push_back(event); }
  void on_error(const DecodeError& error) override { errors.push_back(error); }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    progress.emplace_back(done, total);
  }
  std::vector<Event> events;
  std::vector<DecodeError> errors;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
};

using Payload = std::vector<std::tuple<std::string, std::string, FieldOrigin>>;

inline Payload payload(const Event& e) {
  Payload out;
  for (const Field& f : e.fields())
    out.emplace_back(std::string(field_name(f.id)), std::string(e.value(f)), f.origin);
  return out;
}

// Payload grouped the way the JSON shape groups it: event data, user data, then extras named
// "sessionwatch.*", then other extras; order kept within each group.
inline Payload grouped_payload(const Event& e) {
  Payload all = payload(e);
  Payload out;
  auto take = [&](auto keep) {
    for (const auto& f : all)
      if (keep(f)) out.push_back(f);
  };
  auto extra_prefixed = [](const auto& f) { return std::get<0>(f).rfind("sessionwatch.", 0) == 0; };
  take([](const auto& f) { return std::get<2>(f) == FieldOrigin::kEventData; });
  take([](const auto& f) { return std::get<2>(f) == FieldOrigin::kUserData; });
  take([&](const auto& f) { return std::get<2>(f) == FieldOrigin::kExtra && extra_prefixed(f); });
  take([&](const auto& f) { return std::get<2>(f) == FieldOrigin::kExtra && !extra_prefixed(f); });
  return out;
}

// Every member of the Windows event (not origin/source_offset, which describe where it was read).
inline void expect_same_event(const Event& a, const Event& b) {
  EXPECT_EQ(a.event_id, b.event_id);
  EXPECT_EQ(a.qualifiers, b.qualifiers);
  EXPECT_EQ(a.has_qualifiers, b.has_qualifiers);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.task, b.task);
  EXPECT_EQ(a.opcode, b.opcode);
  EXPECT_EQ(a.keywords, b.keywords);
  EXPECT_EQ(a.time_created, b.time_created);
  EXPECT_EQ(a.record_id, b.record_id);
  EXPECT_EQ(a.process_id, b.process_id);
  EXPECT_EQ(a.thread_id, b.thread_id);
  EXPECT_EQ(a.provider_name(), b.provider_name());
  EXPECT_EQ(a.provider_guid(), b.provider_guid());
  EXPECT_EQ(a.channel(), b.channel());
  EXPECT_EQ(a.computer(), b.computer());
  EXPECT_EQ(a.user_sid(), b.user_sid());
  EXPECT_EQ(a.activity_id(), b.activity_id());
  EXPECT_EQ(a.related_activity_id(), b.related_activity_id());
  EXPECT_EQ(a.message(), b.message());
  EXPECT_EQ(a.user_data_name(), b.user_data_name());
  EXPECT_EQ(grouped_payload(a), grouped_payload(b));
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::string field_or(const Event& e, std::string_view name,
                            std::string fallback = "<absent>") {
  auto v = e.payload(name);
  return v ? std::string(*v) : fallback;
}

}  // namespace sw::testing
