#include "sessionwatch/spool.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

#include "platform/fsync.hpp"

namespace sw::forward {

namespace fs = std::filesystem;

std::string_view to_string(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kBatch:
      return "batch";
    case FsyncPolicy::kNever:
      return "never";
    case FsyncPolicy::kInterval:
      return "interval";
  }
  return "batch";
}

bool parse_fsync_policy(std::string_view s, FsyncPolicy& out) {
  for (auto p :
       {FsyncPolicy::kAlways, FsyncPolicy::kBatch, FsyncPolicy::kNever, FsyncPolicy::kInterval}) {
    if (s == to_string(p)) {
      out = p;
      return true;
    }
  }
  return false;
}

std::string_view to_string(FullPolicy p) {
  return p == FullPolicy::kBlock ? "block" : "drop_oldest";
}

bool parse_full_policy(std::string_view s, FullPolicy& out) {
  if (s == "block") {
    out = FullPolicy::kBlock;
  } else if (s == "drop_oldest") {
    out = FullPolicy::kDropOldest;
  } else {
    return false;
  }
  return true;
}

namespace {

constexpr std::string_view kMagic = "SWSPOOL1";
constexpr std::uint64_t kSegmentHeader = kMagic.size();
constexpr std::uint64_t kRecordHeader = 8;
// A length above this is a corrupt header, not a record (alerts are a few KiB).
constexpr std::uint32_t kMaxRecord = 64U << 20;

void store_le32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void store_le64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint32_t load_le32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint64_t load_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::uint32_t record_crc(const unsigned char* length_bytes, std::string_view payload) {
  return crc32c(payload, crc32c({reinterpret_cast<const char*>(length_bytes), 4}));
}

fs::path segment_path(const fs::path& dir, std::uint64_t seq) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(seq));
  return dir / name;
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_file(const fs::path& p, const char* mode) {
#ifdef _WIN32
  std::wstring wmode(mode, mode + std::strlen(mode));
  return File(_wfopen(p.c_str(), wmode.c_str()));
#else
  return File(std::fopen(p.c_str(), mode));
#endif
}

// Reads one record at the stream's position. 1: ok, 0: clean end, -1: torn or corrupt.
int read_record(std::FILE* f, std::uint64_t offset, std::uint64_t limit, std::string& payload) {
  if (offset == limit) return 0;
  if (limit - offset < kRecordHeader) return -1;
  unsigned char header[kRecordHeader];
  if (std::fread(header, 1, kRecordHeader, f) != kRecordHeader) return -1;
  std::uint32_t length = load_le32(header);
  if (length == 0 || length > kMaxRecord || length > limit - offset - kRecordHeader) return -1;
  payload.resize(length);
  if (std::fread(payload.data(), 1, length, f) != length) return -1;
  if (record_crc(header, payload) != load_le32(header + 4)) return -1;
  return 1;
}

struct ScanResult {
  std::uint64_t valid_size = 0;  // where the last good record ends
  std::uint64_t records = 0;
  std::uint64_t records_before_probe = 0;  // records ending at or before `probe`
  std::uint64_t boundary_before_probe = kSegmentHeader;
  bool bad_magic = false;
};

ScanResult scan_segment(const fs::path& path, std::uint64_t file_size, std::uint64_t probe) {
  ScanResult r;
  File f = open_file(path, "rb");
  char magic[kSegmentHeader];
  if (!f || file_size < kSegmentHeader ||
      std::fread(magic, 1, sizeof magic, f.get()) != sizeof magic ||
      std::string_view(magic, sizeof magic) != kMagic) {
    r.bad_magic = true;
    return r;
  }
  std::uint64_t offset = kSegmentHeader;
  std::string payload;
  while (read_record(f.get(), offset, file_size, payload) == 1) {
    offset += kRecordHeader + payload.size();
    ++r.records;
    if (offset <= probe) {
      r.records_before_probe = r.records;
      r.boundary_before_probe = offset;
    }
  }
  r.valid_size = offset;
  return r;
}

}  // namespace

