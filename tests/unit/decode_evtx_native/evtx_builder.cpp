#include "unit/decode_evtx_native/evtx_builder.hpp"

#include "decode/evtx_native/crc32.hpp"

namespace sw::evtx_native_test {

std::string u16le(std::uint16_t v) {
  return std::string{static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)};
}
std::string u32le(std::uint32_t v) {
  return u16le(v & 0xFFFF) + u16le(static_cast<std::uint16_t>(v >> 16));
}
std::string u64le(std::uint64_t v) {
  return u32le(static_cast<std::uint32_t>(v)) + u32le(static_cast<std::uint32_t>(v >> 32));
}
std::string utf16(std::string_view ascii) {
  std::string out;
  for (char c : ascii) out += u16le(static_cast<unsigned char>(c));
  return out;
}

ChunkWriter::ChunkWriter(std::uint64_t first_record_id)
    : chunk_(65536, '\0'), first_id_(first_record_id) {
  chunk_.replace(0, 8, std::string("ElfChnk\0", 8));
}

void ChunkWriter::put(std::string_view b) {
  chunk_.replace(pos_, b.size(), b);
  pos_ += b.size();
}

void ChunkWriter::raw(std::string_view bytes) {
  put(bytes);
}

void ChunkWriter::begin_record(std::uint64_t record_id) {
  record_start_ = pos_;
  put(std::string("\x2a\x2a\0\0", 4));
  put(u32le(0));
  put(u64le(record_id));
  put(u64le(132576068681944370ull));
  last_id_ = record_id;
}

void ChunkWriter::end_record() {
  const auto size = static_cast<std::uint32_t>(pos_ + 4 - record_start_);
  put(u32le(size));
  chunk_.replace(record_start_ + 4, 4, u32le(size));
  last_record_ = record_start_;
}

void ChunkWriter::name_ref(std::string_view name) {
  auto it = names_.find(name);
  if (it != names_.end()) {
    put(u32le(it->second));
    return;
  }
  const auto here = static_cast<std::uint32_t>(pos_ + 4);
  names_.emplace(std::string(name), here);
  put(u32le(here));
  put(u32le(0));  // next name in the hash bucket
  put(u16le(0));  // hash, not checked by readers
  put(u16le(static_cast<std::uint16_t>(name.size())));
  put(utf16(name));
  put(u16le(0));
}

void ChunkWriter::fragment_header() {
  put(std::string("\x0f\x01\x01\x00", 4));
}

void ChunkWriter::open_element(std::string_view name, bool has_attributes, bool dependency_id) {
  put(std::string(1, has_attributes ? '\x41' : '\x01'));
  if (dependency_id) put(u16le(0xFFFF));
  put(u32le(0));  // data size: readers follow the tokens
  name_ref(name);
  if (has_attributes) put(u32le(0));
}

void ChunkWriter::attribute(std::string_view name) {
  put(std::string(1, '\x06'));
  name_ref(name);
}

void ChunkWriter::text(std::string_view ascii, bool more) {
  put(std::string(1, more ? '\x45' : '\x05'));
  put(std::string(1, '\x01'));
  put(u16le(static_cast<std::uint16_t>(ascii.size())));
  put(utf16(ascii));
}

void ChunkWriter::substitution(std::uint16_t id, std::uint8_t type, bool optional) {
  put(std::string(1, optional ? '\x0e' : '\x0d'));
  put(u16le(id));
  put(std::string(1, static_cast<char>(type)));
}

void ChunkWriter::char_ref(std::uint16_t value) {
  put(std::string(1, '\x08'));
  put(u16le(value));
}

void ChunkWriter::entity_ref(std::string_view name) {
  put(std::string(1, '\x09'));
  name_ref(name);
}

void ChunkWriter::cdata(std::string_view ascii) {
  put(std::string(1, '\x07'));
  put(u16le(static_cast<std::uint16_t>(ascii.size())));
  put(utf16(ascii));
}

void ChunkWriter::close_start() {
  put(std::string(1, '\x02'));
}
void ChunkWriter::close_empty() {
  put(std::string(1, '\x03'));
}
void ChunkWriter::end_element() {
  put(std::string(1, '\x04'));
}
void ChunkWriter::end_of_stream() {
  put(std::string(1, '\0'));
}

