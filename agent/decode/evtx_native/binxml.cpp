#include "decode/evtx_native/binxml.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "decode/evtx_native/values.hpp"
#include "platform/fsync.hpp"

namespace sw::evtx_native {
namespace {

namespace token {
constexpr std::uint8_t kEndOfStream = 0x00;
constexpr std::uint8_t kOpenStartElement = 0x01;
constexpr std::uint8_t kCloseStartElement = 0x02;
constexpr std::uint8_t kCloseEmptyElement = 0x03;
constexpr std::uint8_t kEndElement = 0x04;
constexpr std::uint8_t kValueText = 0x05;
constexpr std::uint8_t kAttribute = 0x06;
constexpr std::uint8_t kCData = 0x07;
constexpr std::uint8_t kCharRef = 0x08;
constexpr std::uint8_t kEntityRef = 0x09;
constexpr std::uint8_t kPITarget = 0x0a;
constexpr std::uint8_t kPIData = 0x0b;
constexpr std::uint8_t kTemplateInstance = 0x0c;
constexpr std::uint8_t kNormalSubstitution = 0x0d;
constexpr std::uint8_t kOptionalSubstitution = 0x0e;
constexpr std::uint8_t kFragmentHeader = 0x0f;
constexpr std::uint8_t kMoreFlag = 0x40;
}  // namespace token

// Element nesting plus template/BinXML-value nesting. Real events stay below 12.
constexpr int kMaxDepth = 64;
// Tokens per record, so crafted templates that reference each other cannot explode.
constexpr std::uint64_t kMaxStepsPerRecord = 1u << 20;
// Text produced per record (the event's buffer plus pending element text).
constexpr std::size_t kMaxOutputPerRecord = 16u << 20;
constexpr std::size_t kChunkSize = 65536;
constexpr std::size_t kChunkHeaderSize = 512;
// Literal text a plan holds: past it the body is walked, under the walk's output budget.
constexpr std::size_t kMaxPlanText = 1u << 20;

// Template plans on for every parser unless a test compares them with the walk.
std::atomic<bool> g_template_plans{true};

void append_code_point(std::uint32_t cp, std::string& out) {
  if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
  const std::uint8_t units[2] = {static_cast<std::uint8_t>(cp & 0xFF),
                                 static_cast<std::uint8_t>(cp >> 8)};
  if (cp == 0) return;
  append_utf16(units, 1, out);
}

}  // namespace

namespace {

constexpr std::size_t kNameIndexBytes = kChunkSize * sizeof(std::uint32_t);

std::uint32_t* zero_pages() {
  void* p = platform::allocate_zeroed_pages(kNameIndexBytes);
  if (!p) throw std::bad_alloc();
  return static_cast<std::uint32_t*>(p);
}

}  // namespace

void BinXmlParser::FreeZeroPages::operator()(std::uint32_t* p) const {
  platform::free_zeroed_pages(p, kNameIndexBytes);
}

BinXmlParser::BinXmlParser() : name_index_(zero_pages()) {}

void BinXmlParser::set_chunk(const std::uint8_t* chunk, std::size_t size) {
  chunk_ = chunk;
  chunk_size_ = size < kChunkSize ? size : kChunkSize;
  for (std::uint32_t off : name_offsets_used_) name_index_[off] = 0;
  name_offsets_used_.clear();
  names_live_ = 0;
  plan_index_.clear();
  plans_live_ = 0;
}

void BinXmlParser::use_template_plans(bool on) {
  g_template_plans.store(on, std::memory_order_relaxed);
}

bool BinXmlParser::fail(std::size_t at, const char* what) {
  if (error_->empty()) {
    char where[48];
    std::snprintf(where, sizeof where, " (chunk offset 0x%zx)", at);
    *error_ = std::string(what) + where;
  }
  return false;
}

bool BinXmlParser::need(std::size_t pos, std::size_t n, std::size_t end, const char* what) {
  if (pos > end || end - pos < n) return fail(pos, what);
  return true;
}

bool BinXmlParser::step() {
  if (steps_left_ == 0) return fail(0, "record too complex (token budget exceeded)");
  --steps_left_;
  if (builder_->output_size() > kMaxOutputPerRecord)
    return fail(0, "record expands to too much text");
  return true;
}

const Name* BinXmlParser::read_name(std::size_t& pos, std::size_t end) {
  if (!need(pos, 4, end, "truncated element or attribute name offset")) return nullptr;
  const std::uint32_t offset = le32(chunk_ + pos);
  pos += 4;
  if (offset >= chunk_size_ || chunk_size_ - offset < 8) {
    fail(pos - 4, "name offset outside the chunk");
    return nullptr;
  }
  const std::size_t units = le16(chunk_ + offset + 6);
  const std::size_t total = 8 + 2 * units + 2;
  if (chunk_size_ - offset < total) {
    fail(offset, "name runs past the end of the chunk");
    return nullptr;
  }
  if (offset == pos) {  // stored inline, right here
    if (end - pos < total) {
      fail(pos, "inline name runs past the end of its data");
      return nullptr;
    }
    pos += total;
  }
  std::uint32_t& index = name_index_[offset];
  if (index == 0) {
    if (names_live_ == names_.size()) names_.emplace_back();
    Name& name = names_[names_live_++];
    name.text.clear();
    append_utf16(chunk_ + offset + 8, units, name.text);
    name.classify();
    index = static_cast<std::uint32_t>(names_live_);
    name_offsets_used_.push_back(offset);
  }
  return &names_[index - 1];
}

bool BinXmlParser::parse_record(std::size_t begin, std::size_t end, EventBuilder& builder,
                                std::string& error) {
  builder_ = &builder;
  error_ = &error;
  error.clear();
  values_.clear();
  steps_left_ = kMaxStepsPerRecord;
  if (end > chunk_size_ || begin > end) return fail(begin, "record outside the chunk");
  std::size_t pos = begin;
  bool unused = false;
  if (!parse_content(pos, end, Scope{}, 0, /*in_element=*/false, unused)) return false;
  if (builder.failed()) {
    error = builder.error();
    return false;
  }
  return builder.finish(error);
}

bool BinXmlParser::append_text_token(std::uint8_t t, std::size_t& pos, std::size_t end,
                                     std::string* out) {
  switch (t & ~token::kMoreFlag) {
    case token::kValueText: {
      if (!need(pos, 3, end, "truncated value text")) return false;
      const std::uint8_t type = chunk_[pos];
      const std::size_t units = le16(chunk_ + pos + 1);
      pos += 3;
      if (!need(pos, 2 * units, end, "value text runs past its data")) return false;
      if (out != nullptr) {
        if (type == value_type::kString) {
          append_utf16(chunk_ + pos, units, *out);
        } else {
          append_value(type, chunk_ + pos, 2 * units, *out);
        }
      }
      pos += 2 * units;
      return true;
    }
    case token::kCData: {
      if (!need(pos, 2, end, "truncated CDATA")) return false;
      const std::size_t units = le16(chunk_ + pos);
      pos += 2;
      if (!need(pos, 2 * units, end, "CDATA runs past its data")) return false;
      if (out != nullptr) append_utf16(chunk_ + pos, units, *out);
      pos += 2 * units;
      return true;
    }
    case token::kCharRef: {
      if (!need(pos, 2, end, "truncated character reference")) return false;
      if (out != nullptr) append_code_point(le16(chunk_ + pos), *out);
      pos += 2;
      return true;
    }
    case token::kEntityRef: {
      const Name* name = read_name(pos, end);
      if (name == nullptr) return false;
      if (out != nullptr) {
        const std::string_view n(name->text);
        if (n == "amp") {
          out->push_back('&');
        } else if (n == "lt") {
          out->push_back('<');
        } else if (n == "gt") {
          out->push_back('>');
        } else if (n == "quot") {
          out->push_back('"');
        } else if (n == "apos") {
          out->push_back('\'');
        } else {
          // An entity XML does not predefine stays as written, as an XML parser leaves it.
          out->push_back('&');
          out->append(n);
          out->push_back(';');
        }
      }
      return true;
    }
    default:
      return fail(pos - 1, "unexpected token in text");
  }
}

const BinXmlParser::Value* BinXmlParser::substitution_value(std::size_t& pos, std::size_t end,
                                                            const Scope& scope) {
  if (!need(pos, 3, end, "truncated substitution")) return nullptr;
  const std::uint16_t id = le16(chunk_ + pos);
  pos += 3;  // the type byte repeats the template's declaration; the value's own type rules
  if (id >= scope.values_count) {
    fail(pos - 3, "substitution refers to a value the template instance does not have");
    return nullptr;
  }
  return &values_[scope.values_begin + id];
}

bool BinXmlParser::parse_attribute(std::size_t& pos, std::size_t end, const Scope& scope) {
  const Name* name = read_name(pos, end);
  if (name == nullptr) return false;
  const bool wanted = builder_->wants_attribute(*name);
  attribute_value_.clear();
  std::string* out = wanted ? &attribute_value_ : nullptr;
  TypedValue typed;
  int pieces = 0;
  bool empty_optional = false;
  while (pos < end) {
    const std::uint8_t t = chunk_[pos];
    const std::uint8_t base = t & ~token::kMoreFlag;
    if (base == token::kNormalSubstitution || base == token::kOptionalSubstitution) {
      if (t & token::kMoreFlag) return fail(pos, "bad substitution token");
      if (!step()) return false;
      ++pos;
      const Value* v = substitution_value(pos, end, scope);
      if (v == nullptr) return false;
      ++pieces;
      empty_optional = base == token::kOptionalSubstitution && v->type == value_type::kNull;
      typed = TypedValue{v->type, chunk_ + v->offset, v->size};
      if (out != nullptr) append_value(v->type, chunk_ + v->offset, v->size, *out);
    } else if (base == token::kValueText || base == token::kCharRef || base == token::kEntityRef) {
      if (!step()) return false;
      ++pos;
      ++pieces;
      typed.type = value_type::kString;
      typed.data = nullptr;
      if (!append_text_token(t, pos, end, out)) return false;
    } else {
      break;
    }
  }
  if (wanted && !(pieces == 1 && empty_optional)) {
    builder_->attribute(*name, attribute_value_,
                        pieces == 1 && typed.data != nullptr ? &typed : nullptr);
  }
  return true;
}

bool BinXmlParser::plausible_name_offset(std::size_t field, std::size_t element_start,
                                         std::size_t end) const {
  if (field > end || end - field < 4) return false;
  const std::uint32_t offset = le32(chunk_ + field);
  if (offset == field + 4) return true;  // inline, right after the field
  // Otherwise a name defined earlier in the chunk.
  return offset >= kChunkHeaderSize && offset < element_start && chunk_size_ - offset >= 10 &&
         chunk_size_ - offset >= 10 + 2 * static_cast<std::size_t>(le16(chunk_ + offset + 6));
}

bool BinXmlParser::parse_attributes(std::size_t& pos, std::size_t end, const Scope& scope) {
  while (pos < end && (chunk_[pos] & ~token::kMoreFlag) == token::kAttribute) {
    if (!step()) return false;
    ++pos;
    if (!parse_attribute(pos, end, scope)) return false;
  }
  return true;
}

bool BinXmlParser::parse_element(std::size_t& pos, std::size_t end, const Scope& scope, int depth,
                                 std::uint8_t t) {
  if (depth > kMaxDepth) return fail(pos, "elements nested too deeply");
  const std::size_t start = pos - 1;
  // The dependency id is left out in BinXML values and in records written without templates
  // (forwarded events). Where the expected layout gives an impossible name offset and the other
  // gives a possible one, the other is the one.
  bool has_dependency_id = !scope.no_dependency_id;
  if (!plausible_name_offset(has_dependency_id ? pos + 6 : pos + 4, start, end) &&
      plausible_name_offset(has_dependency_id ? pos + 4 : pos + 6, start, end))
    has_dependency_id = !has_dependency_id;
  if (has_dependency_id) {
    if (!need(pos, 2, end, "truncated element start")) return false;
    pos += 2;
  }
  if (!need(pos, 4, end, "truncated element start")) return false;
  pos += 4;  // data size: not trusted, the tokens say where the element ends
  const Name* name = read_name(pos, end);
  if (name == nullptr) return false;
  if (t & token::kMoreFlag) {
    if (!need(pos, 4, end, "truncated attribute list")) return false;
    pos += 4;
  }
  const std::size_t attributes = pos;
  builder_->start_element(*name);
  if (!parse_attributes(pos, end, scope)) return false;
  if (!need(pos, 1, end, "element start not closed")) return false;
  const std::uint8_t close = chunk_[pos++];
  if (close == token::kCloseEmptyElement) {
    builder_->end_element(false);
    return true;
  }
  if (close != token::kCloseStartElement) return fail(start, "element start not closed");
  // An element whose whole content is one array substitution is repeated once per item (an
  // empty array still gives one empty element), as Windows renders it.
  if (end - pos >= 5 &&
      (chunk_[pos] == token::kNormalSubstitution || chunk_[pos] == token::kOptionalSubstitution) &&
      chunk_[pos + 4] == token::kEndElement) {
    const std::uint16_t id = le16(chunk_ + pos + 1);
    if (id < scope.values_count) {
      const Value v = values_[scope.values_begin + id];
      if ((v.type & value_type::kArrayFlag) != 0) {
        std::size_t item = 0;
        for (bool first = true; first || item < v.size; first = false) {
          if (!step()) return false;
          if (!first) {
            builder_->start_element(*name);
            std::size_t again = attributes;
            if (!parse_attributes(again, end, scope)) return false;
          }
          std::string& out = builder_->wants_text() ? builder_->text_buffer() : discard_;
          append_array_item(v.type, chunk_ + v.offset, v.size, item, out);
          discard_.clear();
          builder_->end_element(false);
        }
        pos += 5;
        return true;
      }
    }
  }
  bool only_empty_optional = false;
  if (!parse_content(pos, end, scope, depth + 1, /*in_element=*/true, only_empty_optional))
    return false;
  builder_->end_element(only_empty_optional);
  return true;
}

bool BinXmlParser::parse_template_instance(std::size_t& pos, std::size_t end, int depth) {
  if (depth > kMaxDepth) return fail(pos, "templates nested too deeply");
  if (!need(pos, 9, end, "truncated template instance")) return false;
  const std::uint32_t definition = le32(chunk_ + pos + 5);
  pos += 9;
  // The definition: next-definition offset, GUID, data size, then the template's BinXML.
  if (definition >= chunk_size_ || chunk_size_ - definition < 24)
    return fail(pos - 4, "template definition outside the chunk");
  const std::uint32_t body_size = le32(chunk_ + definition + 20);
  const std::size_t body = definition + 24;
  if (chunk_size_ - body < body_size) return fail(definition, "template runs past the chunk");
  if (definition == pos) {  // defined inline, here: the instance data follows it
    if (end - pos < 24 + static_cast<std::size_t>(body_size))
      return fail(pos, "inline template runs past its record");
    pos += 24 + body_size;
  }
  if (!need(pos, 4, end, "truncated template instance data")) return false;
  const std::uint32_t count = le32(chunk_ + pos);
  pos += 4;
  if ((end - pos) / 4 < count) return fail(pos - 4, "too many template values");
  std::size_t data = pos + 4 * static_cast<std::size_t>(count);
  const auto values_begin = static_cast<std::uint32_t>(values_.size());
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint8_t* d = chunk_ + pos + 4 * static_cast<std::size_t>(i);
    const std::uint16_t size = le16(d);
    if (end - data < size) return fail(pos + 4 * i, "template value runs past its record");
    values_.push_back(Value{static_cast<std::uint32_t>(data), size, d[2]});
    data += size;
  }
  pos = data;
  Scope inner;
  inner.values_begin = values_begin;
  inner.values_count = count;
  bool ok;
  const Plan* plan = plan_for(definition, body, body + body_size);
  if (plan != nullptr && depth + 1 + 2 * plan->levels <= kMaxDepth) {
    ok = run_plan(*plan, inner, depth + 1);
  } else {  // no plan, or one whose nesting the walk refuses: walked for its error
    std::size_t body_pos = body;
    bool unused = false;
    ok = parse_content(body_pos, body + body_size, inner, depth + 1, /*in_element=*/false, unused);
  }
  values_.resize(values_begin);
  return ok;
}

