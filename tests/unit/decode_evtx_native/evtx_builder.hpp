// Writes small EVTX images for tests: a file header, chunks and records whose BinXML is written
// token by token, so each test states exactly which bytes the reader gets.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sw::evtx_native_test {

struct TemplateValue {
  std::uint8_t type;
  std::string bytes;
};

std::string utf16(std::string_view ascii);
std::string u16le(std::uint16_t v);
std::string u32le(std::uint32_t v);
std::string u64le(std::uint64_t v);

class ChunkWriter {
 public:
  ChunkWriter(std::uint64_t first_record_id);

  // --- records ---
  void begin_record(std::uint64_t record_id);
  void end_record();

  // --- BinXML tokens, written at the current position ---
  void fragment_header();
  void open_element(std::string_view name, bool has_attributes, bool dependency_id = true);
  void attribute(std::string_view name);
  void text(std::string_view ascii, bool more = false);
  void substitution(std::uint16_t id, std::uint8_t type, bool optional = false);
  void char_ref(std::uint16_t value);
  void entity_ref(std::string_view name);
  void cdata(std::string_view ascii);
  void close_start();
  void close_empty();
  void end_element();
  void end_of_stream();
  void raw(std::string_view bytes);

  // A template instance whose definition follows inline; write the body with the token calls,
  // then end_template_body() and template_values().
  std::uint32_t begin_template_inline();
  void end_template_body();
  // An instance of a template defined earlier in the chunk.
  void template_reference(std::uint32_t definition_offset);
  void template_values(const std::vector<TemplateValue>& values);

  std::size_t position() const { return pos_; }
  std::string& bytes() { return chunk_; }
  // Finishes the header (record range, free space, checksums) and returns the 64 KiB chunk.
  std::string finish();

 private:
  void put(std::string_view b);
  void name_ref(std::string_view name);

  std::string chunk_;
  std::size_t pos_ = 512;
  std::size_t record_start_ = 0;
  std::size_t template_size_at_ = 0;
  std::uint64_t first_id_, last_id_ = 0;
  std::size_t last_record_ = 0;
  std::map<std::string, std::uint32_t, std::less<>> names_;
};

// A record in plain BinXML (no template): <Event><System> holding one element per field, in order.
void write_system_record(ChunkWriter& w, std::uint64_t record_id,
                         const std::vector<std::pair<std::string, std::string>>& system_fields);

// File header + chunks. `chunk_count` defaults to the number of chunks.
std::string evtx_file(const std::vector<std::string>& chunks, int chunk_count = -1,
                      std::uint32_t flags = 0);

}  // namespace sw::evtx_native_test
