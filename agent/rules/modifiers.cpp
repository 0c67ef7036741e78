// Field values and their modifiers: the string pipeline (wildcards, expand, encodings,
// contains/startswith/endswith), regexes, CIDR, numbers, field references, keywords.
#include <charconv>

#include "rules/compile_internal.hpp"

namespace sw::rules::detail {
namespace {

struct Modifiers {
  bool contains = false, startswith = false, endswith = false, all = false, cased = false;
  bool re = false, re_i = false, re_m = false, re_s = false;
  bool cidr = false, exists = false, fieldref = false, expand = false, neq = false;
  std::optional<ValueMatcher::NumberOp> number;
  ValueMatcher::TimePart time_part = ValueMatcher::kNoTimePart;
  // Transformations, in the order written.
  std::vector<std::string> transforms;  // windash, base64, base64offset, utf16le/be, utf16, wide
};

std::optional<ValueMatcher::TimePart> time_part(const std::string& name) {
  static const std::pair<const char*, ValueMatcher::TimePart> kParts[] = {
      {"minute", ValueMatcher::kMinute}, {"hour", ValueMatcher::kHour},
      {"day", ValueMatcher::kDay},       {"week", ValueMatcher::kWeek},
      {"month", ValueMatcher::kMonth},   {"year", ValueMatcher::kYear}};
  for (const auto& [part_name, part] : kParts) {
    if (name == part_name) return part;
  }
  return std::nullopt;
}

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
    else if (auto part = time_part(name))
      m.time_part = *part;
    else if (name.empty())
      fail(key, "empty modifier (two '|' in a row)");
    else
      fail(key, "unknown modifier '" + name + "'");
  }
  if ((m.re_i || m.re_m || m.re_s) && !m.re) fail(key, "modifiers i, m and s need 're'");
  const bool time = m.time_part != ValueMatcher::kNoTimePart;
  if (time && (m.re || m.cidr || m.exists || m.fieldref || m.expand || !m.transforms.empty() ||
               m.contains || m.startswith || m.endswith)) {
    fail(key,
         "a time modifier (minute, hour, day, week, month, year) takes a number, alone or "
         "with gt/gte/lt/lte/neq");
  }
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
        m.time_part || m.contains || m.startswith || m.endswith)
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
  if (m.number || m.time_part != ValueMatcher::kNoTimePart) {
    double d = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), d);
    if (is_hex_literal(s) && parse_uint(s)) {
      d = static_cast<double>(*parse_uint(s));
    } else if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
      fail(v, "'" + s + "' is not a number");
    }
    vm.kind = ValueMatcher::kNumber;
    vm.number_op = m.number.value_or(ValueMatcher::kEq);
    vm.time_part = m.time_part;
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
  ErrorCollector errors;
  for (auto it = map.begin(); it != map.end(); ++it) {
    errors.attempt([&] { tests.push_back(compile_field(it->first, it->second, ctx)); });
  }
  errors.throw_if_any();
  return tests;
}  // namespace

}  // namespace

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
      ErrorCollector errors;
      for (const YAML::Node& item : node) {
        errors.attempt([&] { s.alternatives.push_back(compile_map(item, ctx)); });
      }
      errors.throw_if_any();
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

}  // namespace sw::rules::detail