// ---- Template plans ----

const BinXmlParser::Plan* BinXmlParser::plan_for(std::size_t definition, std::size_t body,
                                                 std::size_t body_end) {
  if (!g_template_plans.load(std::memory_order_relaxed)) return nullptr;
  const auto key = static_cast<std::uint32_t>(definition);
  if (const auto found = plan_index_.find(key); found != plan_index_.end())
    return found->second->ok ? found->second : nullptr;
  if (plans_live_ == plans_.size()) plans_.push_back(std::make_unique<Plan>());
  Plan& plan = *plans_[plans_live_++];
  plan.ops.clear();
  plan.text.clear();
  plan.levels = 0;
  // Compiling reports nothing: a body it cannot take is walked, and the walk reports.
  std::string* const error = error_;
  compile_error_.clear();
  error_ = &compile_error_;
  std::size_t pos = body;
  plan.ok = compile_content(plan, pos, body_end, /*in_element=*/false, 0);
  error_ = error;
  plan_index_.emplace(key, &plan);
  return plan.ok ? &plan : nullptr;
}

bool BinXmlParser::compile_text(Plan& plan, Op::Kind kind, std::uint8_t t, std::size_t& pos,
                                std::size_t end) {
  Op op{kind};
  op.text_begin = static_cast<std::uint32_t>(plan.text.size());
  if (!append_text_token(t, pos, end, &plan.text)) return false;
  if (plan.text.size() > kMaxPlanText) return false;
  op.text_size = static_cast<std::uint32_t>(plan.text.size() - op.text_begin);
  plan.ops.push_back(op);
  return true;
}

