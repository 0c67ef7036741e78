#include "core/packed_event.hpp"

#include <cstring>
#include <new>
#include <type_traits>

namespace sw {

namespace {

// Event's text members (spans of its buffer), in the order of PackedEvent::text_members().
enum TextMember {
  kProviderName,
  kProviderGuid,
  kChannel,
  kComputer,
  kUserSid,
  kActivityId,
  kRelatedActivityId,
  kMessage,
  kUserDataName,
  kOrigin,
  kTextMembers
};

// Every member of Event but its buffer and fields, which follow the head in the allocation.
struct Head {
  std::uint64_t keywords;
  std::uint64_t record_id;
  std::uint64_t source_offset;
  std::uint64_t field_bits;
  Ticks time_created;
  const ErrorInfo* error;
  std::uint32_t event_id;
  std::uint32_t process_id;
  std::uint32_t thread_id;
  std::uint32_t field_count;
  std::uint32_t text_size;
  Span text[kTextMembers];  // in TextMember order
  std::uint16_t qualifiers;
  std::uint16_t task;
  std::uint8_t version;
  std::uint8_t level;
  std::uint8_t opcode;
  bool has_qualifiers;
  bool searched;
  ErrorForm form;
};

static_assert(std::is_trivially_copyable_v<Field> && std::is_trivially_copyable_v<Head>);
static_assert(alignof(Field) <= alignof(Head));
// The head, then the fields, then the text.
constexpr std::size_t kFieldsAt =
    (sizeof(Head) + alignof(Head) - 1) / alignof(Head) * alignof(Head);

const Head& head_of(const std::byte* data) {
  return *std::launder(reinterpret_cast<const Head*>(data));
}

}  // namespace

std::span<Span Event::*const> PackedEvent::text_members() {
  static constexpr Span Event::*kMembers[kTextMembers] = {&Event::provider_name_,
                                                          &Event::provider_guid_,
                                                          &Event::channel_,
                                                          &Event::computer_,
                                                          &Event::user_sid_,
                                                          &Event::activity_id_,
                                                          &Event::related_activity_id_,
                                                          &Event::message_,
                                                          &Event::user_data_name_,
                                                          &Event::origin_};
  return kMembers;
}

PackedEvent::PackedEvent(const Event& e) {
  const std::size_t fields_bytes = e.fields_.size() * sizeof(Field);
  size_ = kFieldsAt + fields_bytes + e.buffer_.size();
  data_.reset(new std::byte[size_]);
  Head* h = new (data_.get()) Head{};
  h->keywords = e.keywords;
  h->record_id = e.record_id;
  h->source_offset = e.source_offset;
  h->field_bits = e.field_bits_;
  h->time_created = e.time_created;
  h->error = e.found_error.error;
  h->event_id = e.event_id;
  h->process_id = e.process_id;
  h->thread_id = e.thread_id;
  h->field_count = static_cast<std::uint32_t>(e.fields_.size());
  h->text_size = static_cast<std::uint32_t>(e.buffer_.size());
  for (int i = 0; i < kTextMembers; ++i) h->text[i] = e.*text_members()[i];
  h->qualifiers = e.qualifiers;
  h->task = e.task;
  h->version = e.version;
  h->level = e.level;
  h->opcode = e.opcode;
  h->has_qualifiers = e.has_qualifiers;
  h->searched = e.found_error.searched;
  h->form = e.found_error.form;
  if (fields_bytes) std::memcpy(data_.get() + kFieldsAt, e.fields_.data(), fields_bytes);
  if (!e.buffer_.empty())
    std::memcpy(data_.get() + kFieldsAt + fields_bytes, e.buffer_.data(), e.buffer_.size());
}

Ticks PackedEvent::time() const {
  return head_of(data_.get()).time_created;
}

std::uint64_t PackedEvent::record_id() const {
  return head_of(data_.get()).record_id;
}

std::string_view PackedEvent::text(Span s) const {
  const Head& h = head_of(data_.get());
  const auto* text = reinterpret_cast<const char*>(data_.get() + kFieldsAt +
                                                   std::size_t{h.field_count} * sizeof(Field));
  return std::string_view(text + s.offset, s.length);
}

std::string_view PackedEvent::computer() const {
  return text(head_of(data_.get()).text[kComputer]);
}

std::string_view PackedEvent::channel() const {
  return text(head_of(data_.get()).text[kChannel]);
}

void PackedEvent::unpack(Event& e) const {
  const Head& h = head_of(data_.get());
  const std::size_t fields_bytes = std::size_t{h.field_count} * sizeof(Field);
  e.fields_.resize(h.field_count);
  if (fields_bytes) std::memcpy(e.fields_.data(), data_.get() + kFieldsAt, fields_bytes);
  e.buffer_.assign(reinterpret_cast<const char*>(data_.get() + kFieldsAt + fields_bytes),
                   h.text_size);
  e.keywords = h.keywords;
  e.record_id = h.record_id;
  e.source_offset = h.source_offset;
  e.field_bits_ = h.field_bits;
  e.time_created = h.time_created;
  e.found_error = Event::FoundError{h.searched, h.error, h.form};
  e.event_id = h.event_id;
  e.process_id = h.process_id;
  e.thread_id = h.thread_id;
  for (int i = 0; i < kTextMembers; ++i) e.*text_members()[i] = h.text[i];
  e.qualifiers = h.qualifiers;
  e.task = h.task;
  e.version = h.version;
  e.level = h.level;
  e.opcode = h.opcode;
  e.has_qualifiers = h.has_qualifiers;
}

}  // namespace sw