struct Spool::Impl {
  struct Segment {
    std::uint64_t seq = 0;
    std::uint64_t size = kSegmentHeader;  // committed bytes, readable by the consumer
    std::uint64_t records = 0;
    std::uint64_t acked_records = 0;
    std::uint64_t acked_offset = kSegmentHeader;
    std::uint64_t read_records = 0;
  };
  struct InFlight {
    SpoolPosition start;
    SpoolPosition end;
  };

  SpoolOptions opt;
  std::uint64_t segment_limit = 0;

  mutable std::mutex mu;
  std::condition_variable data_cv;
  std::condition_variable space_cv;
  std::deque<Segment> segments;  // oldest first; back() is the one being written
  SpoolPosition read_pos;
  std::deque<InFlight> in_flight;
  std::uint64_t unacked_bytes = 0;  // committed, not acknowledged
  SpoolStats counters;
  bool closed = false;
  bool wake_reader = false;  // one read() returns now (Spool::wake_reader)
  File reader;
  std::uint64_t reader_seq = ~0ULL;
  std::uint64_t reader_offset = 0;

  // Producer side, under write_mu.
  std::mutex write_mu;
  File writer;
  std::uint64_t written = kSegmentHeader;  // bytes in the active segment incl. uncommitted
  std::uint64_t pending_records = 0;
  std::uint64_t pending_bytes = 0;
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();
  // Framed records not yet handed to the file: a batch goes out in one write, not in a
  // write per few records through stdio's small buffer.
  std::string buffer;
  bool defer_sync = false;  // this append leaves its closing fsync to sync()

  Segment* find(std::uint64_t seq) {
    for (auto& s : segments)
      if (s.seq == seq) return &s;
    return nullptr;
  }

  bool sync_needed(bool end_of_batch) {
    switch (opt.fsync) {
      case FsyncPolicy::kAlways:
        return true;
      case FsyncPolicy::kBatch:
        return end_of_batch;
      case FsyncPolicy::kNever:
        return false;
      case FsyncPolicy::kInterval:
        return std::chrono::steady_clock::now() - last_sync >= opt.fsync_interval;
    }
    return true;
  }

  // Under write_mu. Hands the buffered frames to the file.
  bool write_buffer() {
    if (buffer.empty()) return true;
    const bool ok = std::fwrite(buffer.data(), 1, buffer.size(), writer.get()) == buffer.size();
    buffer.clear();
    return ok;
  }

  // Under write_mu. Makes what was written readable (and durable per policy).
  bool commit(bool end_of_batch, std::string& error) {
    if (pending_records == 0) return true;
    bool ok = write_buffer();
    ok = ok && (sync_needed(end_of_batch) ? platform::sync_file(writer.get())
                                          : std::fflush(writer.get()) == 0);
    if (ok && sync_needed(end_of_batch)) last_sync = std::chrono::steady_clock::now();
    if (!ok) {
      error = "spool write failed in " + opt.dir.string() + ": " + std::strerror(errno);
      return false;
    }
    std::lock_guard lock(mu);
    Segment& active = segments.back();
    active.size = written;
    active.records += pending_records;
    unacked_bytes += pending_bytes;
    counters.appended += pending_records;
    pending_records = 0;
    pending_bytes = 0;
    data_cv.notify_all();
    return true;
  }

  // Under write_mu (and not mu). Starts segment `seq` as the active one.
  bool start_segment(std::uint64_t seq, std::string& error) {
    fs::path p = segment_path(opt.dir, seq);
    File f = open_file(p, "wb");
    if (!f || std::fwrite(kMagic.data(), 1, kMagic.size(), f.get()) != kMagic.size() ||
        !(opt.fsync == FsyncPolicy::kNever ? std::fflush(f.get()) == 0
                                           : platform::sync_file(f.get()))) {
      error = "cannot create spool segment " + p.string() + ": " + std::strerror(errno);
      return false;
    }
    if (opt.fsync != FsyncPolicy::kNever) platform::sync_directory(opt.dir);
    writer = std::move(f);
    written = kSegmentHeader;
    std::lock_guard lock(mu);
    Segment s;
    s.seq = seq;
    segments.push_back(s);
    return true;
  }

