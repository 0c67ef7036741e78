#include "rules/compile.hpp"
#include "sessionwatch/wildcard.hpp"
#include "sessionwatch/yaml_guard.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include <yaml-cpp/yaml.h>

namespace sw::embedded {
extern const std::string_view logsources_yaml;
}

namespace sw::rules {
namespace {

// Thrown inside the parser only; turned into a RuleProblem per rule document.
struct CompileError {
  YAML::Mark mark;
  std::string message;
};

[[noreturn]] void fail(const YAML::Node& at, std::string message) {
  throw CompileError{at.Mark(), std::move(message)};
}
[[noreturn]] void fail_at(const YAML::Mark& at, std::string message) {
  throw CompileError{at, std::move(message)};
}

std::string lower(std::string_view s) {
  return folded(s);
}

std::string scalar(const YAML::Node& n, std::string_view what) {
  if (!n.IsScalar()) fail(n, std::string(what) + " must be a string");
  return n.Scalar();
}

std::string optional_scalar(const YAML::Node& parent, const char* key) {
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) return {};
  if (!n.IsScalar()) fail(n, std::string("'") + key + "' must be a string");
  return n.Scalar();
}

// A string or a list of strings (Sigma allows both for references and falsepositives).
std::vector<std::string> string_list(const YAML::Node& parent, const char* key) {
  std::vector<std::string> out;
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) fail(n, std::string("'") + key + "' must be a list of strings");
  for (const YAML::Node& item : n) {
    if (item.IsNull()) continue;
    if (!item.IsScalar()) fail(item, std::string("'") + key + "' must be a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

bool parse_bool(const YAML::Node& n, bool& out) {
  if (!n.IsScalar()) return false;
  const std::string v = lower(n.Scalar());
  if (v == "true" || v == "yes") {
    out = true;
    return true;
  }
  if (v == "false" || v == "no") {
    out = false;
    return true;
  }
  return false;
}

RuleInfo parse_info(const YAML::Node& doc, const std::string& source) {
  RuleInfo info;
  info.title = optional_scalar(doc, "title");
  if (info.title.empty()) fail(doc, "rule has no title");
  info.id = optional_scalar(doc, "id");
  info.description = optional_scalar(doc, "description");
  info.author = optional_scalar(doc, "author");
  const std::string level = optional_scalar(doc, "level");
  if (!level.empty() && !parse_level(lower(level), info.level)) {
    fail(doc["level"],
         "unknown level '" + level + "' (informational, low, medium, high or critical)");
  }
  info.tags = string_list(doc, "tags");
  info.references = string_list(doc, "references");
  info.falsepositives = string_list(doc, "falsepositives");
  info.source = source;
  // Metadata we carry no further but still validate the shape of.
  string_list(doc, "fields");
  return info;
}

// --- detection values ---

struct Modifiers {
  bool contains = false, startswith = false, endswith = false, all = false, cased = false;
  bool re = false, re_i = false, re_m = false, re_s = false;
  bool cidr = false, exists = false, fieldref = false, expand = false, neq = false;
  std::optional<ValueMatcher::NumberOp> number;
  // Transformations, in the order written.
  std::vector<std::string> transforms;  // windash, base64, base64offset, utf16le/be, utf16, wide
};

Modifiers parse_modifiers(const std::vector<std::string>& names, const YAML::Node& key) {
  Modifiers m;
  for (const std::string& name : names) {
    if (name == "contains")
      m.contains = true;
    else if (name == "startswith")
      m.startswith = true;
    else if (name == "endswith")
      m.endswith = true;
    else if (name == "all")
      m.all = true;
    else if (name == "cased")
      m.cased = true;
    else if (name == "re")
      m.re = true;
    else if (name == "i")
      m.re_i = true;
    else if (name == "m")
      m.re_m = true;
    else if (name == "s")
      m.re_s = true;
    else if (name == "cidr")
      m.cidr = true;
    else if (name == "exists")
      m.exists = true;
    else if (name == "fieldref")
      m.fieldref = true;
    else if (name == "expand")
      m.expand = true;
    else if (name == "neq")
      m.neq = true;
    else if (name == "gt")
      m.number = ValueMatcher::kGt;
    else if (name == "gte")
      m.number = ValueMatcher::kGte;
    else if (name == "lt")
      m.number = ValueMatcher::kLt;
    else if (name == "lte")
      m.number = ValueMatcher::kLte;
    else if (name == "windash" || name == "base64" || name == "base64offset" || name == "utf16le" ||
             name == "utf16be" || name == "utf16" || name == "wide")
      m.transforms.push_back(name);
    else if (name == "minute" || name == "hour" || name == "day" || name == "week" ||
             name == "month" || name == "year")
      fail(key, "unsupported: time modifier '" + name + "'");
    else if (name.empty())
      fail(key, "empty modifier (two '|' in a row)");
    else
      fail(key, "unknown modifier '" + name + "'");
  }
  if ((m.re_i || m.re_m || m.re_s) && !m.re) fail(key, "modifiers i, m and s need 're'");
  const int kinds = m.re + m.cidr + m.exists + m.fieldref + m.number.has_value();
  if (kinds > 1)
    fail(key, "modifiers re, cidr, exists, fieldref and gt/gte/lt/lte exclude each other");
  if (kinds == 1 && (!m.transforms.empty() || m.expand)) {
    fail(key,
         "encoding or expand modifiers cannot be combined with re, cidr, exists, fieldref or "
         "a numeric comparison");
  }
  if ((m.re || m.cidr || m.exists || m.number) && (m.contains || m.startswith || m.endswith)) {
    fail(key,
         "contains/startswith/endswith cannot be combined with re, cidr, exists or a "
         "numeric comparison");
  }
  if (m.contains + m.startswith + m.endswith > 1)
    fail(key, "only one of contains, startswith and endswith may be used");
  return m;
}

// Expands %placeholder% references from the configured lists.
std::vector<std::string> expand_placeholders(const std::string& value, const YAML::Node& at,
                                             const RuleOptions& options) {
  std::vector<std::string> out{std::string()};
  std::size_t pos = 0;
  while (pos < value.size()) {
    const std::size_t open = value.find('%', pos);
    const std::size_t close =
        open == std::string::npos ? std::string::npos : value.find('%', open + 1);
    if (close == std::string::npos) {
      for (std::string& o : out) o.append(value, pos, std::string::npos);
      break;
    }
    for (std::string& o : out) o.append(value, pos, open - pos);
    const std::string name = value.substr(open + 1, close - open - 1);
    auto it = options.placeholders.find(name);
    if (it == options.placeholders.end() || it->second.empty()) {
      fail(at, "unsupported: expand placeholder '%" + name + "%' is not configured");
    }
    std::vector<std::string> next;
    for (const std::string& o : out) {
      for (const std::string& v : it->second) next.push_back(o + v);
    }
    if (next.size() > 4096) fail(at, "expand placeholders produce too many values");
    out = std::move(next);
    pos = close + 1;
  }
  return out;
}

// Applies encodings and windash to one value; may expand it into several.
std::vector<Atoms> transform(Atoms atoms, const Modifiers& m, const YAML::Node& at) {
  std::vector<Atoms> values{std::move(atoms)};
  bool dashed = false;
  for (const std::string& t : m.transforms) {
    if (t == "windash") {
      for (Atoms& a : values) apply_windash(a);
      dashed = true;
      continue;
    }
    if (dashed) fail(at, "unsupported: encoding modifier '" + t + "' after windash");
    std::vector<Atoms> next;
    for (Atoms& a : values) {
      // Wildcards may sit at the ends (from contains/startswith/endswith written first); the
      // encoded text itself must be literal.
      bool lead = false, trail = false;
      if (!a.empty() && a.front().kind == Atom::kStar) {
        lead = true;
        a.erase(a.begin());
      }
      if (!a.empty() && a.back().kind == Atom::kStar) {
        trail = true;
        a.pop_back();
      }
      auto text = only_literal(a);
      if (!text) fail(at, "unsupported: wildcards inside a value encoded with '" + t + "'");
      std::vector<std::string> encoded;
      if (t == "base64") {
        encoded.push_back(base64_encode(*text));
      } else if (t == "base64offset") {
        encoded = base64_offsets(*text);
      } else {
        std::string out;
        const bool be = t == "utf16be";
        if (!utf16_encode(*text, be, t == "utf16", out))
          fail(at, "value is not valid UTF-8 for '" + t + "'");
        encoded.push_back(std::move(out));
      }
      for (std::string& e : encoded) {
        Atoms r;
        if (lead) r.push_back(Atom{Atom::kStar, {}});
        r.push_back(Atom{Atom::kLiteral, std::move(e)});
        if (trail) r.push_back(Atom{Atom::kStar, {}});
        normalize(r);
        next.push_back(std::move(r));
      }
    }
    values = std::move(next);
  }
  return values;
}

void add_ends(Atoms& a, bool lead, bool trail) {
  if (lead && (a.empty() || a.front().kind != Atom::kStar))
    a.insert(a.begin(), Atom{Atom::kStar, {}});
  if (trail && (a.empty() || a.back().kind != Atom::kStar)) a.push_back(Atom{Atom::kStar, {}});
}

// The string pipeline: wildcards, expand, then modifiers in the order Sigma applies them.
void compile_string_value(const std::string& raw, bool plain_scalar, const Modifiers& m,
                          const YAML::Node& at, const CompileContext& ctx,
                          std::vector<ValueMatcher>& out) {
  std::vector<std::string> raws{raw};
  if (m.expand) raws = expand_placeholders(raw, at, ctx.options);
  for (const std::string& r : raws) {
    Atoms atoms = parse_wildcards(r);
    // Hex numbers compare in the canonical form events carry ("0x3E7" == "0x00003e7").
    if (plain_scalar && m.transforms.empty() && !m.contains && !m.startswith && !m.endswith &&
        atoms.size() == 1 && is_hex_literal(r)) {
      std::string canon;
      append_canonical_hex(r, canon);
      atoms = literal_atoms(canon);
    }
    // contains/startswith/endswith come before encodings in Sigma's usual order
    // (`|wide|base64offset|contains`): encode first, then add the wildcards.
    std::vector<Atoms> variants = transform(std::move(atoms), m, at);
    for (Atoms& a : variants) {
      add_ends(a, m.contains || m.endswith, m.contains || m.startswith);
      ValueMatcher vm;
      vm.kind = ValueMatcher::kString;
      vm.cased = m.cased;
      vm.negate = m.neq;
      vm.pattern = StringPattern(std::move(a), m.cased);
      out.push_back(std::move(vm));
    }
  }
}

void compile_value(const YAML::Node& v, const Modifiers& m, const CompileContext& ctx,
                   std::vector<ValueMatcher>& out) {
  if (v.IsNull()) {
    if (m.re || m.cidr || m.number || m.fieldref || m.exists || !m.transforms.empty() ||
        m.contains || m.startswith || m.endswith)
      fail(v, "null cannot take modifiers");
    ValueMatcher vm;
    vm.kind = ValueMatcher::kNull;
    out.push_back(std::move(vm));
    return;
  }
  if (!v.IsScalar()) fail(v, "a field value must be a string, number, boolean or null");
  const std::string& s = v.Scalar();
  ValueMatcher vm;
  vm.negate = m.neq;
  vm.cased = m.cased;
  if (m.exists) {
    vm.kind = ValueMatcher::kExists;
    if (!parse_bool(v, vm.exists)) fail(v, "'exists' takes true or false");
    out.push_back(std::move(vm));
    return;
  }
  if (m.re) {
    std::string flags;
    if (m.re_i) flags += 'i';
    if (m.re_m) flags += 'm';
    if (m.re_s) flags += 's';
    const std::string pattern = flags.empty() ? s : "(?" + flags + ")" + s;
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(8 << 20);
    auto re = std::make_shared<RE2>(pattern, opts);
    if (!re->ok()) {
      const auto code = re->error_code();
      // Perl features RE2 deliberately lacks (lookaround, backreferences) are unsupported, not
      // wrong; anything else is a broken pattern.
      if (code == RE2::ErrorBadPerlOp || code == RE2::ErrorBadEscape ||
          code == RE2::ErrorRepeatSize || code == RE2::ErrorPatternTooLarge) {
        fail(v, "unsupported: regex feature (" + re->error() + ")");
      }
      fail(v, "bad regex: " + re->error());
    }
    vm.kind = ValueMatcher::kRegex;
    vm.regex = std::move(re);
    out.push_back(std::move(vm));
    return;
  }
  if (m.cidr) {
    auto c = parse_cidr(s);
    if (!c) fail(v, "bad CIDR network '" + s + "'");
    vm.kind = ValueMatcher::kCidr;
    vm.cidr = *c;
    out.push_back(std::move(vm));
    return;
  }
  if (m.number) {
    double d = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), d);
    if (is_hex_literal(s) && parse_uint(s)) {
      d = static_cast<double>(*parse_uint(s));
    } else if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
      fail(v, "'" + s + "' is not a number");
    }
    vm.kind = ValueMatcher::kNumber;
    vm.number_op = *m.number;
    vm.number = d;
    out.push_back(std::move(vm));
    return;
  }
  if (m.fieldref) {
    vm.kind = ValueMatcher::kFieldRef;
    vm.ref_field = intern_field(s);
    vm.ref_shape = m.contains     ? ValueMatcher::kRefContains
                   : m.startswith ? ValueMatcher::kRefPrefix
                   : m.endswith   ? ValueMatcher::kRefSuffix
                                  : ValueMatcher::kRefExact;
    out.push_back(std::move(vm));
    return;
  }
  compile_string_value(s, true, m, v, ctx, out);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

FieldTest compile_field(const YAML::Node& key, const YAML::Node& value, const CompileContext& ctx) {
  const std::string k = scalar(key, "a field name");
  std::vector<std::string> parts = split(k, '|');
  FieldTest t;
  t.field_name = parts[0];
  t.keyword = t.field_name.empty();
  if (!t.keyword) t.field = intern_field(t.field_name);
  parts.erase(parts.begin());
  const Modifiers m = parse_modifiers(parts, key);
  t.all = m.all;
  if (value.IsSequence()) {
    if (value.size() == 0) fail(value, "empty list of values");
    for (const YAML::Node& item : value) {
      if (item.IsNull() && value.size() > 1) fail(item, "null cannot be part of a list of values");
      compile_value(item, m, ctx, t.values);
    }
  } else if (value.IsMap()) {
    fail(value, "a field value cannot be a map");
  } else {
    if (m.all) fail(key, "'all' needs a list of values");
    compile_value(value, m, ctx, t.values);
  }
  // `all` over values that windash/base64offset expanded: each written value must match, so the
  // expansion is OR-ed inside it. Only the plain case is supported.
  if (m.all && !m.transforms.empty()) {
    for (const std::string& tr : m.transforms) {
      if (tr == "base64offset") fail(key, "unsupported: 'all' combined with base64offset");
    }
  }
  return t;
}

std::vector<FieldTest> compile_map(const YAML::Node& map, const CompileContext& ctx) {
  std::vector<FieldTest> tests;
  for (auto it = map.begin(); it != map.end(); ++it) {
    tests.push_back(compile_field(it->first, it->second, ctx));
  }
  return tests;
}

Selection compile_selection(const std::string& name, const YAML::Node& node,
                            const CompileContext& ctx) {
  Selection s;
  s.name = name;
  if (node.IsMap()) {
    s.alternatives.push_back(compile_map(node, ctx));
  } else if (node.IsSequence()) {
    bool maps = false, scalars = false;
    for (const YAML::Node& item : node) {
      if (item.IsMap())
        maps = true;
      else if (item.IsScalar())
        scalars = true;
      else
        fail(item, "a search identifier list holds maps or keyword strings");
    }
    if (maps && scalars) fail(node, "a search identifier mixes maps and keywords");
    if (maps) {
      for (const YAML::Node& item : node) s.alternatives.push_back(compile_map(item, ctx));
    } else {
      FieldTest t;
      t.keyword = true;
      Modifiers m;
      m.contains = true;  // keywords are searched anywhere in the event text
      for (const YAML::Node& item : node) compile_value(item, m, ctx, t.values);
      if (t.values.empty()) fail(node, "empty keyword list");
      s.alternatives.push_back({std::move(t)});
    }
  } else if (node.IsScalar()) {
    FieldTest t;
    t.keyword = true;
    Modifiers m;
    m.contains = true;
    compile_value(node, m, ctx, t.values);
    s.alternatives.push_back({std::move(t)});
  } else {
    fail(node, "search identifier '" + name + "' is empty");
  }
  return s;
}

// --- condition grammar ---
//   expr := and ('or' and)* ; and := not ('and' not)* ; not := 'not' not | primary
//   primary := '(' expr ')' | (N|'all'|'any') 'of' (pattern|'them') | identifier
// The parser and everything that walks the tree recurse once per '(' and 'not': a hostile rule
// with thousands of them would overflow the stack, so nesting is bounded (real rules use < 10).
constexpr int kMaxConditionDepth = 64;

class ConditionParser {
 public:
  ConditionParser(std::string_view text, const YAML::Mark& mark,
                  const std::vector<Selection>& selections)
      : text_(text), mark_(mark), selections_(selections) {
    tokenize();
  }

