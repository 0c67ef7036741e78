// The spool's operations: append (producer), read / acknowledge / rewind (consumer). Opening
// and recovery are in recovery.cpp; the on-disk format in frame.cpp.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "forward/spool/spool_impl.hpp"
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

namespace spool_detail {

File open_for_reading(const fs::path& p) {
  File f(platform::open_for_reading(p));
  // Big reads: stdio's default 4 KiB would mean a read() every few records.
  if (f) std::setvbuf(f.get(), nullptr, _IOFBF, 1 << 18);
  return f;
}

fs::path segment_path(const fs::path& dir, std::uint64_t seq) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(seq));
  return dir / name;
}

}  // namespace spool_detail

using spool_detail::File;
using spool_detail::segment_path;
using spool_file::kSegmentHeader;

namespace {

std::string errno_text(const char* what, const fs::path& where, int error) {
  return std::string(what) + " " + where.string() + ": " + std::strerror(error);
}

std::string describe_count(const std::optional<std::uint64_t>& count) {
  return count ? std::to_string(*count) : std::string("an unknown number of");
}

}  // namespace

// ---------------------------------------------------------------- producer side

bool Spool::Impl::write_to_file(std::string_view data, std::string& error) {
  errno = 0;
  const std::size_t n = opt.write_file ? opt.write_file(writer.get(), data.data(), data.size())
                                       : std::fwrite(data.data(), 1, data.size(), writer.get());
  if (n == data.size()) return true;
  error = errno_text("spool write failed in", opt.dir, errno != 0 ? errno : EIO);
  return false;
}

bool Spool::Impl::write_buffer(std::string& error) {
  if (buffer.empty()) return true;
  const bool ok = write_to_file(buffer, error);
  buffer.clear();
  return ok;
}

bool Spool::Impl::sync_needed(bool end_of_batch) {
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

// Makes what was written readable (and durable per policy); `published` counts the records.
bool Spool::Impl::commit(bool end_of_batch, std::size_t& published, std::string& error) {
  if (pending_records == 0) return true;
  if (!write_buffer(error)) return false;
  const bool sync = sync_needed(end_of_batch);
  if (sync ? !platform::sync_file(writer.get()) : std::fflush(writer.get()) != 0) {
    error = errno_text("spool write failed in", opt.dir, errno);
    return false;
  }
  if (sync) last_sync = std::chrono::steady_clock::now();
  std::lock_guard lock(mu);
  Segment& active = segments.back();
  active.size = written;
  active.records += pending_records;
  unacked_bytes += pending_bytes;
  counters.appended += pending_records;
  published_next = next_number;
  published += pending_records;
  pending_records = 0;
  pending_bytes = 0;
  data_cv.notify_all();
  return true;
}

// Forgets what was written since the last commit: the file is cut back to its committed size, so
// neither the reader nor a restart ever sees a record of a failed write.
void Spool::Impl::rollback() {
  buffer.clear();
  next_number -= pending_records;
  pending_records = 0;
  pending_bytes = 0;
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(mu);
    written = segments.back().size;
    seq = segments.back().seq;
  }
  if (writer && !platform::truncate_file(writer.get(), written)) {
    spdlog::error("spool {}: cannot cut a failed write off segment {}: {}; continuing in a new one",
                  opt.dir.string(), seq, std::strerror(errno));
    writer_broken = true;
  }
}

void Spool::Impl::count_write_error() {
  std::lock_guard lock(mu);
  ++counters.write_errors;
}

// Starts segment `seq` as the active one.
bool Spool::Impl::start_segment(std::uint64_t seq, std::string& error) {
  const fs::path p = segment_path(opt.dir, seq);
  File f(platform::open_private_file(p, /*append=*/false));
  if (!f) {
    error = errno_text("cannot create spool segment", p, errno);
    return false;
  }
  std::swap(f, writer);  // the header goes through the same (test-replaceable) writes
  const bool ok = write_to_file(spool_file::kMagicV2, error) &&
                  (opt.fsync == FsyncPolicy::kNever ? std::fflush(writer.get()) == 0
                                                    : platform::sync_file(writer.get()));
  if (!ok) {
    if (error.empty()) error = errno_text("cannot create spool segment", p, errno);
    std::swap(f, writer);
    f.reset();
    std::error_code ec;
    fs::remove(p, ec);
    return false;
  }
  if (opt.fsync != FsyncPolicy::kNever) platform::sync_directory(opt.dir);
  written = kSegmentHeader;
  writer_broken = false;
  std::lock_guard lock(mu);
  Segment s;
  s.seq = seq;
  s.first_number = next_number;
  segments.push_back(s);
  persist_ack();  // keeps the numbers in `ack` fresh: a missing segment can then be measured
  return true;
}