bool BinXmlParser::compile_content(Plan& plan, std::size_t& pos, std::size_t end, bool in_element,
                                   int level) {
  while (pos < end) {
    const std::uint8_t t = chunk_[pos++];
    switch (t) {
      case token::kEndOfStream:
        if (in_element) return false;
        plan.ops.push_back(Op{Op::kEndOfStream});
        return true;
      case token::kEndElement:
        if (!in_element) return false;
        plan.ops.push_back(Op{Op::kEnd});
        return true;
      case token::kFragmentHeader:
        if (!need(pos, 3, end, "")) return false;
        pos += 3;
        plan.ops.push_back(Op{Op::kStep});
        break;
      case token::kOpenStartElement:
      case token::kOpenStartElement | token::kMoreFlag:
        if (!compile_element(plan, pos, end, t, level + 1)) return false;
        break;
      case token::kValueText:
      case token::kValueText | token::kMoreFlag:
      case token::kCData:
      case token::kCData | token::kMoreFlag:
      case token::kCharRef:
      case token::kCharRef | token::kMoreFlag:
      case token::kEntityRef:
      case token::kEntityRef | token::kMoreFlag:
        if (!compile_text(plan, Op::kText, t, pos, end)) return false;
        break;
      case token::kNormalSubstitution:
      case token::kOptionalSubstitution: {
        if (!need(pos, 3, end, "")) return false;
        Op op{Op::kSub};
        op.optional = t == token::kOptionalSubstitution;
        op.id = le16(chunk_ + pos);
        op.at = static_cast<std::uint32_t>(pos);
        pos += 3;
        plan.ops.push_back(op);
        break;
      }
      default:  // template instances, processing instructions, faults: walked
        return false;
    }
  }
  return !in_element;
}

