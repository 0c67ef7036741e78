// The EVTX readers the agent's own parser (NativeEvtxReader) is checked against: libevtx on POSIX,
// the Windows Event Log API (EvtQuery over the file) on Windows. Tests and benches only.
#pragma once

#include <memory>
#include <string>

#include "sessionwatch/decode.hpp"

namespace sw {

// Opens a file; nullptr with `error` set when it is not an EVTX file or cannot be read.
std::unique_ptr<EvtxReader> open_oracle_evtx(const std::string& path, std::string& error);

}  // namespace sw
