// The error catalog and the recognizer that finds catalogued errors (7063 first) in any field.
//
// The catalog is data (agent/errors/errors.json, compiled in). The recognizer never assumes an
// event id or a field name: it looks at every payload field and the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/event.hpp"

namespace sw {

enum class ErrorSpace : std::uint8_t { kWin32, kNtStatus, kHresult };

struct ErrorInfo {
  std::uint32_t code;  // as the space defines it (Win32 7063; NTSTATUS 0xC000006D)
  ErrorSpace space;
  std::string symbol;            // ERROR_CTX_NO_FORCE_LOGOFF
  std::string message_template;  // English text, %s placeholders as Windows has them
  std::string meaning;           // one line: what it is and what it is not
  // Phrases that identify the message even when rewrapped or partly quoted.
  std::vector<std::string> phrases;
  // True for the codes sessionwatch alerts on (7063, 7062); others are context.
  bool alerting = false;
};

// How a code appeared.
enum class ErrorForm : std::uint8_t {
  kDecimal,     // "7063" as a whole field value
  kHex,         // 0x1B97, 0x00001b97
  kHresult,     // 0x80071B97, -2147017833
  kNtStatus,    // 0xC0071B97 (NTSTATUS from Win32) or a native NTSTATUS
  kSymbol,      // ERROR_CTX_NO_FORCE_LOGOFF
  kToolOutput,  // "Error code 7063", "Error [7063]:", "error 7063"
  kMessage,     // the message template, filled in
  kPhrase,      // "is already logged on to the console of this computer"
};
std::string_view to_string(ErrorForm f);

struct Recognition {
  const ErrorInfo* error = nullptr;
  ErrorForm form;
  FieldId field;        // which field held it (fields::Message for the rendered message)
  std::string matched;  // the text that matched
  // Filled when the message template matched: the two %s\%s of the text
  // (for 7063/7062 the user already logged on, i.e. the one to contact).
  std::string holder_domain, holder_user;
};

class ErrorCatalog {
 public:
  // The built-in catalog.
  static const ErrorCatalog& builtin();

  const ErrorInfo* find_win32(std::uint32_t code) const;
  const ErrorInfo* find_ntstatus(std::uint32_t code) const;
  const ErrorInfo* find_symbol(std::string_view symbol) const;
  const std::vector<ErrorInfo>& all() const { return errors_; }

  // Every alerting error found in the event, at most one Recognition per (error, field), the most
  // specific form first (message > tool output > symbol > hresult > ntstatus > hex > decimal).
  // A bare decimal is only taken from a field whose name says it holds a status or error code
  // (Status, Error, ErrorCode, Win32Status, ReturnCode, ...), never from arbitrary numbers.
  std::vector<Recognition> recognize(const Event& event) const;
  // The first alerting error of recognize(event) and its form: what the tracker reports.
  Event::FoundError first_alerting(const Event& event) const;

  // "0xC000006D" -> "the user name or password is incorrect" style meaning for context fields.
  std::optional<std::string_view> describe(std::string_view code_text) const;

  // Related events worth explaining next to an alert (Security 4625, 4825, ...); nullopt when the
  // catalog has nothing on this event.
  struct RelatedEvent {
    std::string channel;
    std::uint32_t event_id = 0;
    std::string description;
  };
  std::optional<std::string_view> describe_event(std::string_view channel,
                                                 std::uint32_t event_id) const;
  const std::vector<RelatedEvent>& related_events() const { return related_; }

  explicit ErrorCatalog(std::vector<ErrorInfo> errors, std::vector<RelatedEvent> related = {});

 private:
  std::vector<ErrorInfo> errors_;
  std::vector<RelatedEvent> related_;
};

}  // namespace sw
