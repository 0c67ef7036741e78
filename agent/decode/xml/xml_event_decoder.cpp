// Event XML -> sw::Event with pugixml, parsing a reused copy of the input in place.
#include "decode/xml/xml_event_decoder.hpp"

#include <cstdio>
#include <limits>
#include <pugixml.hpp>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/text.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw {
namespace xml_detail {
namespace {

// Deeper UserData than this is not a real Windows event; stop there instead of recursing on.
constexpr int kMaxUserDataDepth = 32;

// Escapes and CDATA are what Windows emits; whitespace-only text is kept only when it is a whole
// value (<Data> </Data>), never the indentation between elements.
constexpr unsigned kParseOptions =
    pugi::parse_escapes | pugi::parse_cdata | pugi::parse_ws_pcdata_single;

std::string_view local_name(const char* name) {
  std::string_view s(name);
  const auto colon = s.rfind(':');
  return colon == std::string_view::npos ? s : s.substr(colon + 1);
}

std::string_view prefix_of(const char* name) {
  std::string_view s(name);
  const auto colon = s.find(':');
  return colon == std::string_view::npos ? std::string_view() : s.substr(0, colon);
}

std::string_view text_of(const pugi::xml_node& node) {
  return node.child_value();
}

std::string_view attribute(const pugi::xml_node& node, const char* name) {
  return node.attribute(name).value();
}

template <typename T>
void set_number(std::string_view text, T& member) {
  const auto v = parse_uint(text);
  if (v && *v <= std::numeric_limits<T>::max()) member = static_cast<T>(*v);
}

// Eight bytes at a time: nearly every value in a Windows event is plain ASCII.
bool is_ascii(std::string_view v) {
  std::size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    if (text::word_at(v, i) & 0x8080808080808080ull) return false;
  }
  for (; i < v.size(); ++i) {
    if (static_cast<unsigned char>(v[i]) >= 0x80) return false;
  }
  return true;
}

// Every string handed to the Event passes through here: invalid UTF-8 becomes U+FFFD. The
// returned view is valid until the next call.
class Utf8Cleaner {
 public:
  std::string_view operator()(std::string_view v) {
    if (is_ascii(v) || is_valid_utf8(v)) return v;
    buffer_.clear();
    append_sanitized_utf8(v, buffer_);
    return buffer_;
  }

 private:
  std::string buffer_;
};

// Events of one kind repeat their data names in the same order, so remembering the last name
// seen at each position answers most lookups with one comparison, without the intern table's
// lock and hash. Per thread, so decoders on different threads never share it.
class FieldIdCache {
 public:
  FieldId id(std::size_t position, std::string_view name) {
    if (position >= kSlots) return intern_field(name);
    Slot& slot = slots_[position];
    if (slot.valid && slot.name == name) return slot.id;
    slot.id = intern_field(name);
    slot.name.assign(name);
    slot.valid = true;
    return slot.id;
  }

 private:
  static constexpr std::size_t kSlots = 64;
  struct Slot {
    std::string name;
    FieldId id = 0;
    bool valid = false;
  };
  Slot slots_[kSlots];
};

FieldIdCache& field_ids() {
  thread_local FieldIdCache cache;
  return cache;
}

class EventBuilder {
 public:
  EventBuilder(Event& out, std::string& error) : out_(out), error_(error) {}

