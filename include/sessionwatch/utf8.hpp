// UTF-8 hygiene at the edges: decoders pass every value through here, so everything downstream
// (JSON, syslog, CEF) may assume valid UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace sw {

bool is_valid_utf8(std::string_view s);
// Appends `s`, replacing each invalid or overlong sequence (and lone surrogates) with U+FFFD.
void append_sanitized_utf8(std::string_view s, std::string& out);

}  // namespace sw
