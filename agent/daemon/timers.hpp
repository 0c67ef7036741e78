// The daemon's internal waits (how long a rotated file stays open, how long a copied EVTX file
// must stay unchanged before it is read, how often lingering inputs are looked at again) are
// seconds in production. Tests that run the real binary shrink them all at once with the
// environment variable SESSIONWATCH_TIMER_SCALE (a factor, e.g. 0.01), not with real minutes.
#pragma once

#include <chrono>

namespace sw::daemon {

std::chrono::milliseconds scaled_timer(std::chrono::milliseconds production);

}  // namespace sw::daemon
