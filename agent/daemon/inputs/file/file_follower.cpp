#include "daemon/inputs/file/file_follower.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

#include "daemon/glob.hpp"

namespace sw::daemon {

namespace {

constexpr std::uint32_t kHeadBytes = 1024;
// A copy is recognized by its first bytes only when there are enough of them to be telling.
constexpr std::uint32_t kMinHeadForCopy = 64;
constexpr std::string_view kXmlEnd = "</Event>";

// Start of the next <Event ...> or <Event> element (not <Events>) at or after `from`.
std::size_t find_event_start(std::string_view data, std::size_t from) {
  for (;;) {
    const std::size_t at = data.find("<Event", from);
    if (at == std::string_view::npos) return at;
    const std::size_t after = at + 6;
    if (after >= data.size()) return std::string_view::npos;
    const char c = data[after];
    if (c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/') return at;
    from = after;
  }
}

}  // namespace

std::uint64_t hash_bytes(std::string_view data) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

struct FileFollower::Tailed {
  std::string path;
  platform::FileId id;
  std::unique_ptr<platform::InputFile> file;
  std::uint64_t offset = 0;
  std::uint64_t records = 0;
  std::uint32_t head_length = 0;
  std::uint64_t head_hash = 0;
  InputFormat format = InputFormat::kAuto;
  bool rotated = false;            // no longer under a name the globs match
  Clock::time_point rotated_at{};  // when the rename was noticed
  bool ignored = false;            // not a format this input reads (EVTX in a file input, binary)
  bool skipping = false;  // inside a record longer than max_record_bytes: read on to its end
  bool copy = false;      // a copytruncate copy: read before the file it was copied from
  std::uint64_t last_size = 0;
  Clock::time_point last_growth{};

