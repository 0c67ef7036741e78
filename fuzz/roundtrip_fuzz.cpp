// `scan --events` round trip: whatever a decoder makes of the input (EVTX, Event XML, JSON lines,
// text), the event written as a JSON line reads back as the same event, and writes the same line.
#include <algorithm>
#include <tuple>

#include "evtx_image.hpp"
#include "fuzz_util.hpp"
#include "sessionwatch/evtx_native.hpp"

namespace {

using sw::fuzz::require;

std::string describe_difference(const sw::Event& a, const sw::Event& b) {
  std::string d;
  auto check = [&](bool same, const char* what) {
    if (!same) d += std::string(what) + " ";
  };
  check(a.event_id == b.event_id, "event_id");
  check(a.qualifiers == b.qualifiers && a.has_qualifiers == b.has_qualifiers, "qualifiers");
  check(a.version == b.version, "version");
  check(a.level == b.level, "level");
  check(a.task == b.task, "task");
  check(a.opcode == b.opcode, "opcode");
  check(a.keywords == b.keywords, "keywords");
  check(a.time_created == b.time_created, "time_created");
  check(a.record_id == b.record_id, "record_id");
  check(a.process_id == b.process_id && a.thread_id == b.thread_id, "process/thread");
  check(a.provider_name() == b.provider_name() && a.provider_guid() == b.provider_guid(),
        "provider");
  check(a.channel() == b.channel(), "channel");
  check(a.computer() == b.computer(), "computer");
  check(a.user_sid() == b.user_sid(), "user_sid");
  check(a.activity_id() == b.activity_id() && a.related_activity_id() == b.related_activity_id(),
        "activity ids");
  check(a.message() == b.message(), "message");
  check(a.user_data_name() == b.user_data_name(), "user_data_name");
  return d;
}

// Payload fields as name, value, origin, in the order the JSON shape keeps them.
std::vector<std::tuple<std::string_view, std::string_view, sw::FieldOrigin>> payload(
    const sw::Event& e) {
  std::vector<std::tuple<std::string_view, std::string_view, sw::FieldOrigin>> out;
  for (const sw::Field& f : e.fields())
    out.emplace_back(sw::field_name(f.id), e.value(f), f.origin);
  std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    auto rank = [](const auto& f) {
      if (std::get<2>(f) != sw::FieldOrigin::kExtra) return static_cast<int>(std::get<2>(f));
      return std::get<0>(f).rfind("sessionwatch.", 0) == 0 ? 2 : 3;
    };
    return rank(x) < rank(y);
  });
  return out;
}

class RoundTripSink : public sw::fuzz::CheckingSink {
 public:
  void on_event(sw::Event& event) override {
    sw::fuzz::CheckingSink::on_event(event);
    line_.clear();
    sw::write_event_json(event, line_);
    std::string error;
    require(decoder_.decode(line_, back_, error),
            "scan cannot read its own --events line: " + error, line_);
    const std::string difference = describe_difference(event, back_);
    require(difference.empty(), "event read back differs in: " + difference, line_);
    require(payload(event) == payload(back_), "payload read back differs", line_);
    again_.clear();
    sw::write_event_json(back_, again_);
    require(again_ == line_, "event read back writes another line", line_ + "\n" + again_);
  }

 private:
  sw::JsonLineDecoder decoder_;
  sw::Event back_;
  std::string line_, again_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = sw::fuzz::as_view(data, size);
  RoundTripSink sink;
  if (input.substr(0, 8) == std::string_view("ElfFile\0", 8)) {
    std::string error;
    std::string image(input);
    sw::fuzz::fix_chunk_checksums(image);
    if (auto reader = sw::NativeEvtxReader::open_memory(std::move(image), "fuzz.evtx", error))
      reader->read(sink);
    return 0;
  }
  sw::DecodeOptions options;
  options.default_computer = "WS01";
  sw::decode_buffer(input, "fuzz", options, sink);
  return 0;
}
