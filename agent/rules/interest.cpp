// Interest analysis: what a compiled condition says about the events it can match (event ids,
// required fields, excluded channels), so sources can filter at the origin without losing any.
#include <algorithm>
#include <charconv>

#include "rules/compile_internal.hpp"
#include "sessionwatch/derived.hpp"

namespace sw::rules::detail {

namespace {

// The number a plain EventID value is; none for anything else.
std::optional<std::uint32_t> event_id_number(std::string_view value) {
  std::uint32_t n = 0;
  const auto r = std::from_chars(value.data(), value.data() + value.size(), n);
  if (r.ec != std::errc() || r.ptr != value.data() + value.size()) return std::nullopt;
  return n;
}

}  // namespace

// Event ids the condition requires (nullopt = any): a selection pinning EventID to plain
// numbers (or, on the derived channel, Kind to kind names), AND narrowing to any constrained
// child, OR needing every child constrained.
std::optional<std::set<std::uint32_t>> required_event_ids(const Detection& d, const Condition& c,
                                                          bool derived_channel) {
  switch (c.op) {
    case Condition::kSelection: {
      static const FieldId kind = intern_field("Kind");
      std::set<std::uint32_t> ids;
      for (const auto& alternative : d.selections[c.selection].alternatives) {
        bool constrained = false;
        for (const FieldTest& t : alternative) {
          // On the tracker's channel each derived kind (the Kind field) has one event id.
          const bool by_kind = derived_channel && t.field == kind;
          if (t.keyword || t.all || (t.field != fields::EventID && !by_kind)) continue;
          std::set<std::uint32_t> here;
          bool plain = true;
          for (const ValueMatcher& v : t.values) {
            auto lit = v.kind == ValueMatcher::kString && !v.negate ? v.pattern.exact_literal()
                                                                    : std::nullopt;
            const auto id = !lit      ? std::nullopt
                            : by_kind ? derived::event_id_of_kind(*lit)
                                      : event_id_number(*lit);
            if (!id) {
              plain = false;
              break;
            }
            here.insert(*id);
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
        if (auto ids = required_event_ids(d, k, derived_channel)) return ids;
      }
      return std::nullopt;
    }
    case Condition::kOr:
    case Condition::kAtLeast: {
      std::set<std::uint32_t> ids;
      for (const Condition& k : c.children) {
        auto sub = required_event_ids(d, k, derived_channel);
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
    names.push_back(text::lowered(*literal));
  }
  out.insert(out.end(), names.begin(), names.end());
}

}  // namespace sw::rules::detail
