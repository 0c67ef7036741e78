// The recognizer's prepared form of a catalog: numeric targets, symbols and message templates of
// the alerting errors, laid out so the per-event scan is a few memchr-driven passes per value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/error_catalog.hpp"
#include "sessionwatch/needle_search.hpp"

namespace sw::errors {

class Recognizer {
 public:
  explicit Recognizer(const ErrorCatalog& catalog);
  Recognizer(const Recognizer&) = delete;
  Recognizer& operator=(const Recognizer&) = delete;
  // Every recognition in the event, best form first.
  std::vector<Recognition> recognize(const Event& event) const;
  // The same, scanning every field even when the event holds none of the texts every form needs
  // (the filter recognize applies first): for tests that hold the filter to the scans.
  std::vector<Recognition> recognize_every_field(const Event& event) const;

  // Exposed for tests: how a field name is classified.
  static bool is_status_field_name(std::string_view name);
  static bool is_identifier_field_name(std::string_view name);

 private:
  struct NumericTarget {
    std::uint32_t value;
    const ErrorInfo* error;
    ErrorForm form;
  };
  struct TextTarget {
    const ErrorInfo* error;
    std::string lead;                  // "the user " (lower case)
    std::string anchor;                // "is already logged on to the console of this computer"
    std::string contact_lead;          // "contact "
    std::string contact_tail;          // "and have them log off"
    std::vector<std::string> phrases;  // lower case, single-spaced
  };
  struct FieldScan;

  void scan_value(FieldId field, std::string_view value, bool is_message,
                  std::vector<Recognition>& out) const;
  void scan_decimals(FieldScan& scan) const;
  void scan_hex(FieldScan& scan) const;  // 0x1B97, 0X80071B97 ...
  void scan_symbols(FieldScan& scan) const;
  void scan_text(FieldScan& scan) const;
  std::vector<NeedleSearch::Needle> event_needles() const;

  std::vector<NumericTarget> hex_targets_;  // 0x1B97, 0x80071B97, 0xC0071B97 ...
  std::vector<const ErrorInfo*> decimals_;  // Win32 codes of alerting errors
  std::vector<TextTarget> texts_;
  // Cheap substrings one of which must occur before any template or phrase matching.
  std::vector<std::string> text_triggers_;
  NeedleSearch trigger_search_;
  // A text every recognition holds in its field, of each form: see event_needles().
  NeedleSearch event_filter_;
  std::size_t min_symbol_length_ = SIZE_MAX;  // shorter values cannot hold a symbol
  std::size_t min_text_length_ = SIZE_MAX;    // ... nor a phrase or template
};

}  // namespace sw::errors
