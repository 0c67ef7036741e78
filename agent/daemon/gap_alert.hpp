// collection_gap: the alert that says the agent could not account for some events.
#pragma once

#include <string>

#include "daemon/work.hpp"
#include "sessionwatch/alert.hpp"

namespace sw::daemon {

inline constexpr std::string_view kCollectionGapRuleId = "sessionwatch-collection-gap";

Alert make_gap_alert(const CollectionGap& gap, const std::string& host, Ticks now);

}  // namespace sw::daemon