  Condition parse() {
    if (tokens_.empty()) error(0, "empty condition");
    Condition c = parse_or();
    if (pos_ < tokens_.size())
      error(tokens_[pos_].offset, "unexpected '" + tokens_[pos_].text + "'");
    return c;
  }

 private:
  struct Token {
    std::string text;
    std::size_t offset;
  };

  [[noreturn]] void error(std::size_t offset, const std::string& message) {
    YAML::Mark m = mark_;
    m.column += static_cast<int>(offset);
    // Keep "unsupported:" first so callers can tell unsupported features from mistakes.
    if (message.rfind("unsupported:", 0) == 0) fail_at(m, message + " (in the condition)");
    fail_at(m, "condition: " + message);
  }

  void tokenize() {
    std::size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (c == '(' || c == ')') {
        tokens_.push_back({std::string(1, c), i++});
      } else if (c == '|') {
        error(i, "unsupported: aggregation expression ('| count() ...'); use a correlation rule");
      } else {
        const std::size_t start = i;
        while (i < text_.size() &&
               std::string_view(" \t\r\n()|").find(text_[i]) == std::string_view::npos)
          ++i;
        tokens_.push_back({std::string(text_.substr(start, i - start)), start});
      }
    }
  }

  bool peek_word(std::string_view w) const {
    return pos_ < tokens_.size() && lower(tokens_[pos_].text) == w;
  }