  bool system(const pugi::xml_node& system) {
    bool has_event_id = false;
    for (pugi::xml_node child = system.first_child(); child; child = child.next_sibling()) {
      if (child.type() != pugi::node_element) continue;
      const std::string_view name = local_name(child.name());
      if (name == "Provider") {
        std::string_view provider = attribute(child, "Name");
        if (provider.empty()) provider = attribute(child, "EventSourceName");
        out_.set_provider_name(clean_(provider));
        out_.set_provider_guid(clean_(attribute(child, "Guid")));
      } else if (name == "EventID") {
        const auto id = parse_uint(text::trim(text_of(child)));
        if (!id || *id > std::numeric_limits<std::uint32_t>::max()) {
          error_ = "EventID '" + std::string(clean_(text_of(child))) + "' is not a number";
          return false;
        }
        out_.event_id = static_cast<std::uint32_t>(*id);
        has_event_id = true;
        const pugi::xml_attribute qualifiers = child.attribute("Qualifiers");
        if (qualifiers && qualifiers.value()[0] != '\0') {
          set_number(qualifiers.value(), out_.qualifiers);
          out_.has_qualifiers = true;
        }
      } else if (name == "Version") {
        set_number(text::trim(text_of(child)), out_.version);
      } else if (name == "Level") {
        set_number(text::trim(text_of(child)), out_.level);
      } else if (name == "Task") {
        set_number(text::trim(text_of(child)), out_.task);
      } else if (name == "Opcode") {
        set_number(text::trim(text_of(child)), out_.opcode);
      } else if (name == "Keywords") {
        set_number(text::trim(text_of(child)), out_.keywords);
      } else if (name == "TimeCreated") {
        const std::string_view when = attribute(child, "SystemTime");
        if (!when.empty()) {
          const auto ticks = parse_time(when);
          if (!ticks) {
            error_ = "TimeCreated SystemTime '" + std::string(clean_(when)) + "' is not a time";
            return false;
          }
          out_.time_created = *ticks;
        }
      } else if (name == "EventRecordID") {
        set_number(text::trim(text_of(child)), out_.record_id);
      } else if (name == "Correlation") {
        out_.set_activity_id(clean_(attribute(child, "ActivityID")));
        out_.set_related_activity_id(clean_(attribute(child, "RelatedActivityID")));
      } else if (name == "Execution") {
        set_number(attribute(child, "ProcessID"), out_.process_id);
        set_number(attribute(child, "ThreadID"), out_.thread_id);
      } else if (name == "Channel") {
        out_.set_channel(clean_(text_of(child)));
      } else if (name == "Computer") {
        out_.set_computer(clean_(text_of(child)));
      } else if (name == "Security") {
        out_.set_user_sid(clean_(attribute(child, "UserID")));
      }
    }
    if (!has_event_id) {
      error_ = "<System> has no <EventID>";
      return false;
    }
    return true;
  }

  void event_data(const pugi::xml_node& data) {
    unsigned position = 0;
    for (pugi::xml_node child = data.first_child(); child; child = child.next_sibling()) {
      if (child.type() != pugi::node_element) continue;
      const std::string_view name = local_name(child.name());
      if (name == "Data") {
        ++position;
        const std::string_view field = attribute(child, "Name");
        const std::string_view value = text_of(child);
        if (field.empty()) {
          // Winlogbeat's convention: an unnamed Data is named after its 1-based position.
          char unnamed[24];
          std::snprintf(unnamed, sizeof unnamed, "param%u", position);
          add(field_ids().id(position - 1, unnamed), value, FieldOrigin::kEventData);
        } else {
          add(field_ids().id(position - 1, clean_(field)), value, FieldOrigin::kEventData);
        }
      } else if (name == "Binary") {
        add(binary_id(), text_of(child), FieldOrigin::kEventData);
      }
    }
  }

  bool user_data(const pugi::xml_node& data) {
    const pugi::xml_node root = first_element(data);
    if (!root) return true;
    out_.set_user_data_name(clean_(local_name(root.name())));
    path_.clear();
    leaf_position_ = 0;
    return flatten(root, 0, FieldOrigin::kUserData);
  }

  bool processing_error_data(const pugi::xml_node& data) {
    path_.clear();
    leaf_position_ = 0;
    return flatten(data, 0, FieldOrigin::kExtra);
  }

  void rendering_info(const pugi::xml_node& info) {
    for (pugi::xml_node child = info.first_child(); child; child = child.next_sibling()) {
      if (child.type() == pugi::node_element && local_name(child.name()) == "Message") {
        out_.set_message(clean_(text_of(child)));
        return;
      }
    }
  }

 private:
  static pugi::xml_node first_element(const pugi::xml_node& parent) {
    for (pugi::xml_node child = parent.first_child(); child; child = child.next_sibling()) {
      if (child.type() == pugi::node_element) return child;
    }
    return {};
  }

