// The tracker's per-computer state, shared by the tracker, its snapshot and its renderings.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "session/sid_name_map.hpp"
#include "sessionwatch/hash.hpp"
#include "sessionwatch/session.hpp"

namespace sw::session_detail {

enum class Kind : std::uint8_t {
  kLogon,
  kLogoff,
  kDisconnect,
  kReconnect,
  kLock,
  kUnlock,
  kTakeover,
  kRefused,
  kIdle
};
std::string_view kind_name(Kind k);
std::uint32_t kind_event_id(Kind k);

// Windows' logon types (Security 4624 LogonType), by their names in the Windows documentation.
enum class LogonType : std::uint8_t {
  kSystem = 0,
  kInteractive = 2,
  kNetwork = 3,
  kBatch = 4,
  kService = 5,
  kUnlock = 7,
  kNetworkCleartext = 8,
  kNewCredentials = 9,
  kRemoteInteractive = 10,
  kCachedInteractive = 11,
  kCachedRemoteInteractive = 12,
  kCachedUnlock = 13
};

// At the machine's own keyboard and screen: the kinds that hold the console.
inline bool is_console_logon(LogonType type) {
  return type == LogonType::kInteractive || type == LogonType::kCachedInteractive;
}
// Through Remote Desktop.
inline bool is_remote_logon(LogonType type) {
  return type == LogonType::kRemoteInteractive || type == LogonType::kCachedRemoteInteractive;
}
// The kinds a person sits in front of: the only ones the tracker keeps.
inline bool is_interactive(LogonType type) {
  return is_console_logon(type) || is_remote_logon(type);
}

// A Security logon (interactive kinds only) not necessarily tied to a TS session yet.
struct Logon {
  std::string user, domain, sid, ip;
  LogonType type = LogonType::kSystem;
  Ticks time = 0;
  Ticks last_seen = 0;
  std::optional<std::uint32_t> session_id;
  bool announced = false;  // a session_logon was emitted for it
};

// The Security event log writes record ids in increasing order per channel, so a new id is above
// the highest seen; only ids at or below it are looked up among the recent ones.
struct RecentIds {
  std::uint64_t max_id = 0;
  std::vector<std::uint64_t> ring;
  std::size_t next = 0;
  static constexpr std::size_t kRing = 128;
  // True when `id` was seen before; records it otherwise.
  bool seen(std::uint64_t id);
};

// A remote connection hint (RCM 1149, Security 4624 type 10) kept briefly for arbitrations.
struct RemoteHint {
  Ticks time = 0;
  std::string user, domain, address;
  std::uint64_t logon_id = 0;
  EvidenceRef evidence;
};

struct Arbitration {
  std::string activity;
  std::string user, domain;  // the newcomer, from TS-LSM 41
  std::uint32_t new_session = 0;
  Ticks start = 0, end = 0, last = 0;
  bool connected = false;  // the newcomer got a session (21/25, or 4778 from afar)
  std::optional<std::uint32_t> final_session;
  std::string address;
  bool console_disrupted = false;
  ConsoleInfo console_before;
  // Another user's (non-console) session when the arbitration began, for 7062.
  std::optional<SessionRecord> other_session;
  std::vector<std::uint64_t> logon_ids;  // the newcomer's type-10 logons
  std::vector<EvidenceRef> evidence;
  Ticks connect_time = 0;
};

struct Attempt {
  Ticks time = 0;
  std::string who;  // folded "domain\user", empty when unknown
};

struct Host {
  // The machine's own DNS name once an event spelled it so, else the name as first seen: one
  // name per machine in alerts and derived events (see learn_host_name).
  std::string name;
  std::string short_name;  // the NetBIOS spelling (WS-FIN-07) when an event used it
  // The spellings events used for it that are keys of the tracker's alias table (one or two),
  // so evicting it removes them without scanning the table.
  std::vector<std::string> spellings;
  // Two sessions were connected at once: a multi-session server (several interactive sessions
  // are normal there), not a client edition that arbitrates the console.
  bool multi_session = false;
  std::optional<Ticks> overlap_since;  // two sessions connected since then, not yet confirmed
  std::unordered_map<std::uint32_t, SessionRecord> sessions;
  std::unordered_map<std::uint64_t, Logon> logons;
  // The accounts 4624 events named, by SID.
  SidNameMap sid_names;
  // The SIDs named or renamed since the settled
  // part (saved_sid_names_text) was encoded. A checkpoint saves them as a small part of their
  // own, so its cost is the names added, not the map; they are merged into the settled part once
  // they outgrow a fraction of it (see snapshot.cpp).
  std::vector<SharedText> new_sid_names;
  std::size_t settled_sid_names = 0;  // entries in saved_sid_names_text
  // The same for `logons`: the ids added, changed or removed since the settled logons part was
  // encoded (kept only while there is one: note_logon_change), and whether any since the last
  // checkpoint.
  std::vector<std::uint64_t> changed_logons;
  std::size_t settled_logons = 0;
  bool logons_unsaved = true;
  std::vector<std::pair<std::string, RecentIds>> seen_ids;  // per channel
  std::vector<Arbitration> arbitrations;
  std::deque<RemoteHint> hints;
  std::deque<Attempt> attempts;
  std::optional<RefusedAttempt> last_refusal;
  std::deque<TimelineEntry> timeline;
  std::deque<std::pair<std::uint32_t, Ticks>> recent_ends;  // (session id, when) just ended
  bool console_free_known = false;
  Ticks console_free_since = 0;
  Ticks last_seen = 0;      // newest event pushed (host eviction)
  Ticks last_released = 0;  // newest event released (correlation clock)
  Ticks last_reboot = 0;
  bool rebooted = false;
  Ticks last_sweep = 0;
  // Changed since the last checkpoint took its state (SessionTracker::snapshot_parts): set by
  // every event on this host, so a checkpoint writes only the computers that saw events.
  bool unsaved = true;
  // sid_names changed since then: saved as parts of their own, since it is large and settles.
  bool sid_names_unsaved = true;
  // The parts' texts as the last checkpoint encoded them, handed as they are to the next one
  // while the flags above stay clear: a checkpoint encodes only the computers that changed.
  // saved_sid_names_text is null when the settled part must be encoded afresh (the map was
  // cleared); saved_new_sid_names_text is null when the store holds no part of new names.
  std::shared_ptr<const std::string> saved_text, saved_sid_names_text, saved_new_sid_names_text;
  std::shared_ptr<const std::string> saved_logons_text, saved_new_logons_text;  // the same
  Ticks since_text_for = 0;  // format_time(since_text_for) == since_text: rendered once
  std::string since_text;
  // Indexes over `logons`, kept only by the logon helpers below, so that no per-event path
  // walks every logon of a busy host: (time, logon id) for token twins, linking and ageing;
  // session -> logon ids for ending a session; the console kinds for the console.
  std::multimap<Ticks, std::uint64_t> logons_by_time;
  std::unordered_multimap<std::uint32_t, std::uint64_t> logons_by_session;
  std::vector<std::uint64_t> local_logons;
  Ticks last_logon_ageing = 0;
  // compute_console(*this) while console_valid; whatever can change it clears the flag.
  bool console_valid = false;
  ConsoleInfo console_cache;
};

// A remote logon whose session never showed up is kept at most this many per host (the oldest
// go first), besides ageing out after the longest correlation window.
inline constexpr std::size_t kMaxLogonsPerHost = 256;

// Every change to host.logons[id] (its fields, its adding or removal) goes through here, so that
// a checkpoint saves only the logons that changed.
// One event notes the same logon several times (re-indexed, given a session, announced): listed
// once, so that the count deciding when to fold the part is the logons that changed.
inline void note_logon_change(Host& host, std::uint64_t id) {
  host.logons_unsaved = true;
  if (!host.saved_logons_text) return;
  if (host.changed_logons.empty() || host.changed_logons.back() != id)
    host.changed_logons.push_back(id);
}
// After the fields of host.logons[id] were set (time, type, session_id).
void index_logon(Host& host, std::uint64_t id, const Logon& l);
// Before the time, type or session of host.logons[id] changes, or it goes.
void unindex_logon(Host& host, std::uint64_t id, const Logon& l);
void set_logon_session(Host& host, std::uint64_t id, Logon& l,
                       std::optional<std::uint32_t> session_id);
std::unordered_map<std::uint64_t, Logon>::iterator erase_logon(
    Host& host, std::unordered_map<std::uint64_t, Logon>::iterator it);
void erase_logon(Host& host, std::uint64_t id);
void clear_logons(Host& host);
void reindex_logons(Host& host);
const ConsoleInfo& cached_console(Host& host);

// The console as the session holding it shows it.
ConsoleInfo console_of(const SessionRecord& s);
ConsoleInfo compute_console(const Host& host);
std::string fold_account(std::string_view domain, std::string_view user);

}  // namespace sw::session_detail
