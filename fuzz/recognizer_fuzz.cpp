// The 7063 recognizer over any event: input lines "Name=Value" become payload fields, other lines
// the message. It must find at most one recognition per (error, field), of alerting errors only,
// and exactly what it finds scanning every field when its filter (a search of the event's text
// for what every form holds) lets the event through.
#include <set>
#include <utility>

#include "errors/recognizer.hpp"
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
  static const sw::errors::Recognizer recognizer(catalog);
  const auto filtered = recognizer.recognize(event);
  const auto scanned = recognizer.recognize_every_field(event);
  sw::fuzz::require(filtered.size() == scanned.size(), "the event filter dropped a recognition",
                    scanned.empty() ? std::string_view{} : std::string_view(scanned[0].matched));
  for (std::size_t i = 0; i < scanned.size(); ++i) {
    sw::fuzz::require(
        filtered[i].error == scanned[i].error && filtered[i].form == scanned[i].form &&
            filtered[i].field == scanned[i].field && filtered[i].matched == scanned[i].matched,
        "the event filter changed a recognition", scanned[i].matched);
  }
  for (const sw::Field& f : event.fields()) (void)catalog.describe(event.value(f));
  return 0;
}