bool Spool::Impl::roll_segment(std::string& error) {
  std::uint64_t next;
  {
    std::lock_guard lock(mu);
    next = segments.back().seq + 1;
  }
  return start_segment(next, error);
}

void Spool::Impl::add_frame(std::string_view record) {
  spool_file::append_frame(buffer, next_number++, record);
  const std::uint64_t size = spool_file::frame_size(record.size());
  written += size;
  pending_bytes += size;
  ++pending_records;
}

// ---------------------------------------------------------------- consumer side

Spool::Impl::Segment* Spool::Impl::find(std::uint64_t seq) {
  for (auto& s : segments)
    if (s.seq == seq) return &s;
  return nullptr;
}

std::uint64_t Spool::Impl::unacked_records_locked() const {
  std::uint64_t n = 0;
  for (const auto& s : segments) n += s.records - s.acked_records;
  return n;
}

std::uint64_t Spool::Impl::next_deliver_number() const {
  const Segment& front = segments.front();
  return front.acked_number != 0 ? front.acked_number + 1 : front.first_number;
}

// Writes the acknowledged position (temp file + rename) so a restart resumes there.
void Spool::Impl::persist_ack() {
  const Segment& front = segments.front();
  const std::string data = spool_detail::encode_ack(
      {{front.seq, front.acked_offset}, next_deliver_number(), published_next});
  const fs::path tmp = opt.dir / "ack.tmp";
  File f(platform::open_private_file(tmp, /*append=*/false));
  std::error_code ec;
  const bool written = f && std::fwrite(data.data(), 1, data.size(), f.get()) == data.size() &&
                       (opt.fsync != FsyncPolicy::kAlways || platform::sync_file(f.get()));
  const int write_errno = errno;
  f.reset();
  if (written) fs::rename(tmp, opt.dir / "ack", ec);
  // A stale `ack` means redelivery after a restart, not loss: said once per spell, not per batch.
  if (!written || ec) {
    const auto now = std::chrono::steady_clock::now();
    if (!ack_write_failing && now - ack_warned_at >= std::chrono::minutes(1)) {
      ack_warned_at = now;
      spdlog::warn(
          "spool {}: cannot save the acknowledged position ({}); a restart would "
          "deliver some alerts again",
          opt.dir.string(), ec ? ec.message() : std::string(std::strerror(write_errno)));
    }
    ack_write_failing = true;
    fs::remove(tmp, ec);
  } else {
    ack_write_failing = false;
  }
}

// Forgets leading segments that are fully acknowledged (never the active one), saves the new
// position, then deletes their files: in that order a crash in between leaves a file too many
// (deleted at the next open), never an `ack` naming a segment that is gone.
void Spool::Impl::release_finished() {
  std::vector<std::uint64_t> released;
  while (segments.size() > 1 && segments.front().acked_records >= segments.front().records) {
    released.push_back(forget_front());
  }
  persist_ack();
  std::error_code ec;
  for (std::uint64_t seq : released) fs::remove(segment_path(opt.dir, seq), ec);
}

std::uint64_t Spool::Impl::forget_front() {
  const Segment& front = segments.front();
  const std::uint64_t seq = front.seq;
  unacked_bytes -= front.size - front.acked_offset;
  if (reader_seq == seq) {
    reader.reset();
    reader_seq = ~0ULL;
  }
  segments.pop_front();
  const Segment& next = segments.front();
  if (read_pos.segment <= seq) read_pos = {next.seq, next.acked_offset};
  while (!in_flight.empty() && in_flight.front().end.segment <= seq) in_flight.pop_front();
  return seq;
}

