// JSON lines in the Winlogbeat/ECS and the NXLog im_msvistalog shapes, line by line through one
// decoder (it keeps its parser between lines, as the daemon's file inputs do). Each line is also
// read by a second decoder with the exact (On-Demand) reader alone: the fast (DOM) reader must give
// the same event or the same error.
#include <tuple>

#include "fuzz_util.hpp"

namespace {

// Every member of the Windows event, and the fields in order with their origin.
bool same_event(const sw::Event& a, const sw::Event& b) {
  const auto system = [](const sw::Event& e) {
    return std::make_tuple(e.event_id, e.qualifiers, e.has_qualifiers, e.version, e.level, e.task,
                           e.opcode, e.keywords, e.time_created, e.record_id, e.process_id,
                           e.thread_id, e.provider_name(), e.provider_guid(), e.channel(),
                           e.computer(), e.user_sid(), e.activity_id(), e.related_activity_id(),
                           e.message(), e.user_data_name());
  };
  if (system(a) != system(b) || a.fields().size() != b.fields().size()) return false;
  for (std::size_t i = 0; i < a.fields().size(); ++i) {
    const sw::Field& fa = a.fields()[i];
    const sw::Field& fb = b.fields()[i];
    if (sw::field_name(fa.id) != sw::field_name(fb.id) || fa.origin != fb.origin ||
        a.value(fa) != b.value(fb))
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sw::JsonLineDecoder decoder;
  sw::JsonLineDecoder exact;
  exact.use_fast_reader(false);
  sw::Event event;
  sw::Event exact_event;
  std::string error;
  std::string exact_error;
  sw::fuzz::for_each_line(sw::fuzz::as_view(data, size), [&](std::string_view line) {
    error.clear();
    exact_error.clear();
    const bool ok = decoder.decode(line, event, error);
    const bool exact_ok = exact.decode(line, exact_event, exact_error);
    sw::fuzz::require(ok == exact_ok && error == exact_error,
                      "the fast and the exact JSON readers disagree on a line's outcome", line);
    if (ok) {
      sw::fuzz::check_event(event);
      sw::fuzz::require(same_event(event, exact_event),
                        "the fast and the exact JSON readers read different events", line);
    } else {
      sw::fuzz::require(!error.empty(), "JSON line refused without a reason", line);
    }
  });
  return 0;
}
