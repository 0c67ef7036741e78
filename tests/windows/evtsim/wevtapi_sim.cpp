// evtsim: a replacement wevtapi.dll that wine loads (WINEDLLOVERRIDES="wevtapi=n", the DLL beside
// the executable) in place of its stub, serving a simulated Windows Event Log from plain files, so
// the agent's real Event Log code runs under test. Built for tests only; never shipped.
//
// The log: EVTSIM_DIR (a Windows path) holds one file per channel, `<channel>.xml` with `/`
// written as `%4` (as Windows names its .evtx files), one Event XML per line. Line k is the
// record with id first_record_id + k - 1. Lines appended while a subscription is open are new
// events (its signal event is set); a file rewritten shorter is a cleared log (record ids start
// again and every older bookmark or subscription position is stale); a file with mode 000 is
// access denied. `<channel>.behave` (`key=value` lines, read when a channel is opened) tunes what
// Windows does under stress:
//   rpc_batch_bytes=N            an EvtNext reply larger than N bytes (UTF-16 XML) fails with
//                                RPC_S_INVALID_BOUND and its events are skipped (default ~2 MB)
//   idle_error=N                 what EvtNext on a drained subscription fails with (default
//                                4317, ERROR_INVALID_OPERATION; 259 is the documented one)
//   invalid_parameter_at=ID      the first EvtNext whose batch holds record ID fails with
//                                ERROR_INVALID_PARAMETER, its events skipped (load, auto backup)
//   first_record_id=N            record id of the first line (default 1)
//   max_records=N                only the newest N records exist (older ones were overwritten)
//   auto_backup=1                a full log is archived (Archive-<channel>-*.evtx), not wrapped
// Publisher messages: `<publisher>.messages`, lines `LCID EVENTID TEXT` (%1.. are the event's
// Data values in order); the first LCID is the server's language (locale 0).
// Counters for tests: `.evtsim-stats` in EVTSIM_DIR, and the export evtsim_stats().
#include <windows.h>
#include <winevt.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cwctype>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "unix_file.hpp"
#include "xpath_filter.hpp"

namespace {

using evtsim::Filter;

constexpr DWORD kDefaultRpcBatchBytes = 2 * 1024 * 1024;

// ---- text ---------------------------------------------------------------------------------

std::wstring widen(const std::string& s) {
  if (s.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring w(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
  return w;
}

std::string narrow(const std::wstring& w) {
  if (w.empty()) return {};
  const int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), nullptr, 0,
                                    nullptr, nullptr);
  std::string s(static_cast<std::size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), s.data(), n, nullptr,
                      nullptr);
  return s;
}

std::wstring lower(std::wstring s) {
  for (wchar_t& c : s) c = static_cast<wchar_t>(std::towlower(c));
  return s;
}

// The text of the first <tag ...>text</tag> in xml; empty when absent.
std::string element_text(const std::string& xml, const char* tag) {
  const std::string open = std::string("<") + tag;
  std::size_t at = 0;
  while ((at = xml.find(open, at)) != std::string::npos) {
    const char next = xml[at + open.size()];
    if (next == '>' || next == ' ') break;
    at += open.size();
  }
  if (at == std::string::npos) return {};
  const std::size_t gt = xml.find('>', at);
  if (gt == std::string::npos || xml[gt - 1] == '/') return {};
  const std::size_t end = xml.find("</", gt);
  return end == std::string::npos ? std::string() : xml.substr(gt + 1, end - gt - 1);
}

std::uint64_t to_u64(const std::string& s) {
  return s.empty() ? 0 : std::strtoull(s.c_str(), nullptr, 0);
}

// ---- errors -------------------------------------------------------------------------------

thread_local std::wstring t_extended_status;

template <typename T>
T fail(DWORD code, T result) {
  SetLastError(code);
  return result;
}

// ---- configuration ------------------------------------------------------------------------

std::wstring env(const wchar_t* name) {
  wchar_t buffer[4096];
  const DWORD n = GetEnvironmentVariableW(name, buffer, 4096);
  return n == 0 || n >= 4096 ? std::wstring() : std::wstring(buffer, n);
}

std::wstring sim_dir() {
  std::wstring dir = env(L"EVTSIM_DIR");
  if (!dir.empty() && dir.back() != L'\\' && dir.back() != L'/') dir += L'\\';
  return dir;
}

// Windows names a channel's file after the channel, with '/' as "%4".
std::wstring channel_file_stem(const std::wstring& channel) {
  std::wstring stem;
  for (wchar_t c : channel) {
    if (c == L'/')
      stem += L"%4";
    else
      stem += c;
  }
  return stem;
}

