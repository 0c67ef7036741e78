// Opening a spool: the acknowledged position from `ack`, then every segment mapped frame by
// frame. A torn tail of the segment last written (a crash mid-append) is cut: nothing there was
// ever confirmed to a producer. Any other damage, and any missing segment, is a loss: the record
// numbers on both sides of it say how many records it took, and it is reported.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "forward/spool/spool_impl.hpp"
#include "platform/fsync.hpp"

namespace sw::forward {

namespace fs = std::filesystem;
using spool_detail::AckState;
using spool_detail::File;
using spool_detail::segment_path;
using spool_file::kSegmentHeader;

namespace spool_detail {

namespace {

constexpr std::string_view kAckMagic = "SWSPACK2";
constexpr std::size_t kAckSize = 8 + 4 * 8 + 4;
constexpr std::size_t kAckSizeV1 = 20;  // u64 segment | u64 offset | u32 CRC32C

}  // namespace

std::string encode_ack(const AckState& ack) {
  unsigned char buf[kAckSize];
  std::memcpy(buf, kAckMagic.data(), kAckMagic.size());
  spool_file::store_le64(buf + 8, ack.position.segment);
  spool_file::store_le64(buf + 16, ack.position.offset);
  spool_file::store_le64(buf + 24, ack.next_deliver);
  spool_file::store_le64(buf + 32, ack.next_write);
  spool_file::store_le32(buf + 40, crc32c(spool_file::bytes(buf, 40)));
  return std::string(reinterpret_cast<const char*>(buf), sizeof buf);
}

std::optional<AckState> load_ack(const fs::path& path) {
  File f = open_for_reading(path);
  unsigned char buf[kAckSize + 1];
  const std::size_t n = f ? std::fread(buf, 1, sizeof buf, f.get()) : 0;
  using spool_file::load_le32;
  using spool_file::load_le64;
  if (n == kAckSize && spool_file::bytes(buf, 8) == kAckMagic &&
      crc32c(spool_file::bytes(buf, 40)) == load_le32(buf + 40)) {
    return AckState{
        {load_le64(buf + 8), load_le64(buf + 16)}, load_le64(buf + 24), load_le64(buf + 32)};
  }
  if (n == kAckSizeV1 && crc32c(spool_file::bytes(buf, 16)) == load_le32(buf + 16)) {
    return AckState{{load_le64(buf), load_le64(buf + 8)}, 0, 0};
  }
  return std::nullopt;
}

}  // namespace spool_detail

namespace {

std::vector<std::pair<std::uint64_t, fs::path>> list_segments(const fs::path& dir) {
  std::vector<std::pair<std::uint64_t, fs::path>> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 24 || !name.ends_with(".seg")) continue;
    char* end = nullptr;
    const unsigned long long seq = std::strtoull(name.c_str(), &end, 10);
    if (end != name.c_str() + 20) continue;
    files.emplace_back(seq, entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Walks the segments in order and accounts for every record number.
class Recovery {
 public:
  Recovery(Spool::Impl& m, std::optional<AckState> ack) : m_(m), ack_(ack) {
    if (ack_) {
      expected_number_ = ack_->next_deliver;
      expected_seq_ = ack_->position.segment;
    }
  }

  void add(std::uint64_t seq, const fs::path& path, bool last) {
    next_seq_ = std::max(next_seq_, seq + 1);
    std::error_code ec;
    if (ack_ && seq < ack_->position.segment) {  // released before the crash, delete pending
      fs::remove(path, ec);
      return;
    }
    note_missing_segments(seq);
    expected_seq_ = seq + 1;
    std::uint64_t file_size = fs::file_size(path, ec);
    if (ec) file_size = 0;
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
    File f = spool_detail::open_for_reading(path);
    if (!f) {
      spdlog::error("spool: cannot read {}: {}; left in place", path.string(),
                    std::strerror(errno));
      return;
    }
    const std::optional<spool_file::Version> version = spool_file::read_segment_header(f.get());
    const std::uint64_t probe = ack_ && seq == ack_->position.segment ? ack_->position.offset : 0;
    // A damaged magic does not make the frames after it unreadable.
    spool_file::SegmentMap map = spool_file::map_segment(
        f.get(), version.value_or(spool_file::Version::kV2), kSegmentHeader, file_size, probe);
    f.reset();
    if (last) treat_trailing_damage_as_torn(map);
    if (!version && map.frames == 0) {
      m_.counters.corrupt_bytes += file_size;
      spdlog::warn("spool: {} is not a spool segment, removed", path.string());
      fs::remove(path, ec);
      return;
    }
    walk(map, seq, path, probe);
    if (map.end < file_size) cut_tail(path, map.end, file_size, last);
    keep(map, seq, version.value_or(spool_file::Version::kV2));
  }

  // After the last segment: damage with no record after it to measure it by.
  void finish() {
    if (ack_ && expected_seq_ <= ack_->position.segment) {
      // The segment holding the acknowledged position and everything after it is gone.
      pending_.push_back(
          {"segment_missing", segment_path(m_.opt.dir, ack_->position.segment), 0, 0, 0, true});
    }
    if (!pending_.empty()) {
      std::optional<std::uint64_t> count;
      const std::uint64_t damaged = damaged_frames();
      // `ack` was last saved at a new segment, an acknowledgement or a clean close: records
      // numbered up to its next_write existed then. What came after cannot be counted.
      if (expected_number_ != 0 && ack_ && ack_->next_write >= expected_number_) {
        count = std::max(damaged, ack_->next_write - expected_number_);
      } else if (damaged > 0) {
        count = damaged;
      }
      if (count == 0) {
        spdlog::warn(
            "spool {}: {} is missing; no alert was waiting in it when the spool last "
            "saved its position",
            m_.opt.dir.string(), pending_.front().file.string());
      }
      report(count, count ? expected_number_ : 0, count ? expected_number_ + *count - 1 : 0);
    }
    m_.next_number = std::max<std::uint64_t>(
        {max_number_ + 1, 1, ack_ ? ack_->next_write : 0, ack_ ? ack_->next_deliver : 0});
    m_.published_next = m_.next_number;
  }

  std::uint64_t next_seq() const { return next_seq_; }
  // Segments left with nothing to deliver: deleted once the new `ack` no longer names them.
  const std::vector<fs::path>& finished() const { return finished_; }

 private:
  struct Damage {
    std::string cause;
    fs::path file;
    std::uint64_t bytes = 0;
    std::uint64_t damaged_frames = 0;
    std::uint64_t first_damaged = 0;
    bool after_ack = true;  // past the acknowledged position: whatever it held was not delivered
  };

  void note_missing_segments(std::uint64_t seq) {
    if (expected_seq_ == 0) return;
    for (std::uint64_t s = expected_seq_; s < seq && s < expected_seq_ + 1000; ++s) {
      pending_.push_back({"segment_missing", segment_path(m_.opt.dir, s), 0, 0, 0, true});
    }
  }

  void walk(const spool_file::SegmentMap& map, std::uint64_t seq, const fs::path& path,
            std::uint64_t probe) {
    for (const auto& item : map.items) {
      if (!item.is_hole) {
        arrive(item.run);
        continue;
      }
      const spool_file::Hole& h = map.holes[item.hole];
      const bool after_ack = !ack_ || seq > ack_->position.segment || h.from >= probe;
      pending_.push_back(
          {"damaged", path, h.to - h.from, h.damaged_frames, h.first_damaged, after_ack});
    }
  }

  // An intact run of records: any number skipped since the last one was lost on the way.
  void arrive(const spool_file::SegmentMap::Run& run) {
    if (run.first_number == 0) {  // v1: no numbers to tell by
      if (!pending_.empty())
        report(damaged_frames() ? std::optional(damaged_frames()) : std::nullopt, 0, 0);
      expected_number_ = 0;
      return;
    }
    if (expected_number_ != 0 && run.first_number > expected_number_) {
      report(run.first_number - expected_number_, expected_number_, run.first_number - 1);
    } else if (expected_number_ == 0 && !pending_.empty()) {
      // Nothing to measure by (no numbers in `ack`): what the damage itself shows.
      const std::uint64_t damaged = damaged_frames();
      if (damaged > 0) {
        report(damaged, pending_first_damaged(), 0);
      } else if (std::any_of(pending_.begin(), pending_.end(),
                             [](const Damage& d) { return d.after_ack; })) {
        report(std::nullopt, 0, 0);
      }
    }
    pending_.clear();
    expected_number_ = std::max(expected_number_, run.last_number + 1);
    max_number_ = std::max(max_number_, run.last_number);
  }

  std::uint64_t damaged_frames() const {
    std::uint64_t n = 0;
    for (const auto& d : pending_) n += d.damaged_frames;
    return n;
  }
  std::uint64_t pending_first_damaged() const {
    for (const auto& d : pending_)
      if (d.damaged_frames > 0) return d.first_damaged;
    return 0;
  }

  // One loss for the damage seen since the last intact record.
  void report(std::optional<std::uint64_t> count, std::uint64_t from, std::uint64_t to) {
    if (pending_.empty()) {
      pending_.push_back({"damaged", {}, 0, 0, 0, true});  // numbers skipped, nothing else seen
    }
    SpoolLoss loss;
    loss.cause = pending_.front().cause;
    loss.file = pending_.front().file;
    for (const auto& d : pending_) loss.bytes += d.bytes;
    loss.from = from;
    loss.to = to;
    loss.count = count;
    if (loss.count == 0) {
      pending_.clear();
      return;
    }
    m_.report_loss(std::move(loss));
    pending_.clear();
  }

  // In the segment written last, damaged frames with nothing intact after them are what a crash
  // mid-append leaves (a file extended before its data reached the disk reads back as zeros):
  // never confirmed to a producer, so cut like any torn tail, not counted as lost.
  static void treat_trailing_damage_as_torn(spool_file::SegmentMap& map) {
    if (map.items.empty() || !map.items.back().is_hole) return;
    map.end = map.holes.back().from;
    map.holes.pop_back();
    map.items.pop_back();
  }

  // Bytes after the last intact frame: a torn write in the last segment, damage elsewhere.
  void cut_tail(const fs::path& path, std::uint64_t end, std::uint64_t file_size, bool last) {
    if (last) {
      m_.counters.corrupt_bytes += file_size - end;
      spdlog::warn("spool: cut {} torn bytes at the end of {} (an append a crash interrupted)",
                   file_size - end, path.string());
    } else {
      pending_.push_back({"damaged", path, file_size - end, 0, 0, true});
    }
    std::error_code ec;
    fs::resize_file(path, end, ec);
  }

  void keep(const spool_file::SegmentMap& map, std::uint64_t seq, spool_file::Version version) {
    Spool::Impl::Segment s;
    s.seq = seq;
    s.version = version;
    s.size = map.end;
    s.records = map.frames;
    s.holes = map.holes;
    for (const auto& item : map.items) {
      if (!item.is_hole) {
        s.first_number = item.run.first_number;
        break;
      }
    }
    s.acked_records = map.frames_before_probe;
    s.acked_offset = map.boundary_before_probe;
    s.acked_number = map.number_before_probe;
    s.read_records = s.acked_records;
    if (s.records == s.acked_records) {
      finished_.push_back(segment_path(m_.opt.dir, seq));
      return;
    }
    m_.unacked_bytes += s.size - s.acked_offset;
    m_.segments.push_back(std::move(s));
  }

  Spool::Impl& m_;
  std::optional<AckState> ack_;
  std::uint64_t expected_number_ = 0;  // the next record number to see (0: unknown)
  std::uint64_t expected_seq_ = 0;     // the next segment to see (0: unknown)
  std::uint64_t max_number_ = 0;
  std::uint64_t next_seq_ = 1;
  std::vector<Damage> pending_;  // damage since the last intact record
  std::vector<fs::path> finished_;
};

}  // namespace

std::unique_ptr<Spool> Spool::open(const SpoolOptions& options, std::string& error) {
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  if (impl->opt.max_bytes < 4096) impl->opt.max_bytes = 4096;
  impl->segment_limit = options.segment_bytes != 0
                            ? options.segment_bytes
                            : std::min<std::uint64_t>(impl->opt.max_bytes / 8, 16ULL << 20);
  impl->segment_limit = std::max<std::uint64_t>(impl->segment_limit, 1024);
  std::error_code ec;
  if (!platform::make_private_directories(options.dir, ec)) {
    error = "cannot create spool directory " + options.dir.string() + ": " + ec.message();
    return nullptr;
  }

  const auto ack = spool_detail::load_ack(options.dir / "ack");
  Recovery recovery(*impl, ack);
  const auto files = list_segments(options.dir);
  for (std::size_t i = 0; i < files.size(); ++i) {
    recovery.add(files[i].first, files[i].second, i + 1 == files.size());
  }
  recovery.finish();

  // Recovered segments are never appended to: writing starts in a fresh one.
  std::string start_error;
  {
    std::lock_guard wlock(impl->write_mu);
    if (!impl->start_segment(recovery.next_seq(), start_error)) {
      error = start_error;
      return nullptr;
    }
  }
  std::lock_guard lock(impl->mu);
  impl->read_pos = {impl->segments.front().seq, impl->segments.front().acked_offset};
  impl->persist_ack();
  for (const fs::path& done : recovery.finished()) fs::remove(done, ec);
  return std::unique_ptr<Spool>(new Spool(std::move(impl)));
}

}  // namespace sw::forward