  // Under mu. Writes the acknowledged position (temp file + rename) so a restart resumes there.
  void persist_ack() {
    const Segment& front = segments.front();
    unsigned char buf[20];
    store_le64(buf, front.seq);
    store_le64(buf + 8, front.acked_offset);
    store_le32(buf + 16, crc32c({reinterpret_cast<const char*>(buf), 16}));
    fs::path tmp = opt.dir / "ack.tmp";
    File f = open_file(tmp, "wb");
    if (!f || std::fwrite(buf, 1, sizeof buf, f.get()) != sizeof buf) {
      spdlog::warn("spool {}: cannot write acknowledged position", opt.dir.string());
      return;
    }
    if (opt.fsync == FsyncPolicy::kAlways) {
      platform::sync_file(f.get());
    }
    f.reset();
    std::error_code ec;
    fs::rename(tmp, opt.dir / "ack", ec);
  }

  // Under mu. Deletes leading segments that are fully acknowledged (never the active one).
  bool release_finished() {
    bool removed = false;
    while (segments.size() > 1 && segments.front().acked_offset >= segments.front().size) {
      remove_front();
      removed = true;
    }
    return removed;
  }

  // Under mu.
  void remove_front() {
    std::uint64_t seq = segments.front().seq;
    if (reader_seq == seq) {
      reader.reset();
      reader_seq = ~0ULL;
    }
    std::error_code ec;
    fs::remove(segment_path(opt.dir, seq), ec);
    segments.pop_front();
    const Segment& next = segments.front();
    if (read_pos.segment <= seq) read_pos = {next.seq, next.acked_offset};
    while (!in_flight.empty() && in_flight.front().end.segment <= seq) in_flight.pop_front();
  }

  // Under mu, with write_mu held by the caller. Drops the oldest segment to make room.
  void drop_oldest(std::string& error) {
    if (segments.size() == 1) {
      // The only segment is the active one: seal it so it can go.
      mu.unlock();
      commit(true, error);
      start_segment(segments.back().seq + 1, error);
      mu.lock();
    }
    Segment& front = segments.front();
    std::uint64_t lost = front.records - front.acked_records;
    unacked_bytes -= front.size - front.acked_offset;
    counters.dropped += lost;
    spdlog::warn("spool {} full: dropped {} oldest alerts (drop_oldest)", opt.dir.string(), lost);
    remove_front();
    persist_ack();
    space_cv.notify_all();
  }

  std::uint64_t unacked_records_locked() const {
    std::uint64_t n = 0;
    for (const auto& s : segments) n += s.records - s.acked_records;
    return n;
  }
};

Spool::Spool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Spool::~Spool() {
  if (!impl_) return;
  std::lock_guard wlock(impl_->write_mu);
  std::string error;
  impl_->commit(true, error);
}