bool read_whole_file(const std::wstring& path, std::string& out) {
  HANDLE f = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                         OPEN_EXISTING, 0, nullptr);
  if (f == INVALID_HANDLE_VALUE) return false;
  out.clear();
  char chunk[65536];
  DWORD got = 0;
  while (ReadFile(f, chunk, sizeof chunk, &got, nullptr) && got > 0) out.append(chunk, got);
  CloseHandle(f);
  return true;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

struct Behave {
  DWORD rpc_batch_bytes = kDefaultRpcBatchBytes;
  DWORD idle_error = ERROR_INVALID_OPERATION;
  std::uint64_t invalid_parameter_at = 0;
  std::uint64_t first_record_id = 1;
  std::uint64_t max_records = 0;
  bool auto_backup = false;
};

Behave read_behave(const std::wstring& path) {
  Behave b;
  std::string text;
  if (!read_whole_file(path, text)) return b;
  for (const std::string& line : lines_of(text)) {
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::uint64_t value = to_u64(line.substr(eq + 1));
    if (key == "rpc_batch_bytes") b.rpc_batch_bytes = static_cast<DWORD>(value);
    if (key == "idle_error") b.idle_error = static_cast<DWORD>(value);
    if (key == "invalid_parameter_at") b.invalid_parameter_at = value;
    if (key == "first_record_id" && value > 0) b.first_record_id = value;
    if (key == "max_records") b.max_records = value;
    if (key == "auto_backup") b.auto_backup = value != 0;
  }
  return b;
}

bool unix_mode_unreadable(const std::wstring& path) {
  const auto mode = evtsim::unix_mode(path);
  return mode && (*mode & 0444) == 0;
}

// ---- the log --------------------------------------------------------------------------------

struct Record {
  std::uint64_t offset = 0;  // of the line in the file
  std::uint32_t length = 0;  // without the line end
  std::uint32_t event_id = 0;
  std::uint32_t level = 0;
};

// One channel: the records of its file, re-read as it grows.
struct Log {
  std::wstring name;  // as the caller spelled it the first time
  std::wstring path;
  Behave behave;
  std::vector<Record> records;
  std::uint64_t bytes_read = 0;
  std::uint64_t generation = 0;  // bumped when the log is cleared
  std::set<std::uint64_t> invalid_parameter_done;

  std::uint64_t first_id() const { return behave.first_record_id; }
  std::uint64_t end_id() const { return first_id() + records.size(); }  // one past the newest
  std::uint64_t oldest_id() const {
    if (behave.max_records == 0 || records.size() <= behave.max_records) return first_id();
    return end_id() - behave.max_records;
  }
  const Record& at(std::uint64_t id) const { return records[id - first_id()]; }

  // Reads what was appended; a shorter file is a cleared log.
  void refresh() {
    HANDLE f = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                           OPEN_EXISTING, 0, nullptr);
    if (f == INVALID_HANDLE_VALUE) return;
    LARGE_INTEGER size{};
    GetFileSizeEx(f, &size);
    const auto file_size = static_cast<std::uint64_t>(size.QuadPart);
    if (file_size < bytes_read) {
      records.clear();
      bytes_read = 0;
      ++generation;
    }
    if (file_size > bytes_read) append(f, file_size);
    CloseHandle(f);
  }

  void append(HANDLE f, std::uint64_t file_size) {
    LARGE_INTEGER at{};
    at.QuadPart = static_cast<LONGLONG>(bytes_read);
    SetFilePointerEx(f, at, nullptr, FILE_BEGIN);
    std::string text(file_size - bytes_read, '\0');
    DWORD got = 0;
    if (!ReadFile(f, text.data(), static_cast<DWORD>(text.size()), &got, nullptr)) return;
    text.resize(got);
    std::size_t start = 0;
    // Complete lines only: a line still being written is read once its newline is there.
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::size_t end = nl;
      if (end > start && text[end - 1] == '\r') --end;
      if (end == start) continue;
      const std::string line = text.substr(start, end - start);
      Record r;
      r.offset = bytes_read + start;
      r.length = static_cast<std::uint32_t>(end - start);
      r.event_id = static_cast<std::uint32_t>(to_u64(element_text(line, "EventID")));
      r.level = static_cast<std::uint32_t>(to_u64(element_text(line, "Level")));
      records.push_back(r);
    }
    bytes_read += start;
  }

  std::string read(std::uint64_t first, std::uint64_t end) const {
    const Record& a = at(first);
    const Record& b = at(end - 1);
    std::string text(b.offset + b.length - a.offset, '\0');
    HANDLE f = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                           OPEN_EXISTING, 0, nullptr);
    if (f == INVALID_HANDLE_VALUE) return {};
    LARGE_INTEGER pos{};
    pos.QuadPart = static_cast<LONGLONG>(a.offset);
    SetFilePointerEx(f, pos, nullptr, FILE_BEGIN);
    DWORD got = 0;
    ReadFile(f, text.data(), static_cast<DWORD>(text.size()), &got, nullptr);
    CloseHandle(f);
    text.resize(got);
    return text;
  }
};

