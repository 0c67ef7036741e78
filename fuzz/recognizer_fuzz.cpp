// The 7063 recognizer over any event: input lines "Name=Value" become payload fields, other lines
// the message. It must find at most one recognition per (error, field), of alerting errors only.
#include <set>
#include <utility>

#include "fuzz_util.hpp"
#include "sessionwatch/error_catalog.hpp"

namespace {

// Field names interned are kept for the life of the process, so arbitrary names would grow the
// table with every run; names outside this list (status fields and ordinary ones) map onto it.
constexpr std::string_view kNames[] = {"Status",     "SubStatus",   "ErrorCode",     "Error",
                                       "ReturnCode", "Win32Status", "FailureReason", "Reason",
                                       "Data",       "param1",      "param2",        "Result"};

std::string_view field_name_for(std::string_view name) {
  for (std::string_view known : kNames) {
    if (known == name) return known;
  }
  return kNames[name.size() % std::size(kNames)];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sw::Event event;
  event.event_id = 1001;
  event.set_channel("Application");
  std::string message;
  sw::fuzz::for_each_line(sw::fuzz::as_view(data, size), [&](std::string_view line) {
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      message.append(line).push_back('\n');
    } else {
      event.add_field(field_name_for(line.substr(0, eq)), line.substr(eq + 1));
    }
  });
  event.set_message(message);

  const sw::ErrorCatalog& catalog = sw::ErrorCatalog::builtin();
  std::set<std::pair<const sw::ErrorInfo*, sw::FieldId>> seen;
  for (const sw::Recognition& r : catalog.recognize(event)) {
    sw::fuzz::require(r.error != nullptr && r.error->alerting, "recognized a non-alerting error");
    sw::fuzz::require(seen.emplace(r.error, r.field).second,
                      "two recognitions of one error in one field", r.matched);
  }
  for (const sw::Field& f : event.fields()) (void)catalog.describe(event.value(f));
  return 0;
}
