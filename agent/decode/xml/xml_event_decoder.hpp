// Internal entry points of the Event XML decoder, shared by the stream splitter and the EVTX
// reader.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "sessionwatch/event.hpp"

namespace sw::xml_detail {

inline constexpr std::string_view kEventNamespace =
    "http://schemas.microsoft.com/win/2004/08/events/event";

// Decodes one <Event> element into `out` (cleared first). `buffer` is reused as the mutable copy
// pugixml parses in place. On failure sets `error` to a message without location and
// `error_offset` to the byte offset inside `xml` where the problem was found.
bool decode_event(std::string_view xml, std::string& buffer, Event& out, std::string& error,
                  std::size_t& error_offset);

}  // namespace sw::xml_detail
