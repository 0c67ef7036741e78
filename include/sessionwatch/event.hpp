// The normalized event: one flat shape for every source (EVTX, Event XML, JSON lines, text).
//
// Hot-path layout: every string lives in one buffer the event owns; fields are (FieldId, span)
// pairs into it. Field names are interned once process-wide, so matching compares integers.
// An Event is meant to be reused: clear() keeps its capacity.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw {

// Process-wide interned field name. Ids are stable for the life of the process only.
using FieldId = std::uint32_t;

// Interns a name (case-sensitive, as Windows data names are). Thread-safe.
FieldId intern_field(std::string_view name);
// Looks a name up without interning it; nullopt when it was never interned.
std::optional<FieldId> find_field(std::string_view name);
// The name of an interned id. The view stays valid for the life of the process.
std::string_view field_name(FieldId id);

// Ids of the System fields, in Sigma's Windows naming, reserved first in the intern table.
// field_value() answers for these from the typed System members, so rules see one namespace.
namespace fields {
inline constexpr FieldId EventID = 0;
inline constexpr FieldId Channel = 1;
inline constexpr FieldId Provider_Name = 2;
inline constexpr FieldId Provider_Guid = 3;
inline constexpr FieldId Computer = 4;
inline constexpr FieldId EventRecordID = 5;
inline constexpr FieldId Level = 6;
inline constexpr FieldId Task = 7;
inline constexpr FieldId Opcode = 8;
inline constexpr FieldId Keywords = 9;
inline constexpr FieldId Version = 10;
inline constexpr FieldId ProcessID = 11;
inline constexpr FieldId ThreadID = 12;
inline constexpr FieldId Security_UserID = 13;  // System/Security@UserID (SigmaHQ's name)
inline constexpr FieldId ActivityID = 14;
inline constexpr FieldId RelatedActivityID = 15;
inline constexpr FieldId Message = 16;  // RenderingInfo/Message, or a text line
inline constexpr FieldId TimeCreated = 17;
inline constexpr FieldId kLastSystemField = 17;
}  // namespace fields

// Where a payload field came from; kept so the event prints back in the shape it came in.
enum class FieldOrigin : std::uint8_t { kEventData, kUserData, kExtra };

struct ErrorInfo;                     // error_catalog.hpp
enum class ErrorForm : std::uint8_t;  // error_catalog.hpp

// 100-nanosecond ticks since 1970-01-01T00:00:00Z (Windows precision, Unix epoch). Signed, so
// times before 1970 (FILETIME 0 = 1601) stay representable.
using Ticks = std::int64_t;
inline constexpr Ticks kTicksPerSecond = 10'000'000;

// A string stored in an Event's buffer.
struct Span {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

struct Field {
  FieldId id;
  Span value;
  FieldOrigin origin;
};

class Event {
 public:
  // --- System (typed) ---
  std::uint32_t event_id = 0;
  std::uint16_t qualifiers = 0;
  bool has_qualifiers = false;
  std::uint8_t version = 0;
  std::uint8_t level = 0;
  std::uint16_t task = 0;
  std::uint8_t opcode = 0;
  std::uint64_t keywords = 0;
  Ticks time_created = 0;
  std::uint64_t record_id = 0;
  std::uint32_t process_id = 0;
  std::uint32_t thread_id = 0;

  // --- System (strings) ---
  std::string_view provider_name() const { return view(provider_name_); }
  std::string_view provider_guid() const { return view(provider_guid_); }
  std::string_view channel() const { return view(channel_); }
  std::string_view computer() const { return view(computer_); }
  std::string_view user_sid() const { return view(user_sid_); }
  std::string_view activity_id() const { return view(activity_id_); }
  std::string_view related_activity_id() const { return view(related_activity_id_); }
  std::string_view message() const { return view(message_); }
  // The UserData child element's name (e.g. "EventXML"); empty when there is no UserData.
  std::string_view user_data_name() const { return view(user_data_name_); }

  void set_provider_name(std::string_view v) { provider_name_ = store(v); }
  void set_provider_guid(std::string_view v) { provider_guid_ = store(v); }
  void set_channel(std::string_view v) { channel_ = store(v); }
  void set_computer(std::string_view v) { computer_ = store(v); }
  void set_user_sid(std::string_view v) { user_sid_ = store(v); }
  void set_activity_id(std::string_view v) { activity_id_ = store(v); }
  void set_related_activity_id(std::string_view v) { related_activity_id_ = store(v); }
  void set_message(std::string_view v) { message_ = store(v); }
  void set_user_data_name(std::string_view v) { user_data_name_ = store(v); }

