#pragma once

#include "daemon/input.hpp"

namespace sw::daemon {
// Queues a job per EVTX file that appears or grows; the detection thread reads it from its
// checkpoint on (see Engine).
std::unique_ptr<Input> make_evtx_input(const InputConfig& config, std::size_t index);
}  // namespace sw::daemon