  FileCheckpoint checkpoint() const {
    return FileCheckpoint{path, id, offset, records, head_length, head_hash};
  }
};

FileFollower::FileFollower(Options options) : options_(std::move(options)) {}
FileFollower::~FileFollower() = default;

FileFollower::Clock::time_point FileFollower::now() const {
  return options_.clock ? options_.clock() : Clock::now();
}

void FileFollower::restore(std::vector<FileCheckpoint> checkpoints) {
  restored_ = std::move(checkpoints);
  restored_pending_ = true;
}

std::vector<std::string> FileFollower::directories() const {
  return glob_directories(options_.globs);
}

bool FileFollower::matches_glob(const std::string& path) const {
  return matches_any_glob(options_.globs, path);
}

CollectionGap FileFollower::gap(const std::string& path, std::string cause,
                                std::uint64_t from) const {
  CollectionGap g;
  g.input = options_.input_name;
  g.path = path;
  g.cause = std::move(cause);
  g.unit = "bytes";
  g.from = from;
  return g;
}

bool FileFollower::head_matches(platform::InputFile& file, std::uint32_t length,
                                std::uint64_t hash) {
  if (length == 0) return true;
  std::string head(length, '\0');
  const std::int64_t n = file.read_at(0, head.data(), length);
  return n == static_cast<std::int64_t>(length) && hash_bytes(head) == hash;
}

std::unique_ptr<FileFollower::Tailed> FileFollower::open_at(const std::string& path,
                                                            const platform::FileId& id,
                                                            const FileCheckpoint* from,
                                                            std::string& error) {
  auto file = platform::InputFile::open(path, error);
  if (!file) return nullptr;
  const auto info = file->info();
  // The name may have been reused between listing and opening; the next notification retries.
  if (!info || info->id != id) {
    error = path + " changed while being opened";
    return nullptr;
  }
  auto t = std::make_unique<Tailed>();
  t->path = path;
  t->id = id;
  t->file = std::move(file);
  t->format = options_.format;
  if (from) {
    t->offset = from->offset;
    t->records = from->records;
    t->head_length = from->head_length;
    t->head_hash = from->head_hash;
  }
  t->last_size = info->size;
  t->last_growth = now();
  return t;
}

void FileFollower::apply_restored(const std::map<platform::FileId, std::string>& matches,
                                  std::vector<FileWork>& out) {
  for (const FileCheckpoint& cp : restored_) {
    bool rotated = false;
    std::string path = find_restored(cp, matches, rotated);
    std::string error;
    std::unique_ptr<Tailed> t;
    if (!path.empty()) t = open_at(path, cp.id, &cp, error);
    if (t) {
      spdlog::info("input {}: resuming {} at byte {}", options_.input_name, path, cp.offset);
      t->rotated = rotated;
      if (rotated) t->rotated_at = now();
      Tailed& resumed = *t;
      files_[cp.id] = std::move(t);
      // Same identity, other content: copytruncate while the agent was down (the copy holds the
      // rest), or the inode was reused by a new file.
      const auto info = resumed.file->info();
      if (info && content_changed(resumed, info->size)) {
        handle_truncation(resumed, out, info->size < cp.offset ? "truncated" : "replaced");
      }
      continue;
    }
    FileWork item;
    item.gaps.push_back(gap(cp.path, path.empty() ? "removed" : "unreadable", cp.offset));
    spdlog::warn("input {}: {} ({}); its checkpoint at byte {} is dropped", options_.input_name,
                 cp.path, path.empty() ? "gone while the agent was down" : error, cp.offset);
    // Tell the checkpoint store to forget this file.
    LineBatch forget;
    forget.input_index = options_.input_index;
    forget.path = cp.path;
    forget.checkpoint = cp;
    forget.closed = true;
    item.lines = std::move(forget);
    out.push_back(std::move(item));
  }
  restored_.clear();
  restored_pending_ = false;
}

std::string FileFollower::find_restored(const FileCheckpoint& cp,
                                        const std::map<platform::FileId, std::string>& matches,
                                        bool& rotated) const {
  if (auto m = matches.find(cp.id); m != matches.end()) return m->second;
  // Renamed away while the agent was down (a.log -> a.log.1): find it by identity.
  std::error_code ec;
  const auto dir = std::filesystem::path(cp.path).parent_path();
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto info = platform::stat_path(entry.path().string());
    if (info && info->regular && info->id == cp.id) {
      rotated = true;
      return entry.path().string();
    }
  }
  return {};
}

void FileFollower::rescan(std::vector<FileWork>& out) {
  std::map<platform::FileId, std::string> matches;
  for (const std::string& dir : directories()) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const std::string path = entry.path().string();
      if (!matches_glob(path)) continue;
      const auto info = platform::stat_path(path);
      if (!info || !info->regular) continue;
      matches.emplace(info->id, path);
    }
  }
  if (restored_pending_) apply_restored(matches, out);

  for (auto& [id, t] : files_) {
    const bool rotated = matches.count(id) == 0;
    if (rotated && !t->rotated) {
      // The quiet time before the rename does not count: its writer may not have reopened yet.
      t->rotated_at = now();
      spdlog::info("input {}: {} was renamed away or removed; reading it to its end at byte {}",
                   options_.input_name, t->path, t->offset);
    }
    t->rotated = rotated;
    if (!t->rotated) t->path = matches[id];
  }
  for (const auto& [id, path] : matches) {
    if (files_.count(id)) continue;
    std::string error;
    auto t = open_at(path, id, nullptr, error);
    if (!t) {
      spdlog::debug("input {}: {}", options_.input_name, error);
      continue;
    }
    start_new_file(*t);
    files_[id] = std::move(t);
  }
}

void FileFollower::start_new_file(Tailed& t) {
  // A copy of a file we follow (copytruncate's copy, when the globs match it): start where the
  // original was, so nothing is read twice.
  for (const auto& [other_id, other] : files_) {
    if (other->head_length >= kMinHeadForCopy && t.last_size >= other->offset &&
        head_matches(*t.file, other->head_length, other->head_hash)) {
      t.offset = other->offset;
      t.records = other->records;
      t.head_length = other->head_length;
      t.head_hash = other->head_hash;
      t.copy = true;
      spdlog::info("input {}: {} is a copy of {}; reading it from byte {}", options_.input_name,
                   t.path, other->path, t.offset);
      return;
    }
  }
  spdlog::info("input {}: following {} from its start ({} bytes now)", options_.input_name, t.path,
               t.last_size);
}

void FileFollower::update_head(Tailed& t, std::uint64_t size, std::vector<FileWork>& out) {
  if (t.head_length >= kHeadBytes || size <= t.head_length) return;
  const auto length = static_cast<std::uint32_t>(std::min<std::uint64_t>(size, kHeadBytes));
  std::string head(length, '\0');
  const std::int64_t n = t.file->read_at(0, head.data(), length);
  if (n <= 0) return;
  head.resize(static_cast<std::size_t>(n));
  if (t.format == InputFormat::kAuto) t.format = detect_format(head);
  refuse_if_not_a_log(t, head, out);
  t.head_length = static_cast<std::uint32_t>(head.size());
  t.head_hash = hash_bytes(head);
}