  Condition combine(Condition::Op op, Condition first, Condition second) {
    if (first.op == op) {
      first.children.push_back(std::move(second));
      return first;
    }
    Condition c;
    c.op = op;
    c.children.push_back(std::move(first));
    c.children.push_back(std::move(second));
    return c;
  }

  Condition parse_or() {
    Condition left = parse_and();
    while (peek_word("or")) {
      ++pos_;
      left = combine(Condition::kOr, std::move(left), parse_and());
    }
    return left;
  }

  Condition parse_and() {
    Condition left = parse_not();
    while (peek_word("and")) {
      ++pos_;
      left = combine(Condition::kAnd, std::move(left), parse_not());
    }
    return left;
  }

  // Counts one level of nesting for as long as it lives.
  class Nesting {
   public:
    Nesting(ConditionParser& p, std::size_t offset) : p_(p) {
      if (++p_.depth_ > kMaxConditionDepth) {
        p_.error(offset, "nested deeper than " + std::to_string(kMaxConditionDepth) +
                             " levels of '(' and 'not'");
      }
    }
    ~Nesting() { --p_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    ConditionParser& p_;
  };

  Condition parse_not() {
    if (peek_word("not")) {
      const Nesting nesting(*this, tokens_[pos_].offset);
      ++pos_;
      Condition c;
      c.op = Condition::kNot;
      c.children.push_back(parse_not());
      return c;
    }
    return parse_primary();
  }

