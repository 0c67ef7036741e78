// Record-id gaps in forwarded events read from files (Winlogbeat/NXLog JSON lines, Event XML).
//
// Windows numbers each channel's records 1, 2, 3... per computer, so a hole in those ids within
// one file means events were lost before the file was written (a forwarder that dropped them, a
// log that wrapped between two exports). Ids of different computers and channels are independent,
// and a forwarder's filter (Winlogbeat `event_id`, an NXLog query) leaves holes by design, so:
//   - ids are compared only within one file (its identity: the input's stream key), per computer
//     and channel;
//   - a hole is a gap only in a stream that has proven itself complete: at least kProof
//     consecutive ids since it started or since its last hole. A filtered stream rarely shows
//     that many in a row; a complete one always does;
//   - ids going back (the log was cleared, another export was appended) start the stream afresh
//     without a gap; a repeated id (a record sent twice) changes nothing.
// The streams are checkpointed with the file positions (one state part per stream), so a hole
// read again after a crash or a restart is a gap as it would have been without.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sessionwatch/hash.hpp"
#include "sessionwatch/state_parts.hpp"

namespace sw::daemon {

class RecordIdGaps {
 public:
  static constexpr std::uint64_t kProof = 64;
  // Streams kept per tracker; past it every stream starts afresh (no gap is invented).
  static constexpr std::size_t kMaxStreams = 100000;

  // The ids skipped before `record_id` in this stream, if it is a gap.
  struct Skipped {
    std::uint64_t from = 0;
    std::uint64_t to = 0;
  };
  std::optional<Skipped> observe(std::string_view file, std::string_view computer,
                                 std::string_view channel, std::uint64_t record_id);
  // The file was let go: its streams end.
  void forget(std::string_view file);

  // Every stream, or those changed since the last call (nullopt: gone), as parts keyed under
  // `prefix` (one tracker's: "record_ids/<input>/").
  void snapshot_parts(std::string_view prefix, bool changes_only, StateParts& out);
  // The streams under `prefix` of files in `open_files` (the others were let go meanwhile).
  // Throws on a malformed part.
  void restore_parts(std::string_view prefix, const StatePartMap& parts,
                     const std::set<std::string, std::less<>>& open_files);

 private:
  struct Stream {
    std::uint64_t last = 0;
    std::uint64_t run = 0;  // consecutive ids up to `last`
    bool unsaved = false;   // changed since the last snapshot_parts()
  };
  // File identity as its input keys it, computer and channel in one string (the lengths of the
  // first two, then the three), so a lookup hashes once and compares once, and no two streams
  // share a key whatever bytes their names carry.
  struct KeyParts {
    std::string_view file, computer, channel;
  };
  static void make_key(const KeyParts& parts, std::string& key);
  static KeyParts split_key(std::string_view key);
  using Streams = std::unordered_map<std::string, Stream, StringViewHash, std::equal_to<>>;
  Streams streams_;
  // Streams changed since the last snapshot_parts(): pointers, which rehashing keeps valid.
  std::vector<Streams::value_type*> unsaved_;
  std::set<std::string> gone_;  // streams let go since the last snapshot_parts()
  std::string key_;             // the key being looked up, reused
  // The streams observed lately, by a quick hash of their parts, compared before a key is built
  // and looked up: a log's events come from a few computers and channels in turns (a fleet's
  // forwarded events from hundreds), and building and hashing the key was most of an event's
  // cost here. Emptied whenever streams are erased.
  struct Recent {
    std::uint64_t hash = 0;
    Streams::value_type* entry = nullptr;
  };
  static constexpr std::size_t kRecent = 1024;
  std::vector<Recent> recent_ = std::vector<Recent>(kRecent);
  static std::uint64_t hash_of(const KeyParts& parts);
  void forget_recent() { std::fill(recent_.begin(), recent_.end(), Recent{}); }

  static bool same_stream(const KeyParts& a, const KeyParts& b);
  void mark_unsaved(Streams::value_type& entry);
  static std::string part_key(std::string_view prefix, const KeyParts& parts);
};

}  // namespace sw::daemon