  static FieldId binary_id() {
    static const FieldId id = intern_field("Binary");
    return id;
  }

  void add(FieldId id, std::string_view value, FieldOrigin origin) {
    out_.add_field(id, clean_(value), origin);
  }

  // Leaves below `node` become fields named by their element path below the UserData root.
  bool flatten(const pugi::xml_node& node, int depth, FieldOrigin origin) {
    if (depth > kMaxUserDataDepth) {
      error_ = "UserData nested deeper than " + std::to_string(kMaxUserDataDepth) + " elements";
      return false;
    }
    for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
      if (child.type() != pugi::node_element) continue;
      const std::size_t path_size = path_.size();
      if (!path_.empty()) path_.push_back('.');
      path_.append(local_name(child.name()));
      if (first_element(child)) {
        if (!flatten(child, depth + 1, origin)) return false;
      } else {
        add(field_ids().id(leaf_position_++, clean_(path_)), text_of(child), origin);
      }
      path_.resize(path_size);
    }
    return true;
  }

  Event& out_;
  std::string& error_;
  Utf8Cleaner clean_;
  std::string path_;
  std::size_t leaf_position_ = 0;
};

}  // namespace

bool decode_event(std::string_view xml, std::string& buffer, Event& out, std::string& error,
                  std::size_t& error_offset) {
  out.clear();
  error_offset = 0;
  if (xml.empty()) {
    error = "empty input";
    return false;
  }
  buffer.assign(xml);
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer_inplace(buffer.data(), buffer.size(), kParseOptions, pugi::encoding_utf8);
  if (!parsed) {
    error = std::string("invalid XML: ") + parsed.description();
    error_offset = static_cast<std::size_t>(parsed.offset);
    return false;
  }
  const pugi::xml_node root = doc.document_element();
  if (!root) {
    error = "no XML element";
    return false;
  }
  for (pugi::xml_node next = root.next_sibling(); next; next = next.next_sibling()) {
    if (next.type() == pugi::node_element) {
      error = "more than one top-level element: <" + std::string(Utf8Cleaner()(next.name())) +
              "> follows the <Event>";
      const std::ptrdiff_t at = next.offset_debug();  // of the name, just past its '<'
      error_offset = at > 0 ? static_cast<std::size_t>(at - 1) : 0;
      return false;
    }
  }
  if (local_name(root.name()) != "Event") {
    error = "not an Event: root element is <" + std::string(Utf8Cleaner()(root.name())) + ">";
    return false;
  }
  const std::string_view prefix = prefix_of(root.name());
  const std::string ns_attribute =
      prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
  const pugi::xml_attribute ns = root.attribute(ns_attribute.c_str());
  if (ns && std::string_view(ns.value()) != kEventNamespace) {
    error = "not a Windows event: namespace '" + std::string(Utf8Cleaner()(ns.value())) + "'";
    return false;
  }

  EventBuilder builder(out, error);
  bool has_system = false;
  for (pugi::xml_node part = root.first_child(); part; part = part.next_sibling()) {
    if (part.type() != pugi::node_element) continue;
    const std::string_view name = local_name(part.name());
    if (name == "System") {
      if (!builder.system(part)) return false;
      has_system = true;
    } else if (name == "EventData") {
      builder.event_data(part);
    } else if (name == "UserData") {
      if (!builder.user_data(part)) return false;
    } else if (name == "ProcessingErrorData") {
      // Windows could not render the payload; keep what it says about why.
      if (!builder.processing_error_data(part)) return false;
    } else if (name == "RenderingInfo") {
      builder.rendering_info(part);
    }
  }
  if (!has_system) {
    error = "<Event> has no <System>";
    return false;
  }
  return true;
}

}  // namespace xml_detail

bool XmlEventDecoder::decode(std::string_view xml, Event& out, std::string& error) {
  std::size_t offset = 0;
  if (xml_detail::decode_event(xml, scratch_, out, error, offset)) return true;
  error += " (at byte " + std::to_string(offset) + ")";
  return false;
}

}  // namespace sw