// ---- handles ----------------------------------------------------------------------------

enum class Kind { kSubscription, kQuery, kEvent, kBookmark, kPublisher, kChannelConfig };

struct Object {
  explicit Object(Kind k) : kind(k) {}
  virtual ~Object() = default;
  Kind kind;
};

struct EventObject : Object {
  EventObject() : Object(Kind::kEvent) {}
  std::shared_ptr<Log> log;
  std::uint64_t record_id = 0;
  std::string xml;  // as in the file
};

struct Position {
  std::wstring channel;
  std::uint64_t record_id = 0;
};

struct BookmarkObject : Object {
  BookmarkObject() : Object(Kind::kBookmark) {}
  std::vector<Position> positions;
};

struct Reader : Object {
  explicit Reader(Kind k) : Object(k) {}
  std::shared_ptr<Log> log;
  Filter filter;
  std::uint64_t next_id = 0;  // subscription: next record to look at
  std::uint64_t generation = 0;
  HANDLE signal = nullptr;
  std::uint64_t signalled_up_to = 0;
  std::uint64_t no_match_before = 0;   // records before it were looked at and do not match
  bool reverse = false;                // query
  std::vector<std::uint64_t> results;  // query: record ids, in delivery order
  std::size_t result_pos = 0;
};

struct PublisherObject : Object {
  PublisherObject() : Object(Kind::kPublisher) {}
  std::map<std::uint32_t, std::string> messages;  // event id -> template, for the chosen locale
  bool locale_found = true;
};

struct ChannelConfigObject : Object {
  ChannelConfigObject() : Object(Kind::kChannelConfig) {}
  std::wstring name;
  bool auto_backup = false;
};

struct Stats {
  std::atomic<std::uint64_t> format_message_calls{0};
  std::atomic<std::uint64_t> publisher_opens{0};
  std::atomic<std::uint64_t> next_calls{0};
  std::atomic<std::uint64_t> events_delivered{0};
  std::atomic<std::uint64_t> subscriptions{0};
  std::atomic<std::uint64_t> records_passed{0};  // by subscriptions, delivered or filtered out
  // As of the last look at the files: records in all logs, and subscriptions with matching
  // records not read yet (tests wait for 0 before writing the next event).
  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> unread_subscriptions{0};
};

std::mutex g_mutex;  // guards everything below
std::set<Object*> g_objects;
std::map<std::wstring, std::shared_ptr<Log>> g_logs;  // lower-case channel (or file) -> log
std::set<Reader*> g_subscriptions;
bool g_poller_started = false;
Stats g_stats;

template <typename T>
T* find(EVT_HANDLE h, Kind kind) {
  auto* object = static_cast<Object*>(h);
  if (g_objects.count(object) == 0 || object->kind != kind) return nullptr;
  return static_cast<T*>(object);
}

EVT_HANDLE keep(Object* object) {
  g_objects.insert(object);
  return object;
}

// Opens a channel by name; sets the Windows error when it does not exist or may not be read.
std::shared_ptr<Log> open_channel(const std::wstring& channel, bool is_file, DWORD& error) {
  const std::wstring path = is_file ? channel : sim_dir() + channel_file_stem(channel) + L".xml";
  if (GetFileAttributesW(path.c_str()) == INVALID_FILE_ATTRIBUTES) {
    error = is_file ? ERROR_FILE_NOT_FOUND : ERROR_EVT_CHANNEL_NOT_FOUND;
    return nullptr;
  }
  if (unix_mode_unreadable(path)) {
    error = ERROR_ACCESS_DENIED;
    return nullptr;
  }
  HANDLE f = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                         OPEN_EXISTING, 0, nullptr);
  if (f == INVALID_HANDLE_VALUE) {
    error =
        GetLastError() == ERROR_ACCESS_DENIED ? ERROR_ACCESS_DENIED : ERROR_EVT_CHANNEL_NOT_FOUND;
    return nullptr;
  }
  CloseHandle(f);
  std::shared_ptr<Log>& log = g_logs[lower(path)];
  if (!log) {
    log = std::make_shared<Log>();
    log->name = channel;
    log->path = path;
  }
  if (!is_file) log->behave = read_behave(sim_dir() + channel_file_stem(channel) + L".behave");
  log->refresh();
  return log;
}

bool set_filter(Reader& reader, LPCWSTR query) {
  std::string error;
  if (!reader.filter.parse(query == nullptr ? "*" : narrow(query), error)) {
    t_extended_status = widen(error);
    return false;
  }
  return true;
}

bool has_match(const Reader& r, std::uint64_t from) {
  for (std::uint64_t id = std::max(from, r.log->oldest_id()); id < r.log->end_id(); ++id) {
    const Record& rec = r.log->at(id);
    if (r.filter.matches(rec.event_id, rec.level)) return true;
  }
  return false;
}

