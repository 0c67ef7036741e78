// The tracker's derived events (Channel "sessionwatch", docs/sessions.md): each kind's name, which
// its Kind field holds, and its event id. The tracker builds them; the rules learn from a rule's
// Kind which of them it reads, so the tracker builds only those some rule can match.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sessionwatch/text.hpp"

namespace sw::derived {

inline constexpr std::uint32_t kSessionLogon = 1;
inline constexpr std::uint32_t kSessionLogoff = 2;
inline constexpr std::uint32_t kSessionDisconnect = 3;
inline constexpr std::uint32_t kSessionReconnect = 4;
inline constexpr std::uint32_t kSessionLock = 5;
inline constexpr std::uint32_t kSessionUnlock = 6;
inline constexpr std::uint32_t kConsoleTakeover = 10;
inline constexpr std::uint32_t kArbitrationRefused = 11;
inline constexpr std::uint32_t kConsoleIdle = 12;
inline constexpr std::string_view kChannel = "sessionwatch";

struct KindId {
  std::string_view name;
  std::uint32_t event_id;
};
// In the order of the tracker's own kinds (session_detail::Kind).
inline constexpr std::array<KindId, 9> kKinds = {{
    {"session_logon", kSessionLogon},
    {"session_logoff", kSessionLogoff},
    {"session_disconnect", kSessionDisconnect},
    {"session_reconnect", kSessionReconnect},
    {"session_lock", kSessionLock},
    {"session_unlock", kSessionUnlock},
    {"console_takeover", kConsoleTakeover},
    {"arbitration_refused", kArbitrationRefused},
    {"console_idle", kConsoleIdle},
}};

// The event id of the kind named `name` in any case (a Sigma value matches so); none when no
// kind has that name.
constexpr std::optional<std::uint32_t> event_id_of_kind(std::string_view name) {
  for (const KindId& k : kKinds) {
    if (text::iequals(name, k.name)) return k.event_id;
  }
  return std::nullopt;
}

}  // namespace sw::derived