std::unique_ptr<Spool> Spool::open(const SpoolOptions& options, std::string& error) {
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  if (impl->opt.max_bytes < 4096) impl->opt.max_bytes = 4096;
  impl->segment_limit = options.segment_bytes != 0
                            ? options.segment_bytes
                            : std::min<std::uint64_t>(impl->opt.max_bytes / 8, 16ULL << 20);
  impl->segment_limit = std::max<std::uint64_t>(impl->segment_limit, 1024);
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec || !fs::is_directory(options.dir)) {
    error = "cannot create spool directory " + options.dir.string() + ": " + ec.message();
    return nullptr;
  }

  // The acknowledged position, if a valid one was saved.
  SpoolPosition ack{0, 0};
  bool have_ack = false;
  if (File f = open_file(options.dir / "ack", "rb")) {
    unsigned char buf[20];
    if (std::fread(buf, 1, sizeof buf, f.get()) == sizeof buf &&
        crc32c({reinterpret_cast<const char*>(buf), 16}) == load_le32(buf + 16)) {
      ack = {load_le64(buf), load_le64(buf + 8)};
      have_ack = true;
    }
  }

  std::vector<std::pair<std::uint64_t, fs::path>> files;
  for (const auto& entry : fs::directory_iterator(options.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 24 || !name.ends_with(".seg")) continue;
    char* end = nullptr;
    unsigned long long seq = std::strtoull(name.c_str(), &end, 10);
    if (end != name.c_str() + 20) continue;
    files.emplace_back(seq, entry.path());
  }
  std::sort(files.begin(), files.end());

  std::uint64_t next_seq = have_ack ? ack.segment + 1 : 1;
  for (const auto& [seq, path] : files) {
    next_seq = std::max(next_seq, seq + 1);
    std::uint64_t file_size = fs::file_size(path, ec);
    if (ec) file_size = 0;
    if (have_ack && seq < ack.segment) {  // released before the crash, delete pending
      fs::remove(path, ec);
      continue;
    }
    std::uint64_t probe = have_ack && seq == ack.segment ? ack.offset : 0;
    ScanResult scan = scan_segment(path, file_size, probe);
    if (scan.bad_magic) {
      impl->counters.corrupt_bytes += file_size;
      spdlog::warn("spool: {} is not a spool segment, removed", path.string());
      fs::remove(path, ec);
      continue;
    }
    if (scan.valid_size < file_size) {
      impl->counters.corrupt_bytes += file_size - scan.valid_size;
      spdlog::warn("spool: cut {} torn or corrupt bytes at the end of {}",
                   file_size - scan.valid_size, path.string());
      fs::resize_file(path, scan.valid_size, ec);
    }
    Impl::Segment s;
    s.seq = seq;
    s.size = scan.valid_size;
    s.records = scan.records;
    if (probe != 0) {
      s.acked_records = scan.records_before_probe;
      s.acked_offset = scan.boundary_before_probe;
    }
    s.read_records = s.acked_records;
    if (s.records == s.acked_records) {  // nothing left to deliver in it
      fs::remove(path, ec);
      continue;
    }
    impl->unacked_bytes += s.size - s.acked_offset;
    impl->segments.push_back(s);
  }

  // Recovered segments are never appended to: writing starts in a fresh one.
  std::string start_error;
  {
    std::lock_guard wlock(impl->write_mu);
    if (!impl->start_segment(next_seq, start_error)) {
      error = start_error;
      return nullptr;
    }
  }
  std::lock_guard lock(impl->mu);
  impl->read_pos = {impl->segments.front().seq, impl->segments.front().acked_offset};
  impl->persist_ack();
  return std::unique_ptr<Spool>(new Spool(std::move(impl)));
}

AppendResult Spool::append(std::span<const std::string_view> records,
                           std::chrono::milliseconds wait) {
  std::lock_guard wlock(impl_->write_mu);
  impl_->defer_sync = false;
  return append_locked(records, wait);
}

AppendResult Spool::append_without_sync(std::span<const std::string_view> records,
                                        std::chrono::milliseconds wait) {
  std::lock_guard wlock(impl_->write_mu);
  impl_->defer_sync = impl_->opt.fsync == FsyncPolicy::kBatch;
  AppendResult result = append_locked(records, wait);
  impl_->defer_sync = false;
  return result;
}

bool Spool::sync(std::string& error) {
  Impl& m = *impl_;
  std::lock_guard wlock(m.write_mu);
  if (!m.writer || platform::sync_file(m.writer.get())) {
    m.last_sync = std::chrono::steady_clock::now();
    return true;
  }
  error = "spool fsync failed in " + m.opt.dir.string() + ": " + std::strerror(errno);
  return false;
}