// ---- the "Event Log service": sets the signal of subscriptions whose channel grew -----------

std::string stats_text() {
  char text[512];
  std::snprintf(text, sizeof text,
                "format_message_calls=%llu\npublisher_opens=%llu\nnext_calls=%llu\n"
                "events_delivered=%llu\nsubscriptions=%llu\nrecords_passed=%llu\nrecords=%llu\n"
                "unread_subscriptions=%llu\n",
                static_cast<unsigned long long>(g_stats.format_message_calls.load()),
                static_cast<unsigned long long>(g_stats.publisher_opens.load()),
                static_cast<unsigned long long>(g_stats.next_calls.load()),
                static_cast<unsigned long long>(g_stats.events_delivered.load()),
                static_cast<unsigned long long>(g_stats.subscriptions.load()),
                static_cast<unsigned long long>(g_stats.records_passed.load()),
                static_cast<unsigned long long>(g_stats.records.load()),
                static_cast<unsigned long long>(g_stats.unread_subscriptions.load()));
  return text;
}

void write_stats(const std::string& text) {
  const std::wstring dir = sim_dir();
  if (dir.empty()) return;
  const std::wstring path = dir + L".evtsim-stats";
  HANDLE f =
      CreateFileW(path.c_str(), GENERIC_WRITE, FILE_SHARE_READ, nullptr, CREATE_ALWAYS, 0, nullptr);
  if (f == INVALID_HANDLE_VALUE) return;
  DWORD written = 0;
  WriteFile(f, text.data(), static_cast<DWORD>(text.size()), &written, nullptr);
  CloseHandle(f);
}

void poll_once() {
  std::lock_guard lock(g_mutex);
  std::set<Log*> refreshed;
  std::uint64_t unread = 0;
  for (Reader* sub : g_subscriptions) {
    if (refreshed.insert(sub->log.get()).second) sub->log->refresh();
    const bool cleared = sub->log->generation != sub->generation;
    if (cleared || (sub->log->end_id() > sub->signalled_up_to &&
                    has_match(*sub, std::max(sub->signalled_up_to, sub->next_id)))) {
      SetEvent(sub->signal);
    }
    sub->signalled_up_to = sub->log->end_id();
    // Records known not to match are not looked at again on every tick.
    const std::uint64_t from = std::max(sub->next_id, sub->no_match_before);
    if (cleared || has_match(*sub, from)) {
      ++unread;
    } else {
      sub->no_match_before = sub->log->end_id();
    }
  }
  std::uint64_t records = 0;
  for (const auto& [name, log] : g_logs) records += log->records.size();
  g_stats.records = records;
  g_stats.unread_subscriptions = unread;
}

void start_poller() {
  if (g_poller_started) return;
  g_poller_started = true;
  std::wstring ms = env(L"EVTSIM_POLL_MS");
  const DWORD interval =
      ms.empty() ? 20 : static_cast<DWORD>(std::wcstoul(ms.c_str(), nullptr, 10));
  std::thread([interval] {
    std::string written;
    for (;;) {
      Sleep(interval);
      poll_once();
      std::string text = stats_text();
      if (text != written) {
        write_stats(text);
        written = std::move(text);
      }
    }
  }).detach();
}

// ---- EvtNext ----------------------------------------------------------------------------

// What Windows does with a subscription's next batch: the records from next_id that pass the
// query, up to `count`, and the quirks that make EvtNext fail.
BOOL next_from_subscription(Reader& sub, DWORD count, EVT_HANDLE* events, DWORD* returned) {
  Log& log = *sub.log;
  log.refresh();
  if (sub.generation != log.generation || sub.next_id < log.oldest_id()) {
    return fail(ERROR_EVT_QUERY_RESULT_STALE, FALSE);  // cleared or overwritten under us
  }
  std::vector<std::uint64_t> batch;
  std::uint64_t id = sub.next_id;
  std::uint64_t bytes = 0;
  bool invalid_parameter = false;
  for (; id < log.end_id() && batch.size() < count; ++id) {
    const Record& r = log.at(id);
    if (!sub.filter.matches(r.event_id, r.level)) continue;
    batch.push_back(id);
    bytes += 2ull * r.length + 64;  // UTF-16, with the record id rewritten
    if (id == log.behave.invalid_parameter_at && log.invalid_parameter_done.insert(id).second) {
      invalid_parameter = true;
    }
  }
  g_stats.records_passed += id - sub.next_id;
  sub.next_id = id;  // a failed reply still consumed its records (elastic/beats#3076)
  if (batch.empty()) return fail(log.behave.idle_error, FALSE);
  if (invalid_parameter) return fail(ERROR_INVALID_PARAMETER, FALSE);
  if (batch.size() > 1 && bytes > log.behave.rpc_batch_bytes)
    return fail(RPC_S_INVALID_BOUND, FALSE);
  const std::string text = log.read(batch.front(), batch.back() + 1);
  const std::uint64_t base = log.at(batch.front()).offset;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Record& r = log.at(batch[i]);
    auto* e = new EventObject;
    e->log = sub.log;
    e->record_id = batch[i];
    if (r.offset - base + r.length <= text.size()) e->xml = text.substr(r.offset - base, r.length);
    events[i] = keep(e);
  }
  *returned = static_cast<DWORD>(batch.size());
  g_stats.events_delivered += batch.size();
  return TRUE;
}