// Drops the oldest segment to make room (write_mu held, `lock` on mu).
bool Spool::Impl::drop_oldest(std::unique_lock<std::mutex>& lock, std::size_t& published,
                              std::string& error) {
  if (segments.size() == 1) {
    // The only segment is the active one: seal it so it can go.
    lock.unlock();
    const bool sealed = commit(true, published, error) && roll_segment(error);
    lock.lock();
    if (!sealed) return false;
  }
  const Segment& front = segments.front();
  const std::uint64_t lost = front.records - front.acked_records;
  counters.dropped += lost;
  spdlog::warn("spool {} full: dropped {} oldest alerts (drop_oldest)", opt.dir.string(), lost);
  const std::uint64_t seq = forget_front();
  persist_ack();
  std::error_code ec;
  fs::remove(segment_path(opt.dir, seq), ec);
  space_cv.notify_all();
  return true;
}

void Spool::Impl::report_loss(SpoolLoss loss) {
  if (loss.count) {
    counters.lost += *loss.count;
  } else {
    ++counters.lost_unknown;
  }
  counters.corrupt_bytes += loss.bytes;
  std::string where = loss.cause == "segment_missing"
                          ? "segment " + loss.file.string() + " is missing"
                          : "damaged data in " + loss.file.string() + " (" +
                                std::to_string(loss.bytes) + " bytes skipped)";
  if (loss.from != 0) {
    where += ", records " + std::to_string(loss.from) + ".." +
             (loss.to != 0 ? std::to_string(loss.to) : std::string("?"));
  }
  spdlog::error("spool {}: {} alerts lost: {}", opt.dir.string(), describe_count(loss.count),
                where);
  constexpr std::size_t kMaxKept = 64;  // beyond that (a wrecked disk) one report grows
  if (losses.size() < kMaxKept) {
    losses.push_back(std::move(loss));
    return;
  }
  SpoolLoss& last = losses.back();
  last.count = last.count && loss.count ? std::optional(*last.count + *loss.count) : std::nullopt;
  last.bytes += loss.bytes;
  last.to = loss.to;
}

const spool_file::Hole* Spool::Impl::hole_at(const Segment& seg, std::uint64_t offset) const {
  for (const auto& h : seg.holes)
    if (h.from == offset) return &h;
  return nullptr;
}

// A frame the reader hit is damaged (the disk changed under us): maps the rest of the segment,
// takes the lost records off and reports them. False when nothing is damaged after all.
bool Spool::Impl::remap_damaged(Segment& seg) {
  reader.reset();
  reader_seq = ~0ULL;
  const fs::path path = segment_path(opt.dir, seg.seq);
  File f = spool_detail::open_for_reading(path);
  if (!f) return false;
  spool_file::SegmentMap map =
      spool_file::map_segment(f.get(), seg.version, read_pos.offset, seg.size);
  if (map.end < seg.size) map.holes.push_back({map.end, seg.size, 0, 0});  // no tail mid-spool
  if (map.holes.empty() || map.holes.front().from != read_pos.offset) return false;
  const std::uint64_t expected = seg.records - seg.read_records;
  const std::uint64_t lost = expected > map.frames ? expected - map.frames : 0;
  std::uint64_t bytes = 0;
  for (const auto& h : map.holes) {
    bytes += h.to - h.from;
    seg.holes.push_back(h);
  }
  seg.records = seg.read_records + map.frames;
  SpoolLoss loss;
  loss.cause = "damaged";
  loss.file = path;
  loss.count = lost;
  loss.bytes = bytes;
  report_loss(std::move(loss));
  return true;
}

// ---------------------------------------------------------------- Spool

Spool::Spool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Spool::~Spool() {
  if (!impl_) return;
  std::lock_guard wlock(impl_->write_mu);
  std::string error;
  std::size_t published = 0;
  if (!impl_->commit(true, published, error)) impl_->rollback();
  std::lock_guard lock(impl_->mu);
  impl_->persist_ack();  // a clean close leaves exact numbers
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
  std::FILE* file = m.writer.get();
  if (!file || (m.opt.sync_file ? m.opt.sync_file(file) : platform::sync_file(file))) {
    m.last_sync = std::chrono::steady_clock::now();
    return true;
  }
  error = errno_text("spool fsync failed in", m.opt.dir, errno);
  m.count_write_error();
  return false;
}