  Condition parse_primary() {
    if (pos_ >= tokens_.size()) error(text_.size(), "expression expected at the end");
    const Token& t = tokens_[pos_];
    if (t.text == "(") {
      const Nesting nesting(*this, t.offset);
      ++pos_;
      Condition c = parse_or();
      if (pos_ >= tokens_.size() || tokens_[pos_].text != ")") error(t.offset, "unbalanced '('");
      ++pos_;
      return c;
    }
    if (t.text == ")") error(t.offset, "unexpected ')'");
    const std::string word = lower(t.text);
    if (word == "and" || word == "or")
      error(t.offset, "'" + t.text + "' needs an expression before it");
    if (pos_ + 1 < tokens_.size() && lower(tokens_[pos_ + 1].text) == "of") {
      std::uint32_t n = 0;
      bool all = word == "all";
      if (!all) {
        if (word == "any") {
          n = 1;
        } else {
          auto r = std::from_chars(word.data(), word.data() + word.size(), n);
          if (r.ec != std::errc() || r.ptr != word.data() + word.size() || n == 0)
            error(t.offset, "'" + t.text + " of' needs a positive number, 'all' or 'any'");
        }
      }
      pos_ += 2;
      if (pos_ >= tokens_.size()) error(t.offset, "'of' needs a pattern or 'them'");
      const Token& target = tokens_[pos_++];
      const bool them = lower(target.text) == "them";
      Condition c;
      for (std::uint32_t i = 0; i < selections_.size(); ++i) {
        const std::string& name = selections_[i].name;
        const bool hit = them ? name.empty() || name[0] != '_'
                              : wildcard_match(target.text, name, Wildcards::kStarOnly);
        if (!hit) continue;
        Condition s;
        s.op = Condition::kSelection;
        s.selection = i;
        c.children.push_back(std::move(s));
      }
      if (c.children.empty()) error(target.offset, "'" + target.text + "' names no selection");
      if (all) {
        c.op = Condition::kAnd;
      } else if (n == 1) {
        c.op = Condition::kOr;
      } else {
        c.op = Condition::kAtLeast;
        c.at_least = n;
      }
      return c;
    }
    ++pos_;
    for (std::uint32_t i = 0; i < selections_.size(); ++i) {
      if (selections_[i].name == t.text) {
        Condition c;
        c.op = Condition::kSelection;
        c.selection = i;
        return c;
      }
    }
    if (t.text.find('*') != std::string::npos)
      error(t.offset, "pattern '" + t.text + "' needs '1 of' or 'all of'");
    error(t.offset, "'" + t.text + "' names no selection");
  }

