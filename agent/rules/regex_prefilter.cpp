#include "rules/regex_prefilter.hpp"

#include <algorithm>

#include "rules/pattern.hpp"

namespace sw::rules {
namespace {

// Literals shorter than this filter little and match almost every value; RE2 then treats the
// regex as needing nothing.
constexpr int kMinAtomLength = 3;

// The lower-case text FilteredRE2's atoms are compared with. RE2 lowers atoms with Unicode case
// folding (the Kelvin sign becomes 'k'); ASCII folding equals it only on ASCII text, so a value
// with any other byte is not filtered (false).
bool lower_ascii(std::string_view value, std::string& out) {
  out.resize(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (static_cast<unsigned char>(value[i]) >= 0x80) return false;
    out[i] = text::lower(value[i]);
  }
  return true;
}

}  // namespace

RegexPrefilter::Group::Group(FieldId f) : field(f), filter(kMinAtomLength) {}

std::optional<RegexPrefilter::Slot> RegexPrefilter::add(FieldId field, const RE2& regex) {
  auto [it, added] = group_of_field_.try_emplace(field, static_cast<std::uint32_t>(groups_.size()));
  if (added) groups_.push_back(std::make_unique<Group>(field));
  Group& g = *groups_[it->second];
  int id = -1;
  if (g.filter.Add(regex.pattern(), regex.options(), &id) != RE2::NoError) return std::nullopt;
  return Slot{it->second, static_cast<std::uint32_t>(id)};
}

void RegexPrefilter::compile() {
  for (auto& g : groups_) {
    g->potential.assign(static_cast<std::size_t>(g->filter.NumRegexps()), 1);
    if (g->filter.NumRegexps() == 0) continue;  // FilteredRE2 refuses to compile nothing
    std::vector<std::string> atoms;
    g->filter.Compile(&atoms);
    g->filtering = atoms.empty();  // no regex needs a literal: all pass, as AllPotentials says
    if (atoms.empty()) continue;
    RE2::Options options;
    options.set_literal(true);
    options.set_log_errors(false);
    auto set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    bool ok = true;
    for (const std::string& atom : atoms) ok = ok && set->Add(atom, nullptr) >= 0;
    if (!ok || !set->Compile()) continue;  // unfiltered: every regex runs, as before
    g->atoms = std::move(set);
    g->filtering = true;
  }
}

bool RegexPrefilter::may_match(Slot slot, const Event& e) {
  Group& g = *groups_[slot.group];
  if (g.epoch != epoch_) evaluate(g, e);
  return g.potential[slot.index] != 0;
}

const std::vector<std::uint32_t>* RegexPrefilter::potentials(std::uint32_t group, const Event& e) {
  Group& g = *groups_[group];
  if (g.epoch != epoch_) evaluate(g, e);
  return g.all ? nullptr : &g.potential_ids;
}

void RegexPrefilter::evaluate(Group& g, const Event& e) {
  g.epoch = epoch_;
  g.potential_ids.clear();
  g.all = false;
  const std::optional<std::string_view> value = field_value(e, g.field, scratch_);
  if (!value) {  // a positive regex test fails on an absent field
    std::fill(g.potential.begin(), g.potential.end(), 0);
    return;
  }
  if (!g.filtering || !lower_ascii(*value, lowered_) || !find_atoms(g)) {
    std::fill(g.potential.begin(), g.potential.end(), 1);
    g.all = true;
    return;
  }
  g.filter.AllPotentials(matched_atoms_, &potentials_);
  std::fill(g.potential.begin(), g.potential.end(), 0);
  for (int id : potentials_) {
    g.potential[static_cast<std::size_t>(id)] = 1;
    g.potential_ids.push_back(static_cast<std::uint32_t>(id));
  }
  std::sort(g.potential_ids.begin(), g.potential_ids.end());
  g.potential_ids.erase(std::unique(g.potential_ids.begin(), g.potential_ids.end()),
                        g.potential_ids.end());
}

bool RegexPrefilter::find_atoms(const Group& g) {
  matched_atoms_.clear();
  if (!g.atoms) return true;
  RE2::Set::ErrorInfo info{};
  if (g.atoms->Match(lowered_, &matched_atoms_, &info)) return true;
  return info.kind == RE2::Set::kNoError;  // no atom present
}

}  // namespace sw::rules