AppendResult Spool::append_locked(std::span<const std::string_view> records,
                                  std::chrono::milliseconds wait) {
  Impl& m = *impl_;
  AppendResult result;
  std::size_t published = 0;  // records of this call made readable
  auto failed = [&](std::string error) {
    m.rollback();
    m.count_write_error();
    result.status = AppendStatus::kIoError;
    result.error = std::move(error);
    result.appended = published;
    return result;
  };
  std::string error;
  if (m.writer_broken && !m.roll_segment(error)) return failed(error);
  auto deadline = wait == std::chrono::milliseconds::max()
                      ? std::chrono::steady_clock::time_point::max()
                      : std::chrono::steady_clock::now() + wait;
  // Bytes known to be free without asking again: only this producer adds to the spool, so
  // space seen once stays there, and a batch takes the consumer's lock once, not per record.
  std::uint64_t budget = 0;
  constexpr std::size_t kWriteChunk = 1 << 20;
  for (std::string_view rec : records) {
    const std::uint64_t size = spool_file::frame_size(rec.size());
    if (rec.empty() || rec.size() > spool_file::kMaxRecord || size > m.segment_limit ||
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
          if (!m.drop_oldest(lock, published, error)) {
            lock.unlock();
            return failed(error);
          }
          continue;
        }
        if (m.pending_records > 0) {  // the consumer can only free what it can see
          lock.unlock();
          if (!m.commit(true, published, error)) return failed(error);
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
      if (!m.commit(true, published, error) || !m.roll_segment(error)) return failed(error);
    }
    m.add_frame(rec);
    if (m.opt.fsync == FsyncPolicy::kAlways) {
      if (!m.commit(false, published, error)) return failed(error);
    } else if (m.buffer.size() >= kWriteChunk && !m.write_buffer(error)) {
      return failed(error);
    }
  }
  // Deferred: readable now (fflush), durable at the caller's sync(). A segment closed on the way
  // was synced by its own commit above, so sync() of the active one covers everything.
  if (!m.commit(!m.defer_sync, published, error)) return failed(error);
  result.appended = published;
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
  spool_file::Frame frame;
  while (count < max_records && bytes < max_bytes) {
    Impl::Segment* seg = m.find(m.read_pos.segment);
    if (!seg) {
      const Impl::Segment& front = m.segments.front();
      m.read_pos = {front.seq, front.acked_offset};
      continue;
    }
    if (const spool_file::Hole* hole = m.hole_at(*seg, m.read_pos.offset)) {
      m.read_pos.offset = hole->to;
      continue;
    }
    if (m.read_pos.offset >= seg->size) {
      if (seg == &m.segments.back()) break;
      const auto at = std::find_if(m.segments.begin(), m.segments.end(),
                                   [&](const auto& s) { return s.seq == seg->seq; });
      m.read_pos = {(at + 1)->seq, kSegmentHeader};
      continue;
    }
    if (m.reader_seq != seg->seq) {
      m.reader = spool_detail::open_for_reading(segment_path(m.opt.dir, seg->seq));
      m.reader_seq = m.reader ? seg->seq : ~0ULL;
      m.reader_offset = ~0ULL;
    }
    if (m.reader && m.reader_offset != m.read_pos.offset) {
      if (!platform::seek_file(m.reader.get(), m.read_pos.offset)) {
        m.reader.reset();
        m.reader_seq = ~0ULL;
      }
      m.reader_offset = m.read_pos.offset;
    }
    if (count == out.size()) out.emplace_back();
    SpoolRecord& rec = out[count];
    const auto status = m.reader
                            ? spool_file::read_frame(m.reader.get(), seg->version,
                                                     m.read_pos.offset, seg->size, rec.data, frame)
                            : spool_file::ReadStatus::kDamaged;
    if (status != spool_file::ReadStatus::kFrame) {
      if (m.remap_damaged(*seg)) continue;
      break;  // unreadable for now (an I/O error, not damage): the next read tries again
    }
    m.read_pos.offset = frame.end;
    m.reader_offset = frame.end;
    ++seg->read_records;
    rec.end = m.read_pos;
    bytes += rec.data.size();
    m.in_flight.push_back({rec.end, frame.number});
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
      seg->acked_number = r.number;
      ++released;
    }
    m.in_flight.pop_front();
  }
  if (released == 0) return 0;
  m.counters.acknowledged += released;
  m.release_finished();  // saves the position
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

std::vector<SpoolLoss> Spool::take_losses() {
  std::lock_guard lock(impl_->mu);
  return std::exchange(impl_->losses, {});
}

const std::filesystem::path& Spool::directory() const {
  return impl_->opt.dir;
}

}  // namespace sw::forward