bool FileFollower::content_changed(Tailed& t, std::uint64_t size) {
  if (size < t.offset) return true;
  // An EVTX file rewrites its own header as it grows; it is not read here anyway.
  if (t.ignored) return false;
  if (size == t.last_size && size == t.offset) return false;  // nothing new to read
  // The size alone does not tell: after copytruncate the writer may have passed the old offset
  // by the time reading resumes (backpressure, or the agent was stopped).
  return !head_matches(*t.file, t.head_length, t.head_hash);
}

namespace {

// Why a file input does not read a file with this head; nullopt when it does.
std::optional<std::string> file_input_refusal(std::string_view head) {
  if (head.substr(0, 8) == std::string_view("ElfFile\0", 8)) {
    return "an EVTX file: a `type: file` input follows text; read it with an input of "
           "`type: evtx`";
  }
  if (head.substr(0, 2) == "\x1F\x8B") {
    return "gzip-compressed: a file input follows plain text (logs are read before rotation "
           "compresses them; `sessionwatch scan` reads .gz files)";
  }
  const bool bom16 = head.substr(0, 2) == "\xFF\xFE" || head.substr(0, 2) == "\xFE\xFF";
  if (bom16 || (head.size() >= 4 && head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0)) {
    return "UTF-16 text: a file input reads UTF-8; convert it (iconv -f UTF-16 -t UTF-8) or "
           "read it with `sessionwatch scan`";
  }
  return not_a_log(head);
}

}  // namespace

void FileFollower::refuse_if_not_a_log(Tailed& t, std::string_view head,
                                       std::vector<FileWork>& out) {
  if (t.ignored) return;
  auto why = file_input_refusal(head);
  if (!why) return;
  // Nothing of it becomes an event; the checkpoint moves to its end so it is not judged again.
  t.ignored = true;
  FileWork item;
  item.refused = RefusedFile{options_.input_index, t.path, std::move(*why)};
  out.push_back(std::move(item));
}

void FileFollower::reset_to_start(Tailed& t) {
  t.offset = 0;
  t.records = 0;
  t.head_length = 0;
  t.head_hash = 0;
  t.format = options_.format;
  t.ignored = false;
  t.skipping = false;
}

// Looks in the file's folder for a copy of what it held (same first bytes, at least as long as
// what was read) and follows it from where the original was left. True when found.
bool FileFollower::follow_copy(Tailed& t) {
  if (t.head_length < kMinHeadForCopy) return false;
  std::error_code ec;
  const auto dir = std::filesystem::path(t.path).parent_path();
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string path = entry.path().string();
    const auto info = platform::stat_path(path);
    if (!info || !info->regular || info->id == t.id || info->size < t.offset) continue;
    if (auto followed = files_.find(info->id); followed != files_.end()) {
      // Already followed (the globs match the copy) and started at our offset by rescan().
      if (head_matches(*followed->second->file, t.head_length, t.head_hash)) return true;
      continue;
    }
    std::string error;
    const FileCheckpoint from = t.checkpoint();
    auto copy = open_at(path, info->id, &from, error);
    if (copy && head_matches(*copy->file, t.head_length, t.head_hash)) {
      spdlog::info("input {}: {} was truncated at byte {}; reading the rest from its copy {}",
                   options_.input_name, t.path, t.offset, path);
      copy->rotated = !matches_glob(path);
      copy->rotated_at = now();
      copy->copy = true;
      copy->format = t.format;
      files_[info->id] = std::move(copy);
      return true;
    }
  }
  return false;
}

void FileFollower::handle_truncation(Tailed& t, std::vector<FileWork>& out,
                                     const std::string& cause) {
  FileWork item;
  if (!follow_copy(t)) {
    CollectionGap g = gap(t.path, cause, t.offset);
    // Bytes seen but not read yet are lost for sure; what was written after the last look, if
    // anything, is unknown.
    if (t.last_size > t.offset) {
      g.to = t.last_size;
      g.count = t.last_size - t.offset;
    }
    spdlog::warn(
        "input {}: {} was {} after byte {} and no copy of it was found; reading it from "
        "its start ({})",
        options_.input_name, t.path, cause, t.offset,
        g.count ? std::to_string(*g.count) + " unread bytes lost"
                : "anything written after the last read is lost");
    item.gaps.push_back(std::move(g));
  }
  reset_to_start(t);
  LineBatch reset;
  reset.input_index = options_.input_index;
  reset.path = t.path;
  reset.checkpoint = t.checkpoint();
  item.lines = std::move(reset);
  out.push_back(std::move(item));
}