  std::string_view text_;
  YAML::Mark mark_;
  const std::vector<Selection>& selections_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

Detection compile_detection(const YAML::Node& det, const CompileContext& ctx) {
  if (!det.IsMap()) fail(det, "'detection' must be a map");
  Detection d;
  YAML::Node condition;
  for (auto it = det.begin(); it != det.end(); ++it) {
    const std::string key = scalar(it->first, "a search identifier");
    if (key == "condition") {
      condition = it->second;
      continue;
    }
    if (key == "timeframe")
      fail(it->first, "unsupported: 'timeframe' (Sigma v1 aggregation); use a correlation rule");
    d.selections.push_back(compile_selection(key, it->second, ctx));
  }
  if (!condition) fail(det, "detection has no condition");
  std::vector<Condition> alternatives;
  auto parse_one = [&](const YAML::Node& c) {
    if (!c.IsScalar()) fail(c, "a condition must be a string");
    alternatives.push_back(ConditionParser(c.Scalar(), c.Mark(), d.selections).parse());
  };
  if (condition.IsSequence()) {
    for (const YAML::Node& c : condition) parse_one(c);
    if (alternatives.empty()) fail(condition, "empty condition list");
  } else {
    parse_one(condition);
  }
  if (alternatives.size() == 1) {
    d.condition = std::move(alternatives[0]);
  } else {
    d.condition.op = Condition::kOr;
    d.condition.children = std::move(alternatives);
  }
  return d;
}

// Event ids the condition requires (nullopt = any): a selection pinning EventID to plain
// numbers, AND narrowing to any constrained child, OR needing every child constrained.
std::optional<std::set<std::uint32_t>> required_event_ids(const Detection& d, const Condition& c) {
  switch (c.op) {
    case Condition::kSelection: {
      std::set<std::uint32_t> ids;
      for (const auto& alternative : d.selections[c.selection].alternatives) {
        bool constrained = false;
        for (const FieldTest& t : alternative) {
          if (t.keyword || t.field != fields::EventID || t.all) continue;
          std::set<std::uint32_t> here;
          bool plain = true;
          for (const ValueMatcher& v : t.values) {
            auto lit = v.kind == ValueMatcher::kString && !v.negate ? v.pattern.exact_literal()
                                                                    : std::nullopt;
            std::uint32_t n = 0;
            if (!lit || std::from_chars(lit->data(), lit->data() + lit->size(), n).ptr !=
                            lit->data() + lit->size()) {
              plain = false;
              break;
            }
            here.insert(n);
          }
          if (plain) {
            ids.insert(here.begin(), here.end());
            constrained = true;
            break;
          }
        }
        if (!constrained) return std::nullopt;
      }
      return ids;
    }
    case Condition::kAnd: {
      for (const Condition& k : c.children) {
        if (auto ids = required_event_ids(d, k)) return ids;
      }
      return std::nullopt;
    }
    case Condition::kOr:
    case Condition::kAtLeast: {
      std::set<std::uint32_t> ids;
      for (const Condition& k : c.children) {
        auto sub = required_event_ids(d, k);
        if (!sub) return std::nullopt;
        ids.insert(sub->begin(), sub->end());
      }
      return ids;
    }
    case Condition::kNot:
      return std::nullopt;
  }
  return std::nullopt;
}

// True when every way the condition can hold needs `field` present: a selection whose every
// alternative tests it with values that fail on an absent field, AND needing one such child,
// OR needing all of them.
bool requires_field(const Detection& d, const Condition& c, FieldId field) {
  auto needs_presence = [](const ValueMatcher& v) {
    switch (v.kind) {
      case ValueMatcher::kExists:
        return v.exists;
      case ValueMatcher::kNull:
        return false;
      default:
        return !v.negate;
    }
  };
  switch (c.op) {
    case Condition::kSelection: {
      for (const auto& alternative : d.selections[c.selection].alternatives) {
        const bool tested =
            std::any_of(alternative.begin(), alternative.end(), [&](const FieldTest& t) {
              if (t.keyword || t.field != field || t.values.empty()) return false;
              return t.all ? std::any_of(t.values.begin(), t.values.end(), needs_presence)
                           : std::all_of(t.values.begin(), t.values.end(), needs_presence);
            });
        if (!tested) return false;
      }
      return !d.selections[c.selection].alternatives.empty();
    }
    case Condition::kAnd:
      return std::any_of(c.children.begin(), c.children.end(),
                         [&](const Condition& k) { return requires_field(d, k, field); });
    case Condition::kOr:
    case Condition::kAtLeast:
      return !c.children.empty() &&
             std::all_of(c.children.begin(), c.children.end(),
                         [&](const Condition& k) { return requires_field(d, k, field); });
    case Condition::kNot:
      return false;
  }
  return false;
}

// Channels the condition rules out: along the AND spine, `not <selection>` where the selection
// is one alternative pinning Channel to plain names.
void excluded_channels(const Detection& d, const Condition& c, std::vector<std::string>& out) {
  if (c.op == Condition::kAnd) {
    for (const Condition& k : c.children) excluded_channels(d, k, out);
    return;
  }
  if (c.op != Condition::kNot || c.children.size() != 1 ||
      c.children[0].op != Condition::kSelection) {
    return;
  }
  const auto& alternatives = d.selections[c.children[0].selection].alternatives;
  if (alternatives.size() != 1 || alternatives[0].size() != 1) return;
  const FieldTest& t = alternatives[0][0];
  if (t.keyword || t.field != fields::Channel || t.all) return;
  std::vector<std::string> names;
  for (const ValueMatcher& v : t.values) {
    auto literal =
        v.kind == ValueMatcher::kString && !v.negate ? v.pattern.exact_literal() : std::nullopt;
    if (!literal || literal->empty()) return;
    names.push_back(lower(*literal));
  }
  out.insert(out.end(), names.begin(), names.end());
}

std::shared_ptr<const Detection> remap_fields(const Detection& d,
                                              const std::map<std::string, std::string>& fieldmap) {
  auto out = std::make_shared<Detection>(d);
  for (Selection& s : out->selections) {
    for (auto& alternative : s.alternatives) {
      for (FieldTest& t : alternative) {
        if (t.keyword) continue;
        auto it = fieldmap.find(t.field_name);
        if (it != fieldmap.end()) t.field = intern_field(it->second);
      }
    }
  }
  return out;
}

CompiledRule compile_rule(const YAML::Node& doc, const std::string& source,
                          const CompileContext& ctx) {
  CompiledRule rule;
  rule.info = parse_info(doc, source);
  rule.name = optional_scalar(doc, "name");
  const YAML::Node ls = doc["logsource"];
  if (!ls || !ls.IsMap()) fail(doc, "rule has no logsource map");
  const std::string product = lower(optional_scalar(ls, "product"));
  const std::string category = lower(optional_scalar(ls, "category"));
  const std::string service = lower(optional_scalar(ls, "service"));
  std::vector<LogSource> sources;
  std::string error;
  if (!ctx.logsources.resolve(product, category, service, sources, error)) fail(ls, error);
  const YAML::Node det = doc["detection"];
  auto detection = std::make_shared<const Detection>(compile_detection(det, ctx));
  const auto required = required_event_ids(*detection, detection->condition);
  static const FieldId kErrorCode = intern_field("sessionwatch.error_code");
  rule.recognized_errors_only = requires_field(*detection, detection->condition, kErrorCode);
  excluded_channels(*detection, detection->condition, rule.excluded_channels);
  if (sources.empty()) sources.emplace_back();  // any channel
  for (const LogSource& src : sources) {
    CompiledRule::Variant v;
    v.detection = src.fieldmap.empty() ? detection : remap_fields(*detection, src.fieldmap);
    for (const std::string& c : src.channels) v.channels.push_back(lower(c));
    std::set<std::uint32_t> ids(src.event_ids.begin(), src.event_ids.end());
    if (required) {
      if (ids.empty()) {
        ids = *required;
      } else {
        std::set<std::uint32_t> both;
        std::set_intersection(ids.begin(), ids.end(), required->begin(), required->end(),
                              std::inserter(both, both.begin()));
        if (both.empty()) continue;  // this source can never satisfy the detection
        ids = std::move(both);
      }
    }
    v.event_ids.assign(ids.begin(), ids.end());
    for (const auto& [field, value] : src.conditions) {
      v.conditions.emplace_back(intern_field(field), lower(value));
    }
    rule.variants.push_back(std::move(v));
  }
  if (rule.variants.empty()) {
    fail(det, "the detection's EventID values never occur in logsource '" +
                  (category.empty() ? service : category) + "'");
  }
  return rule;
}

std::optional<std::uint64_t> count_value(const YAML::Node& n) {
  std::uint64_t v = 0;
  if (!n.IsScalar()) fail(n, "a correlation count must be a number");
  const std::string& s = n.Scalar();
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) fail(n, "'" + s + "' is not a count");
  return v;
}

CompiledCorrelation compile_correlation(const YAML::Node& doc, const std::string& source) {
  CompiledCorrelation c;
  c.info = parse_info(doc, source);
  c.name = optional_scalar(doc, "name");
  const YAML::Node corr = doc["correlation"];
  c.line = corr.Mark().line + 1;
  c.column = corr.Mark().column + 1;
  if (!corr.IsMap()) fail(corr, "'correlation' must be a map");
  c.type = optional_scalar(corr, "type");
  if (c.type.empty()) fail(corr, "correlation has no type");
  if (c.type == "value_sum" || c.type == "value_avg" || c.type == "value_percentile")
    fail(corr["type"], "unsupported: correlation type '" + c.type + "'");
  if (c.type != "event_count" && c.type != "value_count" && c.type != "temporal" &&
      c.type != "temporal_ordered")
    fail(corr["type"], "unknown correlation type '" + c.type + "'");
  c.rule_refs = string_list(corr, "rules");
  if (c.rule_refs.empty()) fail(corr, "correlation has no rules");
  c.group_by = string_list(corr, "group-by");
  const std::string span = optional_scalar(corr, "timespan");
  if (span.empty()) fail(corr, "correlation has no timespan");
  auto ticks = parse_timespan(span);
  if (!ticks || *ticks <= 0)
    fail(corr["timespan"], "bad timespan '" + span + "' (e.g. 30s, 5m, 1h, 2d)");
  c.timespan = *ticks;
  if (const YAML::Node g = corr["generate"]; g && !parse_bool(g, c.generate))
    fail(g, "'generate' takes true or false");
  if (const YAML::Node al = corr["aliases"]; al) {
    if (!al.IsMap()) fail(al, "'aliases' must be a map");
    for (auto it = al.begin(); it != al.end(); ++it) {
      if (!it->second.IsMap()) fail(it->second, "an alias maps rule names to fields");
      auto& m = c.aliases[scalar(it->first, "an alias")];
      for (auto jt = it->second.begin(); jt != it->second.end(); ++jt) {
        m[scalar(jt->first, "a rule name")] = scalar(jt->second, "a field name");
      }
    }
  }
  const YAML::Node cond = corr["condition"];
  if (cond) {
    if (!cond.IsMap()) fail(cond, "a correlation condition must be a map (gte: 10)");
    for (auto it = cond.begin(); it != cond.end(); ++it) {
      const std::string k = scalar(it->first, "a condition operator");
      if (k == "gt")
        c.gt = count_value(it->second);
      else if (k == "gte")
        c.gte = count_value(it->second);
      else if (k == "lt")
        c.lt = count_value(it->second);
      else if (k == "lte")
        c.lte = count_value(it->second);
      else if (k == "eq")
        c.eq = count_value(it->second);
      else if (k == "neq")
        c.neq = count_value(it->second);
      else if (k == "field") {
        if (it->second.IsSequence()) {
          for (const YAML::Node& f : it->second) c.value_fields.push_back(scalar(f, "a field"));
        } else {
          c.value_fields.push_back(scalar(it->second, "a field"));
        }
      } else {
        fail(it->first, "unknown correlation condition '" + k + "'");
      }
    }
  }
  const bool temporal = c.type == "temporal" || c.type == "temporal_ordered";
  if (!temporal && !cond) fail(corr, c.type + " needs a condition");
  if (c.type == "value_count" && c.value_fields.empty())
    fail(cond, "value_count needs 'field' in its condition");
  if (c.type != "value_count" && !c.value_fields.empty())
    fail(cond, "'field' only applies to value_count");
  if (cond && !c.gt && !c.gte && !c.eq) {
    // A window that must stay below a count can only be judged once it closes; the engine
    // judges windows as events arrive.
    fail(cond, "unsupported: correlation condition without a lower bound (only lt/lte/neq)");
  }
  return c;
}

}  // namespace