bool BinXmlParser::compile_element(Plan& plan, std::size_t& pos, std::size_t end, std::uint8_t t,
                                   int level) {
  if (level > kMaxDepth) return false;
  plan.levels = std::max(plan.levels, level);
  const std::size_t start = pos - 1;
  // As parse_element decides it for a template body (which has dependency ids).
  bool has_dependency_id = true;
  if (!plausible_name_offset(pos + 6, start, end) && plausible_name_offset(pos + 4, start, end))
    has_dependency_id = false;
  if (has_dependency_id) {
    if (!need(pos, 2, end, "")) return false;
    pos += 2;
  }
  if (!need(pos, 4, end, "")) return false;
  pos += 4;
  Op op{Op::kStart};
  op.name = read_name(pos, end);
  if (op.name == nullptr) return false;
  if (t & token::kMoreFlag) {
    if (!need(pos, 4, end, "")) return false;
    pos += 4;
  }
  plan.ops.push_back(op);
  if (!compile_attributes(plan, pos, end) || !need(pos, 1, end, "")) return false;
  const std::uint8_t close = chunk_[pos++];
  if (close == token::kCloseEmptyElement) {
    plan.ops.push_back(Op{Op::kCloseEmpty});
    return true;
  }
  if (close != token::kCloseStartElement) return false;
  Op content{Op::kCloseStart};
  content.array =
      end - pos >= 5 &&
      (chunk_[pos] == token::kNormalSubstitution || chunk_[pos] == token::kOptionalSubstitution) &&
      chunk_[pos + 4] == token::kEndElement;
  if (content.array) content.id = le16(chunk_ + pos + 1);
  plan.ops.push_back(content);
  return compile_content(plan, pos, end, /*in_element=*/true, level);
}

