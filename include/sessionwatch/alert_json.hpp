// The alert as an ECS JSON document: the one serializer every format and tool uses, and its
// inverse for tools that read alerts back (the demo, tests, benches).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sessionwatch/alert.hpp"

namespace sw {

// Appends the document as one line: keys in byte order at every level, no spaces, invalid
// UTF-8 replaced by U+FFFD (the bytes nlohmann's dump(-1, ' ', false, replace) gives for it).
void write_alert_json(const Alert& alert, std::string& out);

// The document as a tree, for tests and tools that look into it.
nlohmann::json alert_to_json(const Alert& alert);

// A document back into an alert: the typed fields taken out of the tree, the rest left as the
// extras. write_alert_json gives the document back byte for byte.
Alert alert_from_json(nlohmann::json doc);
// The same from one line of JSON; nullopt when it is not a JSON object.
std::optional<Alert> parse_alert_json(std::string_view line);

}  // namespace sw
