// Turns the element stream of one record's BinXML into a sw::Event with the same content the
// Event XML decoder (agent/decode/xml) gives for the XML Windows renders from that record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/field_name_cache.hpp"
#include "sessionwatch/event.hpp"

namespace sw::evtx_native {

// Element names the mapping cares about, by local name (after any "prefix:").
enum class ElementKind : std::uint8_t {
  kOther,
  kEvent,
  kSystem,
  kEventData,
  kUserData,
  kProcessingErrorData,
  kRenderingInfo,
  kProvider,
  kEventID,
  kVersion,
  kLevel,
  kTask,
  kOpcode,
  kKeywords,
  kTimeCreated,
  kEventRecordID,
  kCorrelation,
  kExecution,
  kChannel,
  kComputer,
  kSecurity,
  kData,
  kBinary,
  kMessage,
};

// Attribute names the mapping reads, by exact name.
enum class AttributeKind : std::uint8_t {
  kOther,
  kName,
  kGuid,
  kEventSourceName,
  kQualifiers,
  kSystemTime,
  kActivityID,
  kRelatedActivityID,
  kProcessID,
  kThreadID,
  kUserID,
  kXmlns,  // "xmlns" or "xmlns:prefix"
};

// A name decoded from a chunk, once per chunk.
struct Name {
  std::string text;                // UTF-8 as stored, prefix included
  std::uint32_t local_offset = 0;  // where the local name starts in `text`
  ElementKind element = ElementKind::kOther;
  AttributeKind attribute = AttributeKind::kOther;

  std::string_view local() const { return std::string_view(text).substr(local_offset); }
  void classify();
};

// One substitution value when an attribute's whole value is that substitution, so typed System
// members (TimeCreated) are read without a text round trip.
struct TypedValue {
  std::uint8_t type = 0;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

class EventBuilder {
 public:
  // Starts a record: clears `event` and the element state.
  void begin(Event& event);
  void start_element(const Name& name);
  bool wants_attribute(const Name& name) const;
  void attribute(const Name& name, std::string_view value, const TypedValue* typed);
  // true when attribute() reads `typed` alone, without `value` (a FILETIME SystemTime): the parser
  // then leaves that text unwritten (formatting the time was 2% of decoding a record).
  bool reads_typed_only(const Name& name, const TypedValue& typed) const;
  // Text of the innermost element goes straight into this buffer when wants_text().
  bool wants_text() const { return !frames_.empty() && frames_.back().collects_text; }
  std::string& text_buffer() { return text_; }
  // `vanished`: the element's only content was an optional substitution with no value, which
  // Windows renders by leaving the element out.
  void end_element(bool vanished);
  // Checks what the whole record must have had; false with `error` set otherwise.
  bool finish(std::string& error);
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Bytes produced so far (event buffer and pending text), for the parser's output budget.
  std::size_t output_size() const {
    return text_.size() + (event_ != nullptr ? event_->buffer_size() : 0);
  }

 private:
  enum class Role : std::uint8_t {
    kIgnore,
    kRoot,
    kSystem,
    kSystemField,
    kEventData,
    kEventDataItem,
    kUserData,
    kFlatten,
    kRenderingInfo,
    kMessage,
  };
  struct Frame {
    Role role;
    ElementKind kind;
    FieldOrigin origin;
    bool collects_text;
    std::uint32_t children = 0;
    bool seen_first = false;  // UserData: root found; RenderingInfo: Message found
    std::uint32_t text_start;
    std::uint32_t path_size;
  };

  Role child_role(const Frame& parent, const Name& name, FieldOrigin& origin);
  std::string_view frame_text(const Frame& f) const;
  void end_system_field(const Frame& f, std::string_view text);
  void fail(std::string message);
  FieldId data_position_id(unsigned position);

  Event* event_ = nullptr;
  std::vector<Frame> frames_;
  std::string text_;
  std::string path_;
  bool seen_root_ = false;
  bool has_system_ = false;
  bool has_event_id_ = false;
  unsigned data_position_ = 0;
  std::string root_prefix_;
  // Attribute values held until their element ends.
  std::string data_name_;
  std::string provider_name_, provider_source_, provider_guid_;
  std::string qualifiers_;
  bool has_qualifiers_attr_ = false;
  std::string error_;
  std::vector<FieldId> param_ids_;
  FieldNameCache field_names_;  // EventData names and UserData paths, without the table's lock
};

}  // namespace sw::evtx_native