BOOL next_from_query(Reader& q, DWORD count, EVT_HANDLE* events, DWORD* returned) {
  DWORD n = 0;
  while (n < count && q.result_pos < q.results.size()) {
    const std::uint64_t id = q.results[q.result_pos++];
    auto* e = new EventObject;
    e->log = q.log;
    e->record_id = id;
    e->xml = q.log->read(id, id + 1);
    events[n++] = keep(e);
  }
  if (n == 0) return fail(ERROR_NO_MORE_ITEMS, FALSE);
  *returned = n;
  return TRUE;
}

// ---- rendering --------------------------------------------------------------------------

// The event as Windows renders it: the record id is the log's, except for events collected from
// other computers (ForwardedEvents), which keep their source's Channel, Computer and record id.
std::wstring render_event(const EventObject& e) {
  const std::wstring channel = widen(element_text(e.xml, "Channel"));
  if (lower(channel) != lower(e.log->name)) return widen(e.xml);
  std::string xml = e.xml;
  const std::size_t open = xml.find("<EventRecordID>");
  const std::size_t close = xml.find("</EventRecordID>");
  if (open != std::string::npos && close != std::string::npos && close > open) {
    const std::size_t from = open + std::strlen("<EventRecordID>");
    xml.replace(from, close - from, std::to_string(e.record_id));
  }
  return widen(xml);
}

std::wstring render_bookmark(const BookmarkObject& b) {
  std::wstring xml = L"<BookmarkList>\r\n";
  for (std::size_t i = 0; i < b.positions.size(); ++i) {
    xml += L"  <Bookmark Channel='" + b.positions[i].channel + L"' RecordId='" +
           std::to_wstring(b.positions[i].record_id) + L"'" +
           (i + 1 == b.positions.size() ? L" IsCurrent='true'" : L"") + L"/>\r\n";
  }
  return xml + L"</BookmarkList>";
}

// The value of attribute `name` in an element's text, quoted with ' or ".
bool attribute(const std::wstring& element, const std::wstring& name, std::wstring& value) {
  const std::size_t at = element.find(name + L"=");
  if (at == std::wstring::npos) return false;
  const std::size_t q = at + name.size() + 1;
  if (q >= element.size() || (element[q] != L'\'' && element[q] != L'"')) return false;
  const std::size_t end = element.find(element[q], q + 1);
  if (end == std::wstring::npos) return false;
  value = element.substr(q + 1, end - q - 1);
  return true;
}

bool parse_bookmark(const std::wstring& xml, BookmarkObject& b) {
  if (xml.find(L"<BookmarkList") == std::wstring::npos) return false;
  for (std::size_t at = 0; (at = xml.find(L"<Bookmark ", at)) != std::wstring::npos;) {
    const std::size_t end = xml.find(L'>', at);
    if (end == std::wstring::npos) return false;
    const std::wstring element = xml.substr(at, end - at);
    Position p;
    std::wstring id;
    if (!attribute(element, L"Channel", p.channel) || !attribute(element, L"RecordId", id)) {
      return false;
    }
    p.record_id = std::wcstoull(id.c_str(), nullptr, 10);
    b.positions.push_back(p);
    at = end;
  }
  return true;
}

BOOL copy_out(const std::wstring& text, DWORD buffer_bytes, void* buffer, DWORD* used) {
  const DWORD needed = static_cast<DWORD>((text.size() + 1) * sizeof(wchar_t));
  if (used != nullptr) *used = needed;
  if (buffer == nullptr || buffer_bytes < needed) return fail(ERROR_INSUFFICIENT_BUFFER, FALSE);
  std::memcpy(buffer, text.c_str(), needed);
  return TRUE;
}

// ---- messages -----------------------------------------------------------------------------

// The event's insertion strings: EventData's Data values, or UserData's leaf values, in order.
std::vector<std::string> insertion_strings(const std::string& xml) {
  std::vector<std::string> values;
  std::size_t from = xml.find("<EventData");
  if (from == std::string::npos) from = xml.find("<UserData");
  if (from == std::string::npos) return values;
  for (std::size_t at = from; (at = xml.find('<', at + 1)) != std::string::npos;) {
    if (xml[at + 1] == '/') {
      if (xml.compare(at, 12, "</EventData>") == 0 || xml.compare(at, 11, "</UserData>") == 0) {
        break;
      }
      continue;
    }
    const std::size_t gt = xml.find('>', at);
    if (gt == std::string::npos || xml[gt - 1] == '/') continue;
    const std::size_t next = xml.find('<', gt);
    if (next != std::string::npos && xml[next + 1] == '/') {
      values.push_back(xml.substr(gt + 1, next - gt - 1));
    }
  }
  return values;
}