std::optional<Ticks> parse_timespan(std::string_view s) {
  if (s.size() < 2) return std::nullopt;
  std::int64_t n = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size() - 1, n);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() - 1 || n < 0) return std::nullopt;
  std::int64_t unit = 0;
  switch (s.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return std::nullopt;
  }
  if (n > std::int64_t{1} << 32) return std::nullopt;
  return n * unit * kTicksPerSecond;
}

// --- logsource map ---

namespace {

std::vector<LogSource> parse_sources(const YAML::Node& n) {
  std::vector<LogSource> out;
  if (!n.IsSequence()) fail(n, "a logsource maps to a list of sources");
  for (const YAML::Node& s : n) {
    if (!s.IsMap()) fail(s, "a source is a map (channel, event_ids, conditions, fieldmap)");
    LogSource src;
    if (s["channel"]) src.channels.push_back(scalar(s["channel"], "channel"));
    for (const std::string& c : string_list(s, "channels")) src.channels.push_back(c);
    if (const YAML::Node ids = s["event_ids"]; ids) {
      for (const YAML::Node& id : ids) {
        src.event_ids.push_back(static_cast<std::uint32_t>(*count_value(id)));
      }
    }
    if (const YAML::Node cond = s["conditions"]; cond) {
      for (auto it = cond.begin(); it != cond.end(); ++it) {
        src.conditions.emplace_back(scalar(it->first, "field"), scalar(it->second, "value"));
      }
    }
    if (const YAML::Node fm = s["fieldmap"]; fm) {
      for (auto it = fm.begin(); it != fm.end(); ++it) {
        src.fieldmap[scalar(it->first, "field")] = scalar(it->second, "field");
      }
    }
    out.push_back(std::move(src));
  }
  return out;
}

}  // namespace

