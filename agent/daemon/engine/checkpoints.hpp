// What the engine writes as a full checkpoint.
#pragma once

#include "daemon/state.hpp"
#include "sessionwatch/state_parts.hpp"

namespace sw::daemon {

// The full state to write: the streams of `positions` and every part in `parts`. The parts'
// values (the whole detector state) are moved out of `parts`, not copied, unless `keep_parts`:
// an input reads them after the write (Input::wants_state_written).
AgentState full_state(const AgentState& positions, StateParts& parts, bool keep_parts);

}  // namespace sw::daemon
