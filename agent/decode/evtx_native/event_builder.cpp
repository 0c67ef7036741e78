#include "decode/evtx_native/event_builder.hpp"

#include <algorithm>
#include <limits>

#include "decode/evtx_native/values.hpp"
#include "sessionwatch/text.hpp"

namespace sw::evtx_native {
namespace {

// Same limit as the XML decoder's UserData flattening, so both reject the same records.
constexpr unsigned kMaxUserDataDepth = 32;

struct KindName {
  std::string_view name;
  ElementKind kind;
};
constexpr KindName kElementNames[] = {
    {"Event", ElementKind::kEvent},
    {"System", ElementKind::kSystem},
    {"EventData", ElementKind::kEventData},
    {"UserData", ElementKind::kUserData},
    {"ProcessingErrorData", ElementKind::kProcessingErrorData},
    {"RenderingInfo", ElementKind::kRenderingInfo},
    {"Provider", ElementKind::kProvider},
    {"EventID", ElementKind::kEventID},
    {"Version", ElementKind::kVersion},
    {"Level", ElementKind::kLevel},
    {"Task", ElementKind::kTask},
    {"Opcode", ElementKind::kOpcode},
    {"Keywords", ElementKind::kKeywords},
    {"TimeCreated", ElementKind::kTimeCreated},
    {"EventRecordID", ElementKind::kEventRecordID},
    {"Correlation", ElementKind::kCorrelation},
    {"Execution", ElementKind::kExecution},
    {"Channel", ElementKind::kChannel},
    {"Computer", ElementKind::kComputer},
    {"Security", ElementKind::kSecurity},
    {"Data", ElementKind::kData},
    {"Binary", ElementKind::kBinary},
    {"Message", ElementKind::kMessage},
};

struct AttributeName {
  std::string_view name;
  AttributeKind kind;
};
constexpr AttributeName kAttributeNames[] = {
    {"Name", AttributeKind::kName},
    {"Guid", AttributeKind::kGuid},
    {"EventSourceName", AttributeKind::kEventSourceName},
    {"Qualifiers", AttributeKind::kQualifiers},
    {"SystemTime", AttributeKind::kSystemTime},
    {"ActivityID", AttributeKind::kActivityID},
    {"RelatedActivityID", AttributeKind::kRelatedActivityID},
    {"ProcessID", AttributeKind::kProcessID},
    {"ThreadID", AttributeKind::kThreadID},
    {"UserID", AttributeKind::kUserID},
};

template <typename T>
void set_number(std::string_view text, T& member) {
  const auto v = parse_uint(text);
  if (v && *v <= std::numeric_limits<T>::max()) member = static_cast<T>(*v);
}

FieldId binary_id() {
  static const FieldId id = intern_field("Binary");
  return id;
}

}  // namespace

void Name::classify() {
  const std::string_view full(text);
  const auto colon = full.rfind(':');
  local_offset = colon == std::string_view::npos ? 0 : static_cast<std::uint32_t>(colon + 1);
  const std::string_view local_name = local();
  element = ElementKind::kOther;
  for (const KindName& k : kElementNames) {
    if (k.name == local_name) {
      element = k.kind;
      break;
    }
  }
  attribute = AttributeKind::kOther;
  if (full == "xmlns" || full.starts_with("xmlns:")) {
    attribute = AttributeKind::kXmlns;
    return;
  }
  for (const AttributeName& a : kAttributeNames) {
    if (a.name == full) {
      attribute = a.kind;
      break;
    }
  }
}

void EventBuilder::begin(Event& event) {
  event.clear();
  event_ = &event;
  frames_.clear();
  text_.clear();
  path_.clear();
  seen_root_ = false;
  has_system_ = false;
  has_event_id_ = false;
  data_position_ = 0;
  error_.clear();
}

void EventBuilder::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

EventBuilder::Role EventBuilder::child_role(const Frame& parent, const Name& name,
                                            FieldOrigin& origin) {
  switch (parent.role) {
    case Role::kRoot:
      switch (name.element) {
        case ElementKind::kSystem:
          has_system_ = true;
          has_event_id_ = false;
          return Role::kSystem;
        case ElementKind::kEventData:
          return Role::kEventData;
        case ElementKind::kUserData:
          return Role::kUserData;
        case ElementKind::kProcessingErrorData:
          origin = FieldOrigin::kExtra;
          return Role::kFlatten;
        case ElementKind::kRenderingInfo:
          return Role::kRenderingInfo;
        default:
          return Role::kIgnore;
      }
    case Role::kSystem:
      return name.element == ElementKind::kOther ? Role::kIgnore : Role::kSystemField;
    case Role::kEventData:
      return name.element == ElementKind::kData || name.element == ElementKind::kBinary
                 ? Role::kEventDataItem
                 : Role::kIgnore;
    case Role::kUserData:
      if (parent.seen_first) return Role::kIgnore;
      frames_.back().seen_first = true;
      event_->set_user_data_name(name.local());
      origin = FieldOrigin::kUserData;
      return Role::kFlatten;
    case Role::kFlatten:
      origin = parent.origin;
      return Role::kFlatten;
    case Role::kRenderingInfo:
      if (parent.seen_first || name.element != ElementKind::kMessage) return Role::kIgnore;
      frames_.back().seen_first = true;
      return Role::kMessage;
    default:
      return Role::kIgnore;
  }
}

void EventBuilder::start_element(const Name& name) {
  Frame f;
  f.kind = name.element;
  f.origin = FieldOrigin::kEventData;
  f.text_start = static_cast<std::uint32_t>(text_.size());
  f.path_size = static_cast<std::uint32_t>(path_.size());
  if (frames_.empty()) {
    if (seen_root_) {
      f.role = Role::kIgnore;
    } else {
      seen_root_ = true;
      if (name.element != ElementKind::kEvent) {
        fail("not an Event: root element is <" + name.text + ">");
        f.role = Role::kIgnore;
      } else {
        f.role = Role::kRoot;
        const std::string_view full(name.text);
        root_prefix_.assign(full.substr(0, name.local_offset == 0 ? 0 : name.local_offset - 1));
      }
    }
  } else {
    Frame& parent = frames_.back();
    if (parent.collects_text && parent.text_start != text_.size()) parent.collects_text = false;
    ++parent.children;
    f.role = parent.role == Role::kIgnore ? Role::kIgnore : child_role(parent, name, f.origin);
    // Paths of flattened UserData leaves are relative to the UserData root element, whose own
    // frame is the first kFlatten below kUserData (for ProcessingErrorData, below the root).
    if (f.role == Role::kFlatten && parent.role == Role::kFlatten) {
      if (!path_.empty()) path_.push_back('.');
      path_.append(name.local());
    }
  }
  switch (f.role) {
    case Role::kSystemField:
      f.collects_text = true;
      switch (name.element) {
        case ElementKind::kProvider:
          provider_name_.clear();
          provider_source_.clear();
          provider_guid_.clear();
          break;
        case ElementKind::kEventID:
          qualifiers_.clear();
          has_qualifiers_attr_ = false;
          break;
        case ElementKind::kCorrelation:
          event_->set_activity_id({});
          event_->set_related_activity_id({});
          break;
        case ElementKind::kSecurity:
          event_->set_user_sid({});
          break;
        default:
          break;
      }
      break;
    case Role::kEventDataItem:
      data_name_.clear();
      f.collects_text = true;
      break;
    case Role::kFlatten:
    case Role::kMessage:
      f.collects_text = true;
      break;
    default:
      f.collects_text = false;
      break;
  }
  frames_.push_back(f);
}

bool EventBuilder::wants_attribute(const Name& name) const {
  if (frames_.empty() || name.attribute == AttributeKind::kOther) return false;
  const Frame& f = frames_.back();
  switch (f.role) {
    case Role::kRoot:
      return name.attribute == AttributeKind::kXmlns;
    case Role::kSystemField:
      return true;
    case Role::kEventDataItem:
      return name.attribute == AttributeKind::kName && f.kind == ElementKind::kData;
    default:
      return false;
  }
}

bool EventBuilder::reads_typed_only(const Name& name, const TypedValue& typed) const {
  // Of the attributes wanted, only TimeCreated's SystemTime is read typed; a SystemTime elsewhere
  // is not read at all, so its text is not needed either.
  return name.attribute == AttributeKind::kSystemTime && typed.type == value_type::kFileTime &&
         typed.size == 8;
}

void EventBuilder::attribute(const Name& name, std::string_view value, const TypedValue* typed) {
  if (frames_.empty()) return;
  const Frame& f = frames_.back();
  if (f.role == Role::kRoot) {
    const std::string expected = root_prefix_.empty() ? "xmlns" : "xmlns:" + root_prefix_;
    if (name.text == expected && value != "http://schemas.microsoft.com/win/2004/08/events/event")
      fail("not a Windows event: namespace '" + std::string(value) + "'");
    return;
  }
  if (f.role == Role::kEventDataItem) {
    data_name_.assign(value);
    return;
  }
  if (f.role != Role::kSystemField) return;
  switch (f.kind) {
    case ElementKind::kProvider:
      if (name.attribute == AttributeKind::kName) provider_name_.assign(value);
      if (name.attribute == AttributeKind::kEventSourceName) provider_source_.assign(value);
      if (name.attribute == AttributeKind::kGuid) provider_guid_.assign(value);
      break;
    case ElementKind::kEventID:
      if (name.attribute == AttributeKind::kQualifiers) {
        qualifiers_.assign(value);
        has_qualifiers_attr_ = true;
      }
      break;
    case ElementKind::kTimeCreated:
      if (typed != nullptr && reads_typed_only(name, *typed)) {
        event_->time_created = filetime_to_ticks(le64(typed->data));
      } else if (name.attribute == AttributeKind::kSystemTime && !value.empty()) {
        if (const auto ticks = parse_time(value)) {
          event_->time_created = *ticks;
        } else {
          fail("TimeCreated SystemTime '" + std::string(value) + "' is not a time");
        }
      }
      break;
    case ElementKind::kCorrelation:
      if (name.attribute == AttributeKind::kActivityID) event_->set_activity_id(value);
      if (name.attribute == AttributeKind::kRelatedActivityID)
        event_->set_related_activity_id(value);
      break;
    case ElementKind::kExecution:
      if (name.attribute == AttributeKind::kProcessID) set_number(value, event_->process_id);
      if (name.attribute == AttributeKind::kThreadID) set_number(value, event_->thread_id);
      break;
    case ElementKind::kSecurity:
      if (name.attribute == AttributeKind::kUserID) event_->set_user_sid(value);
      break;
    default:
      break;
  }
}

std::string_view EventBuilder::frame_text(const Frame& f) const {
  std::string_view text = std::string_view(text_).substr(f.text_start);
  // Event XML drops whitespace-only text between child elements.
  if (f.children != 0 && text::trim(text).empty()) return {};
  return text;
}

FieldId EventBuilder::data_position_id(unsigned position) {
  while (param_ids_.size() < position) {
    param_ids_.push_back(intern_field("param" + std::to_string(param_ids_.size() + 1)));
  }
  return param_ids_[position - 1];
}

void EventBuilder::end_system_field(const Frame& f, std::string_view text) {
  Event& e = *event_;
  switch (f.kind) {
    case ElementKind::kProvider:
      e.set_provider_name(provider_name_.empty() ? provider_source_ : provider_name_);
      e.set_provider_guid(provider_guid_);
      break;
    case ElementKind::kEventID: {
      const auto id = parse_uint(text::trim(text));
      if (!id || *id > std::numeric_limits<std::uint32_t>::max()) {
        fail("EventID '" + std::string(text) + "' is not a number");
        break;
      }
      e.event_id = static_cast<std::uint32_t>(*id);
      has_event_id_ = true;
      if (has_qualifiers_attr_ && !qualifiers_.empty()) {
        set_number(qualifiers_, e.qualifiers);
        e.has_qualifiers = true;
      }
      break;
    }
    case ElementKind::kVersion:
      set_number(text::trim(text), e.version);
      break;
    case ElementKind::kLevel:
      set_number(text::trim(text), e.level);
      break;
    case ElementKind::kTask:
      set_number(text::trim(text), e.task);
      break;
    case ElementKind::kOpcode:
      set_number(text::trim(text), e.opcode);
      break;
    case ElementKind::kKeywords:
      set_number(text::trim(text), e.keywords);
      break;
    case ElementKind::kEventRecordID:
      set_number(text::trim(text), e.record_id);
      break;
    case ElementKind::kChannel:
      e.set_channel(text);
      break;
    case ElementKind::kComputer:
      e.set_computer(text);
      break;
    default:
      break;
  }
}

void EventBuilder::end_element(bool vanished) {
  if (frames_.empty()) return;
  const Frame f = frames_.back();
  frames_.pop_back();
  if (vanished && !frames_.empty()) {
    // Left out of the rendered XML: as if it had never started.
    --frames_.back().children;
    text_.resize(f.text_start);
    path_.resize(f.path_size);
    return;
  }
  const std::string_view text = frame_text(f);
  switch (f.role) {
    case Role::kSystem:
      if (!has_event_id_) fail("<System> has no <EventID>");
      break;
    case Role::kSystemField:
      end_system_field(f, text);
      break;
    case Role::kEventDataItem:
      if (f.kind == ElementKind::kBinary) {
        event_->add_field(binary_id(), text, FieldOrigin::kEventData);
      } else {
        ++data_position_;
        const FieldId id =
            data_name_.empty() ? data_position_id(data_position_) : field_names_.get(data_name_);
        event_->add_field(id, text, FieldOrigin::kEventData);
      }
      break;
    case Role::kFlatten:
      if (!path_.empty() && path_.size() != f.path_size) {
        const unsigned level = static_cast<unsigned>(std::count(path_.begin(), path_.end(), '.'));
        if (f.children != 0) {
          if (level + 1 > kMaxUserDataDepth)
            fail("UserData nested deeper than " + std::to_string(kMaxUserDataDepth) + " elements");
        } else {
          event_->add_field(field_names_.get(path_), text, f.origin);
        }
      }
      break;
    case Role::kMessage:
      event_->set_message(text);
      break;
    default:
      break;
  }
  text_.resize(f.text_start);
  path_.resize(f.path_size);
}

bool EventBuilder::finish(std::string& error) {
  if (error_.empty()) {
    if (!seen_root_) {
      error_ = "no XML element";
    } else if (!has_system_) {
      error_ = "<Event> has no <System>";
    }
  }
  if (!error_.empty()) {
    error = error_;
    return false;
  }
  return true;
}

}  // namespace sw::evtx_native
