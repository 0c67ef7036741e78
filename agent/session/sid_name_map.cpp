#include "session/sid_name_map.hpp"

#include <functional>
#include <utility>

namespace sw::session_detail {

std::uint64_t SidNameMap::hash_of(std::string_view sid) {
  return std::hash<std::string_view>()(sid);
}

const SidNameMap::Slot& SidNameMap::slot_for(std::string_view sid, std::uint64_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  const std::uint32_t tag = tag_of(hash);
  for (std::size_t i = tag & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.entry == 0) return s;
    if (s.tag == tag && entries_[s.entry - 1].sid.get() == sid) return s;
  }
}

SidNameMap::Slot& SidNameMap::slot_for(std::string_view sid, std::uint64_t hash) {
  return const_cast<Slot&>(std::as_const(*this).slot_for(sid, hash));
}

const SidNameMap::Entry* SidNameMap::find(std::string_view sid) const {
  if (entries_.empty()) return nullptr;
  const Slot& s = slot_for(sid, hash_of(sid));
  return s.entry == 0 ? nullptr : &entries_[s.entry - 1];
}

const SidNameMap::Entry* SidNameMap::assign(std::string_view sid, std::string_view domain,
                                            std::string_view user) {
  if ((entries_.size() + 1) * 2 > slots_.size()) grow();
  const std::uint64_t hash = hash_of(sid);
  Slot& s = slot_for(sid, hash);
  if (s.entry == 0) {
    return &add(s, SharedText(std::string(sid)), hash,
                {SharedText(std::string(domain)), SharedText(std::string(user))});
  }
  Entry& e = entries_[s.entry - 1];
  if (e.name.domain.get() == domain && e.name.user.get() == user) return nullptr;
  e.name = {SharedText(std::string(domain)), SharedText(std::string(user))};
  return &e;
}

void SidNameMap::assign(const SharedText& sid, AccountName name) {
  if ((entries_.size() + 1) * 2 > slots_.size()) grow();
  const std::uint64_t hash = hash_of(sid.get());
  Slot& s = slot_for(sid.get(), hash);
  if (s.entry == 0) {
    add(s, sid, hash, std::move(name));
  } else {
    entries_[s.entry - 1].name = std::move(name);
  }
}

SidNameMap::Entry& SidNameMap::add(Slot& empty, const SharedText& sid, std::uint64_t hash,
                                   AccountName name) {
  entries_.push_back({sid, std::move(name)});
  empty = {static_cast<std::uint32_t>(entries_.size()), tag_of(hash)};
  return entries_.back();
}

void SidNameMap::grow() {
  // A slot's tag places it: no SID is read (or hashed) again, which took a cache miss or two each.
  std::vector<Slot> old(slots_.empty() ? 16 : slots_.size() * 2, Slot{});
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.entry == 0) continue;
    std::size_t i = s.tag & mask;
    while (slots_[i].entry != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void SidNameMap::clear() {
  entries_.clear();
  slots_.clear();
}

}  // namespace sw::session_detail
