// BinXML of one chunk -> element stream for EventBuilder. Templates are expanded in place, never
// rendered to XML text. Every offset is chunk-relative and bounds-checked against the chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
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

  // Template plans on (the default) or off, for every parser: tests compare the two.
  static void use_template_plans(bool on);

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
  // A substitution's value in element content at `depth`: its own BinXML one level deeper, else
  // its text. A copy: a nested instance may grow values_.
  bool content_value(Value v, int depth);

  // A template's body read once per chunk into the steps every instance of it takes, so the
  // records of a chunk (a few templates, hundreds of records) do not each walk its tokens, names
  // and bounds checks again. The plan makes the same builder calls, step() calls and errors, in
  // the same order, as walking the body (parse_content) does; a body with what plans do not
  // cover (nested template instances, processing instructions) or with any fault is walked.
  struct Op {
    enum Kind : std::uint8_t {
      kStep,         // a token that only counts (fragment header)
      kEndOfStream,  // the body's end token
      kStart,        // an element's start: `name`
      kAttribute,    // an attribute: `name`; its pieces follow
      kAttrText,     // an attribute piece of literal text
      kAttrSub,      // an attribute piece that is a substitution
      kCloseEmpty,   // "/>"
      kCloseStart,   // ">": `array` when its content is one substitution and the end tag
      kText,         // literal text in content
      kSub,          // a substitution in content
      kEnd,          // an end tag
    };
    Kind kind;
    bool optional = false;  // kAttrSub, kSub: an optional substitution
    bool array = false;     // kCloseStart
    std::uint16_t id = 0;   // kAttrSub, kSub, kCloseStart with `array`: the value
    std::uint32_t at = 0;   // kAttrSub, kSub: chunk offset of the id, for errors
    const Name* name = nullptr;
    std::uint32_t text_begin = 0, text_size = 0;  // kText, kAttrText: in Plan::text
  };
  struct Plan {
    bool ok = false;  // false: walk the body
    int levels = 0;   // the deepest element nesting in the body
    std::vector<Op> ops;
    std::string text;  // every literal text of the body, decoded
  };
  struct Open {
    std::uint32_t items = 0;
    bool empty_optional = false;
  };
  const Plan* plan_for(std::size_t definition, std::size_t body, std::size_t body_end);
  bool compile_content(Plan& plan, std::size_t& pos, std::size_t end, bool in_element, int level);
  bool compile_element(Plan& plan, std::size_t& pos, std::size_t end, std::uint8_t token,
                       int level);
  bool compile_attributes(Plan& plan, std::size_t& pos, std::size_t end);
  bool compile_text(Plan& plan, Op::Kind kind, std::uint8_t token, std::size_t& pos,
                    std::size_t end);
  // Runs a plan as parse_content(body, depth) would walk the body.
  bool run_plan(const Plan& plan, const Scope& scope, int depth);
  bool run_ops(const Plan& plan, const Scope& scope, int depth);
  // The attributes from ops[i] on; returns the index of the close op, or 0 on failure.
  std::size_t run_attributes(const Plan& plan, std::size_t i, const Scope& scope);
  bool run_substitution(const Op& op, const Scope& scope, int content_depth, Open& open);
  // The element starting at ops[start] (closed at ops[close]) repeated per item when its content
  // is one array substitution (`done`); else nothing.
  bool run_array(const Plan& plan, std::size_t start, std::size_t close, const Scope& scope,
                 bool& done);

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
  // This chunk's plans by template definition offset; the Plan objects are kept across chunks
  // (their buffers reused) and never move while a nested instance compiles another.
  std::unordered_map<std::uint32_t, Plan*> plan_index_;
  std::vector<std::unique_ptr<Plan>> plans_;
  std::size_t plans_live_ = 0;
  std::vector<Open> open_;  // the elements a running plan has open, nested runs above
  std::string compile_error_;
};

}  // namespace sw::evtx_native