bool FileFollower::read_records(Tailed& t, std::uint64_t size, std::vector<FileWork>& out) {
  if (t.skipping && !skip_long_record(t, size)) return false;
  const std::uint64_t available = size - t.offset;
  const std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(available, options_.max_batch_bytes));
  buffer_.resize(want);
  const std::int64_t n = t.file->read_at(t.offset, buffer_.data(), want);
  if (n <= 0) return false;
  const std::string_view data(buffer_.data(), static_cast<std::size_t>(n));

  LineBatch batch;
  batch.input_index = options_.input_index;
  batch.path = t.path;
  batch.format = t.format;
  std::size_t consumed = 0;
  if (t.format == InputFormat::kXml) {
    std::size_t pos = 0;
    for (;;) {
      const std::size_t start = find_event_start(data, pos);
      if (start == std::string_view::npos) break;
      const std::size_t end = data.find(kXmlEnd, start);
      if (end == std::string_view::npos) break;
      const std::size_t stop = end + kXmlEnd.size();
      batch.records.push_back({static_cast<std::uint32_t>(start),
                               static_cast<std::uint32_t>(stop - start), ++t.records});
      pos = consumed = stop;
    }
  } else {
    std::size_t pos = 0;
    for (;;) {
      const std::size_t nl = data.find('\n', pos);
      if (nl == std::string_view::npos) break;
      std::size_t length = nl - pos;
      if (length > 0 && data[pos + length - 1] == '\r') --length;
      ++t.records;
      if (length > 0) {
        batch.records.push_back(
            {static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(length), t.records});
      }
      pos = consumed = nl + 1;
    }
  }
  const bool full_buffer = static_cast<std::uint64_t>(n) == options_.max_batch_bytes;
  if (consumed == 0 && full_buffer) {
    // One record larger than a whole batch (a 4624 with a huge payload): read it whole.
    return read_long_record(t, size, out);
  }
  if (consumed == 0) return false;
  t.offset += consumed;
  // The batch takes the read buffer (a trailing partial line is read again next time); the
  // next read goes into the one a decoded batch gives back (recycle).
  batch.data = std::exchange(buffer_, std::string());
  batch.data.resize(consumed);
  batch.checkpoint = t.checkpoint();
  FileWork item;
  item.lines = std::move(batch);
  out.push_back(std::move(item));
  // More only when the batch budget cut the read short; a trailing partial line waits.
  return full_buffer && t.offset < size;
}

namespace {

// The first complete record in `data`: a line (without its LF and a CR before it) or an XML
// <Event> element, and where what it consumes ends; nullopt when it is not complete yet.
struct FirstRecord {
  std::size_t start = 0, length = 0, end = 0;
};
std::optional<FirstRecord> first_record(std::string_view data, InputFormat format) {
  if (format == InputFormat::kXml) {
    const std::size_t start = find_event_start(data, 0);
    if (start == std::string_view::npos) return std::nullopt;
    const std::size_t close = data.find(kXmlEnd, start);
    if (close == std::string_view::npos) return std::nullopt;
    const std::size_t end = close + kXmlEnd.size();
    return FirstRecord{start, end - start, end};
  }
  const std::size_t nl = data.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  const std::size_t length = nl > 0 && data[nl - 1] == '\r' ? nl - 1 : nl;
  return FirstRecord{0, length, nl + 1};
}

}  // namespace

// A record longer than a batch: read it whole (up to max_record_bytes), in one batch of its own.
// A longer one is reported and skipped to its end; one still being written waits for its end.
bool FileFollower::read_long_record(Tailed& t, std::uint64_t size, std::vector<FileWork>& out) {
  const std::uint64_t available = size - t.offset;
  const std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(available, options_.max_record_bytes + 1));
  std::string data(want, '\0');
  const std::int64_t n = t.file->read_at(t.offset, data.data(), want);
  if (n <= 0) return false;
  data.resize(static_cast<std::size_t>(n));
  const auto record = first_record(data, t.format);
  LineBatch batch;
  batch.input_index = options_.input_index;
  batch.path = t.path;
  batch.format = t.format;
  if (record && record->length <= options_.max_record_bytes) {
    batch.records.push_back({static_cast<std::uint32_t>(record->start),
                             static_cast<std::uint32_t>(record->length), ++t.records});
    data.resize(record->end);
    t.offset += record->end;
  } else if (data.size() > options_.max_record_bytes) {
    batch.errors.push_back({++t.records, "record longer than " +
                                             std::to_string(options_.max_record_bytes >> 20) +
                                             " MiB, skipped"});
    t.offset += data.size();
    t.skipping = true;
    data.clear();
  } else {
    return false;  // still being written
  }
  batch.data = std::move(data);
  batch.checkpoint = t.checkpoint();
  FileWork item;
  item.lines = std::move(batch);
  out.push_back(std::move(item));
  return t.offset < size;
}