bool BinXmlParser::compile_attributes(Plan& plan, std::size_t& pos, std::size_t end) {
  while (pos < end && (chunk_[pos] & ~token::kMoreFlag) == token::kAttribute) {
    ++pos;
    Op attribute{Op::kAttribute};
    attribute.name = read_name(pos, end);
    if (attribute.name == nullptr) return false;
    plan.ops.push_back(attribute);
    while (pos < end) {
      const std::uint8_t t = chunk_[pos];
      const std::uint8_t base = t & ~token::kMoreFlag;
      if (base == token::kNormalSubstitution || base == token::kOptionalSubstitution) {
        if ((t & token::kMoreFlag) || !need(pos + 1, 3, end, "")) return false;
        Op piece{Op::kAttrSub};
        piece.optional = base == token::kOptionalSubstitution;
        piece.id = le16(chunk_ + pos + 1);
        piece.at = static_cast<std::uint32_t>(pos + 1);
        pos += 4;
        plan.ops.push_back(piece);
      } else if (base == token::kValueText || base == token::kCharRef ||
                 base == token::kEntityRef) {
        ++pos;
        if (!compile_text(plan, Op::kAttrText, t, pos, end)) return false;
      } else {
        break;
      }
    }
  }
  return true;
}

bool BinXmlParser::run_plan(const Plan& plan, const Scope& scope, int depth) {
  const std::size_t base = open_.size();
  open_.push_back(Open{});  // the body's own content
  const bool ok = run_ops(plan, scope, depth);
  open_.resize(base);
  return ok;
}