std::uint32_t ChunkWriter::begin_template_inline() {
  put(std::string(1, '\x0c'));
  put(std::string(1, '\x01'));
  put(u32le(0x12345678));
  const auto definition = static_cast<std::uint32_t>(pos_ + 4);
  put(u32le(definition));
  put(u32le(0));                 // next definition
  put(std::string(16, '\x11'));  // template GUID
  template_size_at_ = pos_;
  put(u32le(0));  // body size, patched by end_template_body
  return definition;
}

void ChunkWriter::end_template_body() {
  end_of_stream();
  chunk_.replace(template_size_at_, 4,
                 u32le(static_cast<std::uint32_t>(pos_ - template_size_at_ - 4)));
}

void ChunkWriter::template_reference(std::uint32_t definition_offset) {
  put(std::string(1, '\x0c'));
  put(std::string(1, '\x01'));
  put(u32le(0x12345678));
  put(u32le(definition_offset));
}

void ChunkWriter::template_values(const std::vector<TemplateValue>& values) {
  put(u32le(static_cast<std::uint32_t>(values.size())));
  for (const TemplateValue& v : values) {
    put(u16le(static_cast<std::uint16_t>(v.bytes.size())));
    put(std::string(1, static_cast<char>(v.type)));
    put(std::string(1, '\0'));
  }
  for (const TemplateValue& v : values) put(v.bytes);
}

std::string ChunkWriter::finish() {
  chunk_.replace(8, 8, u64le(first_id_));
  chunk_.replace(16, 8, u64le(last_id_));
  chunk_.replace(24, 8, u64le(first_id_));
  chunk_.replace(32, 8, u64le(last_id_));
  chunk_.replace(40, 4, u32le(128));
  chunk_.replace(44, 4, u32le(static_cast<std::uint32_t>(last_record_)));
  chunk_.replace(48, 4, u32le(static_cast<std::uint32_t>(pos_)));
  const auto* p = reinterpret_cast<const std::uint8_t*>(chunk_.data());
  chunk_.replace(52, 4, u32le(evtx_native::crc32(0, p + 512, pos_ - 512)));
  const std::uint32_t header_crc =
      evtx_native::crc32(evtx_native::crc32(0, p, 120), p + 128, 512 - 128);
  chunk_.replace(124, 4, u32le(header_crc));
  return chunk_;
}

void write_system_record(ChunkWriter& w, std::uint64_t record_id,
                         const std::vector<std::pair<std::string, std::string>>& system_fields) {
  w.begin_record(record_id);
  w.fragment_header();
  w.open_element("Event", false);
  w.close_start();
  w.open_element("System", false);
  w.close_start();
  for (const auto& [name, value] : system_fields) {
    w.open_element(name, false);
    w.close_start();
    w.text(value);
    w.end_element();
  }
  w.end_element();
  w.end_element();
  w.end_of_stream();
  w.end_record();
}

std::string evtx_file(const std::vector<std::string>& chunks, int chunk_count,
                      std::uint32_t flags) {
  std::string header(4096, '\0');
  header.replace(0, 8, std::string("ElfFile\0", 8));
  header.replace(8, 8, u64le(0));
  header.replace(16, 8, u64le(chunks.empty() ? 0 : chunks.size() - 1));
  header.replace(24, 8, u64le(1000));
  header.replace(32, 4, u32le(128));
  header.replace(36, 2, u16le(1));
  header.replace(38, 2, u16le(3));
  header.replace(40, 2, u16le(4096));
  header.replace(42, 2,
                 u16le(static_cast<std::uint16_t>(chunk_count < 0 ? chunks.size() : chunk_count)));
  header.replace(120, 4, u32le(flags));
  const auto* p = reinterpret_cast<const std::uint8_t*>(header.data());
  header.replace(124, 4, u32le(evtx_native::crc32(0, p, 120)));
  std::string file = header;
  for (const std::string& c : chunks) file += c;
  return file;
}

}  // namespace sw::evtx_native_test
