// The session state of Kafka partitions, for the handover when a partition changes owner.
// Producers key events by computer, so a partition carries a set of computers and the tracker
// state of those computers (the detector's "session/host/<key>" and "session/sids/<key>" parts)
// belongs to it. At each offset commit the relay writes, for each partition it owns whose
// computers changed, a handover file holding those parts and the offset they are true before;
// the partition's next owner (after a rebalance, or after this relay was killed) reads it before
// consuming, so the console holder of each computer carries over.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "sessionwatch/state_parts.hpp"

namespace sw::daemon {

// What one partition hands over.
struct PartitionHandover {
  std::int64_t offset = 0;  // the state holds every event before this offset
  StatePartMap parts;       // the tracker parts of the partition's computers
};

// Not thread-safe: the Kafka input guards it with its mutex.
class PartitionStates {
 public:
  // An event of `computer` was read from `partition` ("topic/partition").
  void saw(const std::string& partition, std::string_view computer);
  // The partition was assigned with this handed-over state: its computers are ours now.
  void adopt(const std::string& partition, const PartitionHandover& handover);
  // The partition was revoked.
  void forget(const std::string& partition);
  bool owns(const std::string& partition) const { return computers_.count(partition) != 0; }
  void own(const std::string& partition) { computers_[partition]; }

  // The detector parts written with a checkpoint (every part after a full one, the changed ones
  // otherwise; a part without value is gone). Partitions whose computers changed become dirty.
  void written(const StateParts& parts);
  // The partition's parts when its computers changed since the last call, then clean: what to
  // write to its handover file now.
  std::optional<StatePartMap> take_if_dirty(const std::string& partition);
  // The parts of one partition's computers (and the tracker's header part).
  StatePartMap parts_of(const std::string& partition) const;
  std::size_t cached_parts() const { return parts_.size(); }

 private:
  std::map<std::string, std::set<std::string>> computers_;  // partition -> host keys
  std::map<std::string, std::string> parts_;  // part key -> value, for the owned computers
  std::set<std::string> dirty_;               // partitions
};

// "<dir>/<topic>-<partition>.handover": written atomically (a crash leaves the old file or the
// new one).
std::string handover_path(const std::string& dir, const std::string& partition);
bool write_handover(const std::string& dir, const std::string& partition,
                    const PartitionHandover& handover, std::string& error);
// False with `error` empty when the partition has no handover file yet.
bool read_handover(const std::string& dir, const std::string& partition,
                   PartitionHandover& handover, std::string& error);

}  // namespace sw::daemon