bool BinXmlParser::run_ops(const Plan& plan, const Scope& scope, int depth) {
  const std::size_t base = open_.size() - 1;
  const std::vector<Op>& ops = plan.ops;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (!step()) return false;  // every op here is a token parse_content steps over
    switch (op.kind) {
      case Op::kStep:
        break;
      case Op::kEndOfStream:
        return true;
      case Op::kStart: {
        ++open_.back().items;
        builder_->start_element(*op.name);
        const std::size_t close = run_attributes(plan, i + 1, scope);
        if (close == 0) return false;
        bool done = false;
        if (ops[close].kind == Op::kCloseEmpty) {
          builder_->end_element(false);
          i = close;
        } else if (!run_array(plan, i, close, scope, done)) {
          return false;
        } else if (done) {
          i = close + 2;  // past the substitution and the end tag the array stood for
        } else {
          open_.push_back(Open{});
          i = close;
        }
        break;
      }
      case Op::kEnd: {
        const Open open = open_.back();
        open_.pop_back();
        builder_->end_element(open.items == 1 && open.empty_optional);
        break;
      }
      case Op::kText:
        ++open_.back().items;
        if (builder_->wants_text())
          builder_->text_buffer().append(plan.text, op.text_begin, op.text_size);
        break;
      case Op::kSub: {
        const int content_depth = depth + 2 * static_cast<int>(open_.size() - 1 - base);
        if (!run_substitution(op, scope, content_depth, open_.back())) return false;
        break;
      }
      default:
        return fail(op.at, "template plan out of step");  // compile_content never makes this
    }
  }
  return true;
}

