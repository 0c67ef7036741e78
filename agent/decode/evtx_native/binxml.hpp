// BinXML of one chunk -> element stream for EventBuilder. Templates are expanded in place, never
// rendered to XML text. Every offset is chunk-relative and bounds-checked against the chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "decode/evtx_native/event_builder.hpp"

namespace sw::evtx_native {

class BinXmlParser {
 public:
  BinXmlParser();
  // A new chunk: forgets the names of the previous one.
  void set_chunk(const std::uint8_t* chunk, std::size_t size);
  // Decodes the BinXML in [begin, end) of the current chunk. False with `error` set when the
  // record is malformed; `builder` may hold a partial event then.
  bool parse_record(std::size_t begin, std::size_t end, EventBuilder& builder, std::string& error);

 private:
  struct Value {
    std::uint32_t offset;
    std::uint16_t size;
    std::uint8_t type;
  };
  struct Scope {
    std::uint32_t values_begin = 0;
    std::uint32_t values_count = 0;
    // Element starts in a BinXML value that begins with an element carry no dependency id.
    bool no_dependency_id = false;
  };

  bool fail(std::size_t at, const char* what);
  bool need(std::size_t pos, std::size_t n, std::size_t end, const char* what);
  bool step();
  const Name* read_name(std::size_t& pos, std::size_t end);
  // Content of an element up to its end tag (in_element), or a fragment up to end of stream.
  bool parse_content(std::size_t& pos, std::size_t end, const Scope& scope, int depth,
                     bool in_element, bool& only_empty_optional);
  bool parse_element(std::size_t& pos, std::size_t end, const Scope& scope, int depth,
                     std::uint8_t token);
  bool parse_attribute(std::size_t& pos, std::size_t end, const Scope& scope);
  bool plausible_name_offset(std::size_t field, std::size_t element_start, std::size_t end) const;
  bool parse_attributes(std::size_t& pos, std::size_t end, const Scope& scope);
  bool parse_template_instance(std::size_t& pos, std::size_t end, int depth);
  // Appends the text of value text / CDATA / char or entity reference tokens.
  bool append_text_token(std::uint8_t token, std::size_t& pos, std::size_t end, std::string* out);
  const Value* substitution_value(std::size_t& pos, std::size_t end, const Scope& scope);

  const std::uint8_t* chunk_ = nullptr;
  std::size_t chunk_size_ = 0;
  EventBuilder* builder_ = nullptr;
  std::string* error_ = nullptr;
  std::vector<Value> values_;
  struct FreeZeroPages {
    void operator()(std::uint32_t* p) const;
  };
  // Names decoded in this chunk, by chunk offset (index + 1 into names_; 0 = not yet decoded).
  // 256 KiB of fresh zero pages from the kernel, so a reader costs only the pages its chunks'
  // names touch (a vector zeroed all 64 of them per file, 10% of a corpus scan; calloc zeroes
  // them too on a thread's own malloc arena, or once glibc has raised its mmap threshold).
  std::unique_ptr<std::uint32_t[], FreeZeroPages> name_index_;
  std::vector<std::uint32_t> name_offsets_used_;
  // A deque: a name read inside an attribute value (an entity reference) must not move the
  // element's or attribute's name the parser still holds.
  std::deque<Name> names_;
  std::size_t names_live_ = 0;
  std::string attribute_value_;
  std::string discard_;
  std::uint64_t steps_left_ = 0;
};

}  // namespace sw::evtx_native