AppendResult Spool::append_locked(std::span<const std::string_view> records,
                                  std::chrono::milliseconds wait) {
  Impl& m = *impl_;
  AppendResult result;
  auto deadline = wait == std::chrono::milliseconds::max()
                      ? std::chrono::steady_clock::time_point::max()
                      : std::chrono::steady_clock::now() + wait;
  // Bytes known to be free without asking again: only this producer adds to the spool, so
  // space seen once stays there, and a batch takes the consumer's lock once, not per record.
  std::uint64_t budget = 0;
  constexpr std::size_t kWriteChunk = 1 << 20;
  for (std::string_view rec : records) {
    const std::uint64_t size = kRecordHeader + rec.size();
    if (rec.empty() || rec.size() > kMaxRecord || size > m.segment_limit ||
        size > m.opt.max_bytes) {
      result.status = AppendStatus::kTooLarge;
      result.error = "record of " + std::to_string(rec.size()) + " bytes does not fit the spool";
      break;
    }
    if (size > budget) {
      std::unique_lock lock(m.mu);
      bool counted_block = false;
      while (m.unacked_bytes + m.pending_bytes + size > m.opt.max_bytes) {
        if (m.closed) {
          result.status = AppendStatus::kClosed;
          break;
        }
        if (m.opt.when_full == FullPolicy::kDropOldest) {
          m.drop_oldest(result.error);
          continue;
        }
        if (m.pending_records > 0) {  // the consumer can only free what it can see
          lock.unlock();
          if (!m.commit(true, result.error)) {
            result.status = AppendStatus::kIoError;
            return result;
          }
          lock.lock();
          continue;
        }
        if (!counted_block) {
          ++m.counters.blocked;
          counted_block = true;
        }
        if (deadline == std::chrono::steady_clock::time_point::max()) {
          m.space_cv.wait(lock);
        } else if (m.space_cv.wait_until(lock, deadline) == std::cv_status::timeout &&
                   m.unacked_bytes + m.pending_bytes + size > m.opt.max_bytes) {
          result.status = AppendStatus::kFull;
          result.error = "spool " + m.opt.dir.string() + " is full";
          break;
        }
      }
      if (result.status != AppendStatus::kOk) break;
      budget = m.opt.max_bytes - (m.unacked_bytes + m.pending_bytes);
    }
    budget -= size;
    if (m.written + size > m.segment_limit && m.written > kSegmentHeader) {
      if (!m.commit(true, result.error)) {
        result.status = AppendStatus::kIoError;
        return result;
      }
      std::uint64_t next;
      {
        std::lock_guard lock(m.mu);
        next = m.segments.back().seq + 1;
      }
      if (!m.start_segment(next, result.error)) {
        result.status = AppendStatus::kIoError;
        return result;
      }
    }
    const std::size_t at = m.buffer.size();
    m.buffer.resize(at + kRecordHeader);
    auto* header = reinterpret_cast<unsigned char*>(m.buffer.data() + at);
    store_le32(header, static_cast<std::uint32_t>(rec.size()));
    store_le32(header + 4, record_crc(header, rec));
    m.buffer.append(rec);
    m.written += size;
    m.pending_bytes += size;
    ++m.pending_records;
    ++result.appended;
    if (m.opt.fsync == FsyncPolicy::kAlways) {
      if (!m.commit(false, result.error)) {
        result.status = AppendStatus::kIoError;
        return result;
      }
    } else if (m.buffer.size() >= kWriteChunk && !m.write_buffer()) {
      result.status = AppendStatus::kIoError;
      result.error = "spool write failed in " + m.opt.dir.string() + ": " + std::strerror(errno);
      return result;
    }
  }
  std::string error;
  // Deferred: readable now (fflush), durable at the caller's sync(). A segment closed on the way
  // was synced by its own commit above, so sync() of the active one covers everything.
  if (!m.commit(!m.defer_sync, error) && result.status == AppendStatus::kOk) {
    result.status = AppendStatus::kIoError;
    result.error = error;
  }
  return result;
}