std::size_t BinXmlParser::run_attributes(const Plan& plan, std::size_t i, const Scope& scope) {
  const std::vector<Op>& ops = plan.ops;
  while (ops[i].kind == Op::kAttribute) {
    if (!step()) return 0;
    const Name& name = *ops[i++].name;
    const bool wanted = builder_->wants_attribute(name);
    attribute_value_.clear();
    std::string* out = wanted ? &attribute_value_ : nullptr;
    TypedValue typed;
    int pieces = 0;
    bool empty_optional = false;
    bool unwritten = false;  // the only piece yet is a value the builder reads typed: no text made
    for (; ops[i].kind == Op::kAttrSub || ops[i].kind == Op::kAttrText; ++i) {
      if (!step()) return 0;
      const Op& piece = ops[i];
      if (unwritten) {  // a second piece: the attribute is read as text after all
        append_value(typed.type, typed.data, typed.size, *out);
        unwritten = false;
      }
      ++pieces;
      if (piece.kind == Op::kAttrText) {
        typed.type = value_type::kString;
        typed.data = nullptr;
        if (out != nullptr) out->append(plan.text, piece.text_begin, piece.text_size);
        continue;
      }
      if (piece.id >= scope.values_count) {
        fail(piece.at, "substitution refers to a value the template instance does not have");
        return 0;
      }
      const Value& v = values_[scope.values_begin + piece.id];
      empty_optional = piece.optional && v.type == value_type::kNull;
      typed = TypedValue{v.type, chunk_ + v.offset, v.size};
      if (out == nullptr) continue;
      if (pieces == 1 && builder_->reads_typed_only(name, typed)) {
        unwritten = true;
      } else {
        append_value(v.type, chunk_ + v.offset, v.size, *out);
      }
    }
    if (wanted && !(pieces == 1 && empty_optional)) {
      builder_->attribute(name, attribute_value_,
                          pieces == 1 && typed.data != nullptr ? &typed : nullptr);
    }
  }
  return i;
}

bool BinXmlParser::run_array(const Plan& plan, std::size_t start, std::size_t close,
                             const Scope& scope, bool& done) {
  // As parse_element: an element whose content is one array substitution, once per item.
  const Op& content = plan.ops[close];
  done = false;
  if (!content.array || content.id >= scope.values_count) return true;
  const Value v = values_[scope.values_begin + content.id];
  if ((v.type & value_type::kArrayFlag) == 0) return true;
  std::size_t item = 0;
  for (bool first = true; first || item < v.size; first = false) {
    if (!step()) return false;
    if (!first) {
      builder_->start_element(*plan.ops[start].name);
      if (run_attributes(plan, start + 1, scope) == 0) return false;
    }
    std::string& out = builder_->wants_text() ? builder_->text_buffer() : discard_;
    append_array_item(v.type, chunk_ + v.offset, v.size, item, out);
    discard_.clear();
    builder_->end_element(false);
  }
  done = true;
  return true;
}

