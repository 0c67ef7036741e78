// The collection_gap alert: says the agent could not account for some events (an input's file
// truncated or replaced, record ids skipped, an output's spool damaged).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sessionwatch/alert.hpp"

namespace sw {

// Events the agent cannot account for: raised as a collection_gap alert.
struct CollectionGap {
  std::string input;  // input name (output name for spool losses)
  std::string path;   // file, or channel (spool segment)
  // truncated | replaced | removed | record_ids_skipped | unreadable, or for alerts an output's
  // spool lost: spool_damaged | spool_segment_missing
  std::string cause;
  // The range that could not be read, in the source's units (bytes, record ids); `to` 0 when the
  // end is unknown.
  std::string unit;  // "bytes" | "records"
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  // Records (or bytes, when records cannot be counted) missed; nullopt when unknown.
  std::optional<std::uint64_t> count;
  std::string stream;  // within the file: "computer channel" whose record ids jumped
};

inline constexpr std::string_view kCollectionGapRuleId = "sessionwatch-collection-gap";

Alert make_gap_alert(const CollectionGap& gap, const std::string& host, Ticks now);

}  // namespace sw