bool Spool::read(std::vector<SpoolRecord>& out, std::size_t max_records, std::size_t max_bytes,
                 std::chrono::milliseconds wait) {
  Impl& m = *impl_;
  // The records' strings are reused from call to call: no allocation per record once warm.
  std::size_t count = 0;
  std::unique_lock lock(m.mu);
  auto has_data = [&] {
    if (m.closed || m.wake_reader) return true;
    const Impl::Segment* s = m.find(m.read_pos.segment);
    if (!s) return true;  // moved on by a drop; the loop below repositions
    return m.read_pos.offset < s->size || s != &m.segments.back();
  };
  const bool ready = m.data_cv.wait_for(lock, wait, has_data);
  m.wake_reader = false;
  if (!ready) {
    out.clear();
    return false;
  }
  std::size_t bytes = 0;
  while (count < max_records && bytes < max_bytes) {
    Impl::Segment* seg = m.find(m.read_pos.segment);
    if (!seg) {
      const Impl::Segment& front = m.segments.front();
      m.read_pos = {front.seq, front.acked_offset};
      continue;
    }
    if (m.read_pos.offset >= seg->size) {
      if (seg == &m.segments.back()) break;
      const Impl::Segment& next = *(std::find_if(m.segments.begin(), m.segments.end(),
                                                 [&](const auto& s) { return s.seq == seg->seq; }) +
                                    1);
      m.read_pos = {next.seq, kSegmentHeader};
      continue;
    }
    if (m.reader_seq != seg->seq) {
      m.reader = open_file(segment_path(m.opt.dir, seg->seq), "rb");
      // Big reads: stdio's default 4 KiB would mean a read() every few records.
      if (m.reader) std::setvbuf(m.reader.get(), nullptr, _IOFBF, 1 << 18);
      m.reader_seq = m.reader ? seg->seq : ~0ULL;
      m.reader_offset = ~0ULL;
    }
    if (m.reader && m.reader_offset != m.read_pos.offset) {
      if (std::fseek(m.reader.get(), static_cast<long>(m.read_pos.offset), SEEK_SET) != 0) {
        m.reader.reset();
        m.reader_seq = ~0ULL;
      }
      m.reader_offset = m.read_pos.offset;
    }
    if (count == out.size()) out.emplace_back();
    SpoolRecord& rec = out[count];
    int r = m.reader ? read_record(m.reader.get(), m.read_pos.offset, seg->size, rec.data) : -1;
    if (r != 1) {
      // Damaged under our feet (disk error): the rest of this segment is lost; say so.
      std::uint64_t lost_records = seg->records - seg->read_records;
      m.counters.corrupt_bytes += seg->size - m.read_pos.offset;
      spdlog::error("spool {}: unreadable record in segment {} at {}, skipped {} records",
                    m.opt.dir.string(), seg->seq, m.read_pos.offset, lost_records);
      m.unacked_bytes -= seg->size - m.read_pos.offset;
      seg->size = m.read_pos.offset;
      seg->records = seg->read_records;
      m.reader.reset();
      m.reader_seq = ~0ULL;
      if (seg == &m.segments.back()) break;
      continue;
    }
    SpoolPosition start = m.read_pos;
    m.read_pos.offset += kRecordHeader + rec.data.size();
    m.reader_offset = m.read_pos.offset;
    ++seg->read_records;
    rec.end = m.read_pos;
    bytes += rec.data.size();
    m.in_flight.push_back({start, rec.end});
    ++count;
  }
  out.resize(count);
  return count > 0;
}

std::size_t Spool::acknowledge(SpoolPosition upto) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  std::size_t released = 0;
  while (!m.in_flight.empty() && m.in_flight.front().end <= upto) {
    const auto& r = m.in_flight.front();
    if (Impl::Segment* seg = m.find(r.end.segment)) {
      seg->acked_records++;
      m.unacked_bytes -= r.end.offset - seg->acked_offset;
      seg->acked_offset = r.end.offset;
      ++released;
    }
    m.in_flight.pop_front();
  }
  if (released == 0) return 0;
  m.counters.acknowledged += released;
  m.release_finished();
  m.persist_ack();
  m.space_cv.notify_all();
  return released;
}

void Spool::rewind() {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  m.in_flight.clear();
  for (auto& s : m.segments) s.read_records = s.acked_records;
  m.read_pos = {m.segments.front().seq, m.segments.front().acked_offset};
}

void Spool::wake_reader() {
  std::lock_guard lock(impl_->mu);
  impl_->wake_reader = true;
  impl_->data_cv.notify_all();
}

void Spool::close() {
  std::lock_guard lock(impl_->mu);
  impl_->closed = true;
  impl_->data_cv.notify_all();
  impl_->space_cv.notify_all();
}

bool Spool::wait_drained(std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  std::unique_lock lock(m.mu);
  return m.space_cv.wait_for(lock, timeout, [&] { return m.unacked_records_locked() == 0; });
}

SpoolStats Spool::stats() const {
  std::lock_guard lock(impl_->mu);
  SpoolStats s = impl_->counters;
  s.records = impl_->unacked_records_locked();
  s.bytes = impl_->unacked_bytes;
  return s;
}

const std::filesystem::path& Spool::directory() const {
  return impl_->opt.dir;
}

}  // namespace sw::forward