  // --- Payload: ordered name/value pairs (EventData, flattened UserData, extras) ---
  void add_field(FieldId id, std::string_view value, FieldOrigin origin = FieldOrigin::kEventData);
  void add_field(std::string_view name, std::string_view value,
                 FieldOrigin origin = FieldOrigin::kEventData) {
    add_field(intern_field(name), value, origin);
  }
  // Replaces the first field with this id, or appends it (origin kExtra).
  void set_field(FieldId id, std::string_view value);
  const std::vector<Field>& fields() const { return fields_; }
  std::string_view value(const Field& f) const { return view(f.value); }
  // First payload field with this id (payload only; see field_value for System fields too).
  std::optional<std::string_view> payload(FieldId id) const;
  std::optional<std::string_view> payload(std::string_view name) const;

  // Where the event came from (file path, "stdin", channel subscription), for error messages and
  // line identity of text sources. Not part of the Windows event.
  std::string_view origin() const { return view(origin_); }
  void set_origin(std::string_view v) { origin_ = store(v); }
  // Ordinal within its source (record number in a file, line number); 0 when unknown.
  std::uint64_t source_offset = 0;

  // The first alerting error ErrorCatalog::builtin() finds in the event, searched by the input
  // on its own thread (daemon::LineDecoder) so that the detection thread need not search again;
  // `searched` false: nobody did yet. Whoever changes the payload after the search clears it.
  struct FoundError {
    bool searched = false;
    const ErrorInfo* error = nullptr;  // none found
    ErrorForm form{};
  };
  FoundError found_error;

  // Resets every member; keeps allocated capacity so a reused Event does not allocate.
  void clear();

  // Total bytes held (for memory accounting and benchmarks).
  std::size_t buffer_size() const { return buffer_.size(); }
  // Every string the event holds, one after another (payload values, the message, the System
  // strings): a text not found here is in none of them, whatever field a scan would read.
  std::string_view held_text() const { return buffer_; }
  // What the event takes in memory, its allocations' capacity included (memory budgets).
  std::size_t footprint() const {
    return sizeof(Event) + buffer_.capacity() + fields_.capacity() * sizeof(Field);
  }

 private:
  friend class PackedEvent;  // copies every member below and above: a new one goes there too

  Span store(std::string_view v);
  std::string_view view(Span s) const {
    return std::string_view(buffer_.data() + s.offset, s.length);
  }

  static std::uint64_t field_bit(FieldId id) { return std::uint64_t{1} << (id % 64); }

  std::string buffer_;
  std::vector<Field> fields_;
  // The payload ids the event may hold, one bit per id modulo 64: most lookups (a rule's field
  // on an event of another kind, the tracker's enrichment fields) are of a field the event lacks,
  // and end here rather than walking every field.
  std::uint64_t field_bits_ = 0;
  Span provider_name_, provider_guid_, channel_, computer_, user_sid_, activity_id_,
      related_activity_id_, message_, user_data_name_, origin_;
};

// The value of any field by id: System fields (rendered as text: EventID as decimal, Keywords as
// canonical hex, TimeCreated as ISO 8601), then payload fields. `scratch` receives numbers
// rendered to text; the returned view points into it or into the event.
std::optional<std::string_view> field_value(const Event& e, FieldId id, std::string& scratch);

// --- Canonical renderings shared by every decoder, so the same event compares equal whatever
// tool rendered it. ---

// Current time as Ticks (UTC).
Ticks now_ticks();
// "2021-02-12T12:34:28.1944370Z" (7 fractional digits, UTC); years after 9999 get more digits
// ("30828-09-14T02:48:05.4775807Z", FILETIME's largest), which parse_time reads back.
std::string format_time(Ticks t);
// Accepts ISO 8601 with 'T' or ' ', 0-9 fractional digits, 'Z', '+hh:mm' or no zone (taken as
// UTC); the year has 4 digits, or up to 6 as far as Ticks reach. nullopt when it is not a time.
std::optional<Ticks> parse_time(std::string_view s);
// parse_time for times that mostly share their minute, as the lines of a log do: the date, hour
// and minute of the last time read are kept, and a time of the same minute (the same first 17
// characters) is read from its seconds on. Gives what parse_time gives; one per decoder.
class TimeReader {
 public:
  std::optional<Ticks> parse(std::string_view s);

 private:
  char minute_[17] = {};  // "2026-11-02T08:00:"
  Ticks minute_ticks_ = 0;
  bool known_ = false;
};
// "0x00000000000AE31A" -> "0xae31a"; "0x0000" -> "0x0". Anything else is returned unchanged.
// Appends to `out`.
void append_canonical_hex(std::string_view s, std::string& out);
bool is_hex_literal(std::string_view s);
// Parses decimal or 0x-hex; nullopt on anything else or overflow.
std::optional<std::uint64_t> parse_uint(std::string_view s);

}  // namespace sw