bool LogsourceMap::add_yaml(std::string_view yaml, std::string& error) {
  YAML::Node root;
  yaml::Problem problem;
  if (!yaml::load_first(yaml, root, problem)) {
    error = "logsource map:" + std::to_string(problem.line) + ":" + std::to_string(problem.column) +
            ": " + problem.message;
    return false;
  }
  try {
    if (!root.IsMap()) {
      error = "logsource map: the document must be a map of products";
      return false;
    }
    for (auto it = root.begin(); it != root.end(); ++it) {
      Product& p = products_[lower(scalar(it->first, "product"))];
      const YAML::Node body = it->second;
      if (!body.IsMap()) fail(body, "a product maps to any/services/categories");
      if (body["any"]) p.any = parse_sources(body["any"]);
      for (const char* kind : {"services", "categories"}) {
        const YAML::Node m = body[kind];
        if (!m) continue;
        if (!m.IsMap()) fail(m, std::string("'") + kind + "' must be a map");
        auto& target = std::string_view(kind) == "services" ? p.services : p.categories;
        for (auto jt = m.begin(); jt != m.end(); ++jt) {
          target[lower(scalar(jt->first, "name"))] = parse_sources(jt->second);
        }
      }
    }
    return true;
  } catch (const CompileError& e) {
    error = "logsource map:" + std::to_string(e.mark.line + 1) + ":" +
            std::to_string(e.mark.column + 1) + ": " + e.message;
  } catch (const YAML::Exception& e) {
    error = std::string("logsource map: ") + e.what();
  }
  return false;
}