void FileFollower::recycle(std::string&& data) {
  if (data.capacity() > buffer_.capacity()) buffer_ = std::move(data);
}

// Reads on past the rest of a record too long to keep; true once its end was passed.
bool FileFollower::skip_long_record(Tailed& t, std::uint64_t size) {
  while (t.offset < size) {
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(size - t.offset, options_.max_batch_bytes));
    buffer_.resize(want);
    const std::int64_t n = t.file->read_at(t.offset, buffer_.data(), want);
    if (n <= 0) return false;
    const std::string_view data(buffer_.data(), static_cast<std::size_t>(n));
    const std::size_t end = t.format == InputFormat::kXml ? data.find(kXmlEnd) : data.find('\n');
    if (end != std::string_view::npos) {
      t.offset += end + (t.format == InputFormat::kXml ? kXmlEnd.size() : 1);
      t.skipping = false;
      return true;
    }
    t.offset += data.size();
  }
  return false;
}

bool FileFollower::collect(std::vector<FileWork>& out) {
  bool more = false;
  // Rotated files first: the old file is read to its end before its successor.
  std::vector<Tailed*> order;
  for (auto& [id, t] : files_) order.push_back(t.get());
  std::stable_partition(order.begin(), order.end(),
                        [](const Tailed* t) { return t->rotated || t->copy; });

  std::vector<platform::FileId> closed;
  for (Tailed* t : order) {
    auto info = t->file->info();
    if (!info) continue;
    if (content_changed(*t, info->size)) {
      if (t->offset > 0) {
        handle_truncation(*t, out, "truncated");
        // The copy (if found) is read first, on the next round; then this file from its start.
        more = true;
        continue;
      }
      reset_to_start(*t);  // rewritten before anything was read from it: nothing lost
    }
    update_head(*t, info->size, out);
    if (info->size != t->last_size) {
      t->last_size = info->size;
      t->last_growth = now();
    }
    bool file_more = false;
    if (t->ignored) {
      t->offset = info->size;
    } else if (info->size > t->offset) {
      file_more = read_records(*t, info->size, out);
      more = more || file_more;
    }
    if (t->rotated && !file_more && release_if_done(*t, *info, out)) closed.push_back(t->id);
  }
  for (const auto& id : closed) files_.erase(id);
  return more;
}

// A rotated file read to its end (an unterminated last line aside) is let go once deleted, or
// once it stayed quiet for rotate_wait after the rename was noticed, so a writer that has not
// reopened its log yet is still read. True when let go.
bool FileFollower::release_if_done(Tailed& t, const platform::FileInfo& info,
                                   std::vector<FileWork>& out) {
  const bool deleted = info.links == 0;
  const bool quiet = now() - std::max(t.last_growth, t.rotated_at) >= options_.rotate_wait;
  if (!deleted && !quiet) return false;
  LineBatch batch;
  batch.input_index = options_.input_index;
  batch.path = t.path;
  batch.format = t.format;
  if (t.offset < info.size && !t.ignored) {
    // The writer is gone; its unterminated last line is a record after all.
    const std::size_t length = static_cast<std::size_t>(
        std::min<std::uint64_t>(info.size - t.offset, options_.max_record_bytes));
    batch.data.resize(length);
    const std::int64_t n = t.file->read_at(t.offset, batch.data.data(), length);
    batch.data.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    if (!batch.data.empty()) {
      batch.records.push_back({0, static_cast<std::uint32_t>(batch.data.size()), ++t.records});
    }
    t.offset += batch.data.size();
  }
  spdlog::info("input {}: finished {} ({}) at byte {}, {} records", options_.input_name, t.path,
               deleted ? "deleted" : "quiet since it was rotated", t.offset, t.records);
  batch.checkpoint = t.checkpoint();
  batch.closed = true;
  FileWork item;
  item.lines = std::move(batch);
  out.push_back(std::move(item));
  return true;
}

std::vector<FileCheckpoint> FileFollower::positions() const {
  std::vector<FileCheckpoint> out;
  for (const auto& [id, t] : files_) out.push_back(t->checkpoint());
  return out;
}

bool FileFollower::lingering() const {
  return std::any_of(files_.begin(), files_.end(),
                     [](const auto& entry) { return entry.second->rotated; });
}

}  // namespace sw::daemon
