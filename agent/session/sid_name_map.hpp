// A computer's SID -> account map (the accounts its 4624 events named), laid out flat.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/flyweight.hpp>

namespace sw::session_detail {

// A SID or an account's domain or user name, stored once for the whole tracker: a fleet's
// accounts log on to most of its computers, and every computer's SID map holding copies of
// their texts was the largest part of the relay's heap (16 of 42 MB on 1M events from 200
// computers). Reference counted (Boost.Flyweight), so a text no computer names is freed.
struct SharedTextTag {};
using SharedText =
    boost::flyweights::flyweight<std::string, boost::flyweights::tag<SharedTextTag>,
                                 boost::flyweights::hashed_factory<std::hash<std::string>>>;

struct AccountName {
  SharedText domain, user;
};

// Looked up once per 4624 by the SID text the event carries. A node per SID (std::unordered_map)
// scattered a relay's 56k SID names of 200 computers over the heap, and the lookups' cache
// misses were the largest single cost of its detection thread; here a lookup reads one slot of
// a small open-addressed index and one entry of a dense array. Entries are never removed one
// by one (the tracker clears a map that outgrows its cap), which keeps the probing simple.
class SidNameMap {
 public:
  struct Entry {
    SharedText sid;
    AccountName name;
  };

  const Entry* find(std::string_view sid) const;
  // Names `sid`'s account; returns its entry when that changed the map (a new SID or another
  // name for it), else nullptr.
  const Entry* assign(std::string_view sid, std::string_view domain, std::string_view user);
  // The same, for an entry restored from a snapshot.
  void assign(const SharedText& sid, AccountName name);

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear();
  // In the order the SIDs were first named.
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  // An index slot: the entry's position + 1 (0: empty) and the high half of its SID's hash, so
  // most probes that miss never read an entry. The tag's low bits are the slot's place too:
  // growing the index moves slots without reading a SID.
  struct Slot {
    std::uint32_t entry = 0;
    std::uint32_t tag = 0;
  };
  static std::uint64_t hash_of(std::string_view sid);
  static std::uint32_t tag_of(std::uint64_t hash) { return static_cast<std::uint32_t>(hash >> 32); }
  // The slot holding `sid`, or the empty slot where it belongs.
  Slot& slot_for(std::string_view sid, std::uint64_t hash);
  const Slot& slot_for(std::string_view sid, std::uint64_t hash) const;
  Entry& add(Slot& empty, const SharedText& sid, std::uint64_t hash, AccountName name);
  void grow();

  std::vector<Slot> slots_;  // a power of two, at most half full
  std::vector<Entry> entries_;
};

}  // namespace sw::session_detail