bool LogsourceMap::resolve(const std::string& product, const std::string& category,
                           const std::string& service, std::vector<LogSource>& out,
                           std::string& error) const {
  out.clear();
  if (product.empty() && category.empty() && service.empty()) return true;
  const Product* p = nullptr;
  if (!product.empty()) {
    auto it = products_.find(product);
    if (it == products_.end()) {
      error = "unsupported: logsource product '" + product + "' (not in the logsource map)";
      return false;
    }
    p = &it->second;
  }
  auto lookup = [&](const std::map<std::string, std::vector<LogSource>> Product::*table,
                    const std::string& name, const char* what) -> bool {
    if (p) {
      auto it = (p->*table).find(name);
      if (it != (p->*table).end()) {
        out = it->second;
        return true;
      }
    } else {
      for (const auto& [pname, prod] : products_) {
        auto it = (prod.*table).find(name);
        if (it != (prod.*table).end()) {
          out = it->second;
          return true;
        }
      }
    }
    error = std::string("unsupported: logsource ") + what + " '" + name + "'" +
            (product.empty() ? "" : " of product '" + product + "'") +
            " (not in the logsource map)";
    return false;
  };
  if (!category.empty()) return lookup(&Product::categories, category, "category");
  if (!service.empty()) return lookup(&Product::services, service, "service");
  if (p && p->any) out = *p->any;
  return true;
}

const LogsourceMap& LogsourceMap::builtin() {
  static const LogsourceMap* map = [] {
    auto* m = new LogsourceMap();
    std::string error;
    m->add_yaml(sw::embedded::logsources_yaml, error);  // covered by a unit test
    return m;
  }();
  return *map;
}

std::size_t parse_rules(std::string_view text, const std::string& source, const CompileContext& ctx,
                        ParsedRules& out, std::vector<RuleProblem>& problems) {
  std::vector<YAML::Node> docs;
  yaml::Problem problem;
  if (!yaml::load_all(text, docs, problem)) {
    problems.push_back(RuleProblem{source,
                                   problem.line,
                                   problem.column,
                                   {},
                                   (problem.syntax ? "YAML syntax: " : "") + problem.message});
    return 0;
  }
  std::size_t seen = 0;
  for (const YAML::Node& doc : docs) {
    if (!doc || doc.IsNull()) continue;
    ++seen;
    std::string label;
    try {
      if (!doc.IsMap()) fail(doc, "a rule document must be a map");
      label = optional_scalar(doc, "id");
      if (label.empty()) label = optional_scalar(doc, "title");
      if (doc["action"])
        fail(doc["action"], "unsupported: multi-document 'action' (Sigma v1 rule collections)");
      if (doc["filter"] && !doc["detection"])
        fail(doc["filter"], "unsupported: Sigma filter rules");
      if (doc["correlation"]) {
        out.correlations.push_back(compile_correlation(doc, source));
      } else if (doc["detection"]) {
        out.rules.push_back(compile_rule(doc, source, ctx));
      } else {
        fail(doc, "document has neither 'detection' nor 'correlation'");
      }
    } catch (const CompileError& e) {
      problems.push_back(RuleProblem{source, e.mark.line + 1, e.mark.column + 1, label, e.message});
    } catch (const YAML::Exception& e) {
      problems.push_back(
          RuleProblem{source, e.mark.line + 1, e.mark.column + 1, label, "YAML: " + e.msg});
    } catch (const std::exception& e) {
      problems.push_back(RuleProblem{source, doc.Mark().line + 1, doc.Mark().column + 1, label,
                                     std::string("rule rejected: ") + e.what()});
    }
  }
  return seen;
}

}  // namespace sw::rules
