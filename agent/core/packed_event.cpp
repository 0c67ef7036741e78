#include "core/packed_event.hpp"

#include <algorithm>
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

// Calls `copy(event member, head member)` for every member the head keeps: the one list of
// them, for packing and unpacking alike.
template <typename E, typename H, typename Copy>
void PackedEvent::each_member(E& e, H& h, Copy copy) {
  copy(e.keywords, h.keywords);
  copy(e.record_id, h.record_id);
  copy(e.source_offset, h.source_offset);
  copy(e.field_bits_, h.field_bits);
  copy(e.time_created, h.time_created);
  copy(e.found_error.error, h.error);
  copy(e.found_error.searched, h.searched);
  copy(e.found_error.form, h.form);
  copy(e.event_id, h.event_id);
  copy(e.process_id, h.process_id);
  copy(e.thread_id, h.thread_id);
  for (int i = 0; i < kTextMembers; ++i) copy(e.*text_members()[i], h.text[i]);
  copy(e.qualifiers, h.qualifiers);
  copy(e.task, h.task);
  copy(e.version, h.version);
  copy(e.level, h.level);
  copy(e.opcode, h.opcode);
  copy(e.has_qualifiers, h.has_qualifiers);
}

std::size_t PackedEvent::packed_size(const Event& e) {
  return kFieldsAt + e.fields_.size() * sizeof(Field) + e.buffer_.size();
}

PackedEvent::PackedEvent(const Event& e, Storage storage) : size_(packed_size(e)) {
  if (storage.bytes && storage.capacity >= size_) {
    data_ = std::move(storage.bytes);
    capacity_ = storage.capacity;
  } else {
    capacity_ = (size_ + kStep - 1) / kStep * kStep;
    data_.reset(new std::byte[capacity_]);
  }
  const std::size_t fields_bytes = e.fields_.size() * sizeof(Field);
  Head* h = new (data_.get()) Head{};
  h->field_count = static_cast<std::uint32_t>(e.fields_.size());
  h->text_size = static_cast<std::uint32_t>(e.buffer_.size());
  each_member(e, *h,
              [](const auto& event_member, auto& head_member) { head_member = event_member; });
  if (fields_bytes) std::memcpy(data_.get() + kFieldsAt, e.fields_.data(), fields_bytes);
  if (!e.buffer_.empty())
    std::memcpy(data_.get() + kFieldsAt + fields_bytes, e.buffer_.data(), e.buffer_.size());
}

PackedEvent::Storage PackedEvent::take_storage() && {
  Storage storage{std::move(data_), capacity_};
  size_ = capacity_ = 0;
  return storage;
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

void PackedEvent::prefetch() const {
  // A typical event is 10-12 cache lines; an unusually large one is fetched as it is copied.
  prefetch_first(2048);
}

void PackedEvent::prefetch_keys() const {
  // The head and about 20 fields take the first 300 bytes or so; the text starts after them.
  prefetch_first(512);
}

void PackedEvent::prefetch_first(std::size_t max_bytes) const {
  constexpr std::size_t kLine = 64;
  const std::size_t bytes = std::min(size_, max_bytes);
  for (std::size_t at = 0; at < bytes; at += kLine) __builtin_prefetch(data_.get() + at, 0, 2);
}

void PackedEvent::unpack(Event& e) const {
  const Head& h = head_of(data_.get());
  const std::size_t fields_bytes = std::size_t{h.field_count} * sizeof(Field);
  e.fields_.resize(h.field_count);
  if (fields_bytes) std::memcpy(e.fields_.data(), data_.get() + kFieldsAt, fields_bytes);
  e.buffer_.assign(reinterpret_cast<const char*>(data_.get() + kFieldsAt + fields_bytes),
                   h.text_size);
  each_member(e, h,
              [](auto& event_member, const auto& head_member) { event_member = head_member; });
}

}  // namespace sw
