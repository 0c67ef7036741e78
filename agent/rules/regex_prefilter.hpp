// A literal prefilter in front of RE2 for the regexes rules require on a field. RE2's FilteredRE2
// extracts from each regex the literals ("atoms") any match must contain; per event and field, one
// RE2::Set pass over the value finds the atoms present, and every regex whose atoms are missing is
// known not to match without running it. With 1,000 rules of `TargetUserName|re`, an event costs
// one pass over TargetUserName instead of 1,000 regex searches and detection walks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <re2/filtered_re2.h>
#include <re2/re2.h>
#include <re2/set.h>

#include "sessionwatch/event.hpp"

namespace sw::rules {

class RegexPrefilter {
 public:
  // Where to ask about one registered regex.
  struct Slot {
    std::uint32_t group = 0;  // one group per field
    std::uint32_t index = 0;  // the regex within its group
  };

  // Registers a regex tested on `field`; nullopt when RE2 cannot take it into a filter (then
  // the caller runs the regex as before). Call compile() after the last add().
  std::optional<Slot> add(FieldId field, const RE2& regex);
  void compile();

  // Starts a new event: the field values of the previous one are forgotten.
  void next_event() { ++epoch_; }
  // False only when the regex cannot match the value of its field in `e` (or the field is
  // absent): the value lacks a literal every match holds. Each field is scanned once per event.
  bool may_match(Slot slot, const Event& e);
  // The regexes of `group` that may match `e`, in increasing order (empty when none may, the
  // field being absent), or null when every one may (the value could not be filtered).
  const std::vector<std::uint32_t>* potentials(std::uint32_t group, const Event& e);
  std::size_t regex_count(std::uint32_t group) const { return groups_[group]->potential.size(); }

 private:
  struct Group {
    FieldId field = 0;
    re2::FilteredRE2 filter;
    std::unique_ptr<RE2::Set> atoms;  // the literals of every regex; null when none has any
    bool filtering = false;           // compiled; false: every regex is a potential match
    std::uint64_t epoch = 0;          // the event `potential` is for
    std::vector<char> potential;      // per regex: may match this event's value
    std::vector<std::uint32_t> potential_ids;  // the same, listed; valid when `all` is false
    bool all = true;                           // every regex may match this event's value
    explicit Group(FieldId f);
  };
  void evaluate(Group& g, const Event& e);
  // Fills matched_atoms_ from lowered_; false when the scan could not run (out of memory).
  bool find_atoms(const Group& g);

  std::vector<std::unique_ptr<Group>> groups_;
  std::unordered_map<FieldId, std::uint32_t> group_of_field_;
  std::uint64_t epoch_ = 1;
  std::string scratch_, lowered_;
  std::vector<int> matched_atoms_, potentials_;
};

}  // namespace sw::rules