std::string format_template(const std::string& message, const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '%' && i + 1 < message.size() &&
        std::isdigit(static_cast<unsigned char>(message[i + 1]))) {
      std::size_t j = i + 1;
      std::size_t n = 0;
      while (j < message.size() && std::isdigit(static_cast<unsigned char>(message[j]))) {
        n = n * 10 + static_cast<std::size_t>(message[j++] - '0');
      }
      if (n >= 1 && n <= values.size()) out += values[n - 1];
      i = j - 1;
    } else {
      out += message[i];
    }
  }
  return out;
}

}  // namespace

// ---- the API --------------------------------------------------------------------------------

extern "C" {

BOOL WINAPI EvtClose(EVT_HANDLE object) {
  std::lock_guard lock(g_mutex);
  auto* o = static_cast<Object*>(object);
  if (g_objects.erase(o) == 0) return fail(ERROR_INVALID_HANDLE, FALSE);
  if (o->kind == Kind::kSubscription) g_subscriptions.erase(static_cast<Reader*>(o));
  delete o;
  return TRUE;
}

DWORD WINAPI EvtGetExtendedStatus(DWORD size, LPWSTR buffer, PDWORD used) {
  const std::wstring& text = t_extended_status;
  *used = text.empty() ? 0 : static_cast<DWORD>(text.size() + 1);
  if (text.empty()) return ERROR_SUCCESS;
  if (buffer == nullptr || size < *used) return ERROR_INSUFFICIENT_BUFFER;
  std::memcpy(buffer, text.c_str(), *used * sizeof(wchar_t));
  return ERROR_SUCCESS;
}

EVT_HANDLE WINAPI EvtSubscribe(EVT_HANDLE session, HANDLE signal, LPCWSTR channel, LPCWSTR query,
                               EVT_HANDLE bookmark, PVOID, EVT_SUBSCRIBE_CALLBACK callback,
                               DWORD flags) {
  std::lock_guard lock(g_mutex);
  t_extended_status.clear();
  // Push subscriptions (callback) and remote sessions are not modelled.
  if (session != nullptr || callback != nullptr) return fail(ERROR_NOT_SUPPORTED, nullptr);
  if (signal == nullptr || channel == nullptr) return fail(ERROR_INVALID_PARAMETER, nullptr);
  DWORD error = 0;
  std::shared_ptr<Log> log = open_channel(channel, false, error);
  if (!log) return fail(error, nullptr);
  auto sub = std::make_unique<Reader>(Kind::kSubscription);
  sub->log = log;
  sub->signal = signal;
  sub->generation = log->generation;
  if (!set_filter(*sub, query)) return fail(ERROR_EVT_INVALID_QUERY, nullptr);
  switch (flags & EvtSubscribeOriginMask) {
    case EvtSubscribeToFutureEvents:
      sub->next_id = log->end_id();
      break;
    case EvtSubscribeStartAtOldestRecord:
      sub->next_id = log->oldest_id();
      break;
    case EvtSubscribeStartAfterBookmark: {
      auto* b = find<BookmarkObject>(bookmark, Kind::kBookmark);
      if (b == nullptr) return fail(ERROR_INVALID_PARAMETER, nullptr);
      const Position* p = nullptr;
      for (const Position& candidate : b->positions) {
        if (lower(candidate.channel) == lower(log->name)) p = &candidate;
      }
      const bool present =
          p != nullptr && p->record_id >= log->oldest_id() && p->record_id < log->end_id();
      if (!present && (flags & EvtSubscribeStrict) != 0) return fail(ERROR_NOT_FOUND, nullptr);
      sub->next_id = present ? p->record_id + 1 : log->oldest_id();
      break;
    }
    default:
      return fail(ERROR_INVALID_PARAMETER, nullptr);
  }
  sub->signalled_up_to = log->end_id();
  if (has_match(*sub, sub->next_id)) SetEvent(signal);
  ++g_stats.subscriptions;
  g_subscriptions.insert(sub.get());
  start_poller();
  return keep(sub.release());
}

EVT_HANDLE WINAPI EvtQuery(EVT_HANDLE session, LPCWSTR path, LPCWSTR query, DWORD flags) {
  std::lock_guard lock(g_mutex);
  t_extended_status.clear();
  if (session != nullptr) return fail(ERROR_NOT_SUPPORTED, nullptr);
  if (path == nullptr) return fail(ERROR_INVALID_PARAMETER, nullptr);
  DWORD error = 0;
  std::shared_ptr<Log> log = open_channel(path, (flags & EvtQueryFilePath) != 0, error);
  if (!log) return fail(error, nullptr);
  auto q = std::make_unique<Reader>(Kind::kQuery);
  q->log = log;
  if (!set_filter(*q, query)) return fail(ERROR_EVT_INVALID_QUERY, nullptr);
  for (std::uint64_t id = log->oldest_id(); id < log->end_id(); ++id) {
    if (q->filter.matches(log->at(id).event_id, log->at(id).level)) q->results.push_back(id);
  }
  if ((flags & EvtQueryReverseDirection) != 0) std::reverse(q->results.begin(), q->results.end());
  return keep(q.release());
}

BOOL WINAPI EvtNext(EVT_HANDLE results, DWORD count, EVT_HANDLE* events, DWORD, DWORD,
                    PDWORD returned) {
  std::lock_guard lock(g_mutex);
  ++g_stats.next_calls;
  if (returned == nullptr || events == nullptr || count == 0) {
    return fail(ERROR_INVALID_PARAMETER, FALSE);
  }
  *returned = 0;
  if (auto* sub = find<Reader>(results, Kind::kSubscription)) {
    return next_from_subscription(*sub, count, events, returned);
  }
  if (auto* q = find<Reader>(results, Kind::kQuery)) {
    return next_from_query(*q, count, events, returned);
  }
  return fail(ERROR_INVALID_HANDLE, FALSE);
}

EVT_HANDLE WINAPI EvtCreateBookmark(LPCWSTR xml) {
  std::lock_guard lock(g_mutex);
  auto b = std::make_unique<BookmarkObject>();
  if (xml != nullptr && !parse_bookmark(xml, *b))
    return fail(ERROR_EVT_MALFORMED_XML_TEXT, nullptr);
  return keep(b.release());
}

BOOL WINAPI EvtUpdateBookmark(EVT_HANDLE bookmark, EVT_HANDLE event) {
  std::lock_guard lock(g_mutex);
  auto* b = find<BookmarkObject>(bookmark, Kind::kBookmark);
  auto* e = find<EventObject>(event, Kind::kEvent);
  if (b == nullptr || e == nullptr) return fail(ERROR_INVALID_HANDLE, FALSE);
  // A bookmark holds the position in the log the event was read from, whatever its XML says.
  Position p{e->log->name, e->record_id};
  auto same = [&](const Position& x) { return lower(x.channel) == lower(p.channel); };
  b->positions.erase(std::remove_if(b->positions.begin(), b->positions.end(), same),
                     b->positions.end());
  b->positions.push_back(p);
  return TRUE;
}

BOOL WINAPI EvtRender(EVT_HANDLE, EVT_HANDLE fragment, DWORD flags, DWORD buffer_bytes,
                      PVOID buffer, PDWORD used, PDWORD property_count) {
  std::lock_guard lock(g_mutex);
  if (property_count != nullptr) *property_count = 0;
  if (flags == EvtRenderEventXml) {
    auto* e = find<EventObject>(fragment, Kind::kEvent);
    if (e == nullptr) return fail(ERROR_INVALID_HANDLE, FALSE);
    return copy_out(render_event(*e), buffer_bytes, buffer, used);
  }
  if (flags == EvtRenderBookmark) {
    auto* b = find<BookmarkObject>(fragment, Kind::kBookmark);
    if (b == nullptr) return fail(ERROR_INVALID_HANDLE, FALSE);
    return copy_out(render_bookmark(*b), buffer_bytes, buffer, used);
  }
  return fail(ERROR_INVALID_PARAMETER, FALSE);  // EvtRenderEventValues needs a render context
}

EVT_HANDLE WINAPI EvtOpenPublisherMetadata(EVT_HANDLE session, LPCWSTR publisher, LPCWSTR,
                                           LCID locale, DWORD) {
  if (session != nullptr) return fail(ERROR_NOT_SUPPORTED, nullptr);
  if (publisher == nullptr) return fail(ERROR_INVALID_PARAMETER, nullptr);
  ++g_stats.publisher_opens;
  std::string text;
  if (!read_whole_file(sim_dir() + publisher + L".messages", text)) {
    return fail(ERROR_EVT_PUBLISHER_METADATA_NOT_FOUND, nullptr);
  }
  auto p = std::make_unique<PublisherObject>();
  std::uint32_t chosen = static_cast<std::uint32_t>(locale);
  bool found = false;
  for (const std::string& line : lines_of(text)) {
    char* rest = nullptr;
    const auto lcid = static_cast<std::uint32_t>(std::strtoul(line.c_str(), &rest, 0));
    const auto id = static_cast<std::uint32_t>(std::strtoul(rest, &rest, 10));
    if (lcid == 0 || line[0] == '#') continue;
    if (chosen == 0) chosen = lcid;  // the server's language: the first one listed
    if (lcid != chosen) continue;
    found = true;
    while (*rest == ' ') ++rest;
    p->messages[id] = rest;
  }
  p->locale_found = found;
  std::lock_guard lock(g_mutex);
  return keep(p.release());
}

BOOL WINAPI EvtFormatMessage(EVT_HANDLE publisher, EVT_HANDLE event, DWORD, DWORD, PEVT_VARIANT,
                             DWORD flags, DWORD buffer_chars, LPWSTR buffer, PDWORD used) {
  std::lock_guard lock(g_mutex);
  ++g_stats.format_message_calls;
  auto* p = find<PublisherObject>(publisher, Kind::kPublisher);
  auto* e = find<EventObject>(event, Kind::kEvent);
  if (p == nullptr || e == nullptr) return fail(ERROR_INVALID_HANDLE, FALSE);
  if (flags != EvtFormatMessageEvent) return fail(ERROR_NOT_SUPPORTED, FALSE);
  if (!p->locale_found) return fail(ERROR_EVT_MESSAGE_LOCALE_NOT_FOUND, FALSE);
  const auto id = static_cast<std::uint32_t>(to_u64(element_text(e->xml, "EventID")));
  const auto message = p->messages.find(id);
  if (message == p->messages.end()) return fail(ERROR_EVT_MESSAGE_NOT_FOUND, FALSE);
  const std::wstring text = widen(format_template(message->second, insertion_strings(e->xml)));
  *used = static_cast<DWORD>(text.size() + 1);
  if (buffer == nullptr || buffer_chars < *used) return fail(ERROR_INSUFFICIENT_BUFFER, FALSE);
  std::memcpy(buffer, text.c_str(), *used * sizeof(wchar_t));
  return TRUE;
}

EVT_HANDLE WINAPI EvtOpenChannelConfig(EVT_HANDLE session, LPCWSTR channel, DWORD) {
  std::lock_guard lock(g_mutex);
  if (session != nullptr) return fail(ERROR_NOT_SUPPORTED, nullptr);
  if (channel == nullptr) return fail(ERROR_INVALID_PARAMETER, nullptr);
  DWORD error = 0;
  std::shared_ptr<Log> log = open_channel(channel, false, error);
  if (!log) return fail(error, nullptr);
  auto config = std::make_unique<ChannelConfigObject>();
  config->name = log->name;
  config->auto_backup = log->behave.auto_backup;
  return keep(config.release());
}

// Retention and AutoBackup (both true: "archive the log when full") and the log file's path.
BOOL WINAPI EvtGetChannelConfigProperty(EVT_HANDLE handle, EVT_CHANNEL_CONFIG_PROPERTY_ID id, DWORD,
                                        DWORD size, PEVT_VARIANT value, PDWORD used) {
  std::lock_guard lock(g_mutex);
  auto* config = find<ChannelConfigObject>(handle, Kind::kChannelConfig);
  if (config == nullptr) return fail(ERROR_INVALID_HANDLE, FALSE);
  std::wstring text;
  if (id == EvtChannelLoggingConfigLogFilePath) {
    text = L"%SystemRoot%\\System32\\Winevt\\Logs\\" + channel_file_stem(config->name) + L".evtx";
  } else if (id != EvtChannelLoggingConfigRetention && id != EvtChannelLoggingConfigAutoBackup) {
    return fail(ERROR_NOT_SUPPORTED, FALSE);
  }
  const DWORD needed =
      static_cast<DWORD>(sizeof(EVT_VARIANT) + (text.empty() ? 0 : (text.size() + 1) * 2));
  *used = needed;
  if (value == nullptr || size < needed) return fail(ERROR_INSUFFICIENT_BUFFER, FALSE);
  std::memset(value, 0, sizeof(EVT_VARIANT));
  value->Count = 0;
  if (text.empty()) {
    value->Type = EvtVarTypeBoolean;
    value->BooleanVal = config->auto_backup;
  } else {
    auto* chars = reinterpret_cast<wchar_t*>(value + 1);
    std::memcpy(chars, text.c_str(), (text.size() + 1) * 2);
    value->Type = EvtVarTypeString;
    value->StringVal = chars;
  }
  return TRUE;
}

// For the simulator's own tests: the counters also written to .evtsim-stats.
void evtsim_stats(std::uint64_t* format_message_calls, std::uint64_t* publisher_opens,
                  std::uint64_t* next_calls) {
  *format_message_calls = g_stats.format_message_calls;
  *publisher_opens = g_stats.publisher_opens;
  *next_calls = g_stats.next_calls;
}

BOOL WINAPI DllMain(HINSTANCE, DWORD reason, LPVOID) {
  if (reason == DLL_PROCESS_DETACH) write_stats(stats_text());
  return TRUE;
}

}  // extern "C"