bool BinXmlParser::run_substitution(const Op& op, const Scope& scope, int content_depth,
                                    Open& open) {
  if (op.id >= scope.values_count)
    return fail(op.at, "substitution refers to a value the template instance does not have");
  const Value* v = &values_[scope.values_begin + op.id];
  ++open.items;
  open.empty_optional = op.optional && v->type == value_type::kNull;
  return content_value(*v, content_depth);
}

bool BinXmlParser::content_value(const Value v, int depth) {
  if (v.type == value_type::kBinXml) {
    Scope embedded;
    embedded.values_begin = static_cast<std::uint32_t>(values_.size());
    embedded.no_dependency_id =
        v.size > 0 && (chunk_[v.offset] & ~token::kMoreFlag) == token::kOpenStartElement;
    std::size_t inner = v.offset;
    bool unused = false;
    return parse_content(inner, static_cast<std::size_t>(v.offset) + v.size, embedded, depth + 1,
                         /*in_element=*/false, unused);
  }
  if (builder_->wants_text())
    append_value(v.type, chunk_ + v.offset, v.size, builder_->text_buffer());
  return true;
}

bool BinXmlParser::parse_content(std::size_t& pos, std::size_t end, const Scope& scope, int depth,
                                 bool in_element, bool& only_empty_optional) {
  if (depth > kMaxDepth) return fail(pos, "BinXML nested too deeply");
  int items = 0;
  bool empty_optional = false;
  while (pos < end) {
    if (!step()) return false;
    const std::uint8_t t = chunk_[pos++];
    switch (t) {
      case token::kEndOfStream:
        if (in_element) return fail(pos - 1, "end of stream inside an element");
        only_empty_optional = false;
        return true;
      case token::kEndElement:
        if (!in_element) return fail(pos - 1, "end tag without an element");
        only_empty_optional = items == 1 && empty_optional;
        return true;
      case token::kFragmentHeader:
        if (!need(pos, 3, end, "truncated fragment header")) return false;
        pos += 3;
        break;
      case token::kOpenStartElement:
      case token::kOpenStartElement | token::kMoreFlag:
        ++items;
        if (!parse_element(pos, end, scope, depth + 1, t)) return false;
        break;
      case token::kTemplateInstance:
        ++items;
        if (!parse_template_instance(pos, end, depth + 1)) return false;
        break;
      case token::kValueText:
      case token::kValueText | token::kMoreFlag:
      case token::kCData:
      case token::kCData | token::kMoreFlag:
      case token::kCharRef:
      case token::kCharRef | token::kMoreFlag:
      case token::kEntityRef:
      case token::kEntityRef | token::kMoreFlag:
        ++items;
        if (!append_text_token(t, pos, end,
                               builder_->wants_text() ? &builder_->text_buffer() : nullptr))
          return false;
        break;
      case token::kNormalSubstitution:
      case token::kOptionalSubstitution: {
        const Value* v = substitution_value(pos, end, scope);
        if (v == nullptr) return false;
        ++items;
        empty_optional = t == token::kOptionalSubstitution && v->type == value_type::kNull;
        if (!content_value(*v, depth)) return false;
        break;
      }
      case token::kPITarget: {
        if (read_name(pos, end) == nullptr) return false;
        break;
      }
      case token::kPIData: {
        if (!need(pos, 2, end, "truncated PI data")) return false;
        const std::size_t units = le16(chunk_ + pos);
        pos += 2;
        if (!need(pos, 2 * units, end, "PI data runs past its data")) return false;
        pos += 2 * units;
        break;
      }
      default:
        return fail(pos - 1, "unknown BinXML token");
    }
  }
  if (in_element) return fail(pos, "element not closed before the end of its data");
  only_empty_optional = false;
  return true;
}

}  // namespace sw::evtx_native
