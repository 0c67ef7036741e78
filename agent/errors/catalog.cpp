#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "errors/recognizer.hpp"
#include "sessionwatch/error_catalog.hpp"
#include "sessionwatch/text.hpp"

namespace sw {
namespace embedded {
extern const std::string_view errors_json;
}

namespace {

std::uint32_t parse_code(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return j.get<std::uint32_t>();
  const std::string text = j.get<std::string>();
  auto v = parse_uint(text);
  if (!v || *v > 0xFFFFFFFFu) throw std::runtime_error("bad code " + text);
  return static_cast<std::uint32_t>(*v);
}

ErrorSpace parse_space(const std::string& s) {
  if (s == "win32") return ErrorSpace::kWin32;
  if (s == "ntstatus") return ErrorSpace::kNtStatus;
  if (s == "hresult") return ErrorSpace::kHresult;
  throw std::runtime_error("bad space " + s);
}

// The embedded catalog is part of the build; a parse failure is a build defect, so it is
// allowed to throw at first use (it cannot happen with the file the build embeds).
ErrorCatalog load_builtin() {
  const auto doc = nlohmann::json::parse(embedded::errors_json);
  std::vector<ErrorInfo> errors;
  for (const auto& e : doc.at("errors")) {
    ErrorInfo info;
    info.code = parse_code(e.at("code"));
    info.space = parse_space(e.at("space").get<std::string>());
    info.symbol = e.at("symbol").get<std::string>();
    info.message_template = e.value("message_template", "");
    info.meaning = e.at("meaning").get<std::string>();
    info.phrases = e.value("phrases", std::vector<std::string>{});
    info.alerting = e.value("alerting", false);
    errors.push_back(std::move(info));
  }
  std::vector<ErrorCatalog::RelatedEvent> related;
  for (const auto& r : doc.at("related_events")) {
    related.push_back({r.at("channel").get<std::string>(), r.at("event_id").get<std::uint32_t>(),
                       r.at("description").get<std::string>()});
  }
  return ErrorCatalog(std::move(errors), std::move(related));
}

using text::iequals;
using text::trim;

}  // namespace

std::string_view to_string(ErrorForm f) {
  switch (f) {
    case ErrorForm::kDecimal:
      return "decimal";
    case ErrorForm::kHex:
      return "hex";
    case ErrorForm::kHresult:
      return "hresult";
    case ErrorForm::kNtStatus:
      return "ntstatus";
    case ErrorForm::kSymbol:
      return "symbol";
    case ErrorForm::kToolOutput:
      return "tool_output";
    case ErrorForm::kMessage:
      return "message";
    case ErrorForm::kPhrase:
      return "phrase";
  }
  return "unknown";
}

ErrorCatalog::ErrorCatalog(std::vector<ErrorInfo> errors, std::vector<RelatedEvent> related)
    : errors_(std::move(errors)), related_(std::move(related)) {}

const ErrorCatalog& ErrorCatalog::builtin() {
  static const ErrorCatalog catalog = load_builtin();
  return catalog;
}

const ErrorInfo* ErrorCatalog::find_win32(std::uint32_t code) const {
  for (const auto& e : errors_)
    if (e.space == ErrorSpace::kWin32 && e.code == code) return &e;
  return nullptr;
}

const ErrorInfo* ErrorCatalog::find_ntstatus(std::uint32_t code) const {
  for (const auto& e : errors_)
    if (e.space == ErrorSpace::kNtStatus && e.code == code) return &e;
  // NTSTATUS built from a Win32 code (FACILITY_NTWIN32): 0xC007xxxx.
  if ((code & 0xFFFF0000u) == 0xC0070000u) return find_win32(code & 0xFFFFu);
  return nullptr;
}

const ErrorInfo* ErrorCatalog::find_symbol(std::string_view symbol) const {
  symbol = trim(symbol);
  for (const auto& e : errors_)
    if (iequals(e.symbol, symbol)) return &e;
  return nullptr;
}

std::optional<std::string_view> ErrorCatalog::describe(std::string_view code_text) const {
  const std::string_view text = trim(code_text);
  if (text.empty()) return std::nullopt;
  const ErrorInfo* found = nullptr;
  if (text[0] == '-') {
    // Negative decimal: an HRESULT printed as a signed 32-bit integer.
    std::int64_t v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec == std::errc() && r.ptr == text.data() + text.size() && v < 0 && v >= -2147483648LL) {
      const auto u = static_cast<std::uint32_t>(static_cast<std::int64_t>(0x100000000LL) + v);
      if ((u & 0xFFFF0000u) == 0x80070000u) found = find_win32(u & 0xFFFFu);
    }
  } else if (auto v = parse_uint(text); v && *v <= 0xFFFFFFFFu) {
    const auto u = static_cast<std::uint32_t>(*v);
    if ((u & 0xFFFF0000u) == 0x80070000u) {
      found = find_win32(u & 0xFFFFu);
    } else if (u >= 0xC0000000u) {
      found = find_ntstatus(u);
    } else if (u <= 0xFFFFu) {
      found = find_win32(u);
    }
  } else {
    found = find_symbol(text);
  }
  if (!found) return std::nullopt;
  return std::string_view(found->meaning);
}

std::optional<std::string_view> ErrorCatalog::describe_event(std::string_view channel,
                                                             std::uint32_t event_id) const {
  for (const auto& r : related_)
    if (r.event_id == event_id && iequals(r.channel, channel))
      return std::string_view(r.description);
  return std::nullopt;
}

std::vector<Recognition> ErrorCatalog::recognize(const Event& event) const {
  if (this == &builtin()) {
    static const errors::Recognizer builtin_recognizer(*this);
    return builtin_recognizer.recognize(event);
  }
  return errors::Recognizer(*this).recognize(event);
}

Event::FoundError ErrorCatalog::first_alerting(const Event& event) const {
  Event::FoundError found{.searched = true};
  for (const Recognition& r : recognize(event)) {
    if (!r.error || !r.error->alerting) continue;
    found.error = r.error;
    found.form = r.form;
    break;
  }
  return found;
}

}  // namespace sw
