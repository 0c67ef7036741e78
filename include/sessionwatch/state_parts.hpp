// Detector state split into independent parts (one per computer, one per correlation group), so
// that a checkpoint writes only the parts that changed since the previous one: its cost follows
// the events since then, not the size of the whole state.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sw {

struct StatePart {
  std::string key;                   // unique across the detector ("session/...", "rules/...")
  std::optional<std::string> value;  // nullopt: the part is gone (host evicted, group fired)
};
using StateParts = std::vector<StatePart>;
// Every part, as read back from a checkpoint.
using StatePartMap = std::map<std::string, std::string>;

}  // namespace sw
