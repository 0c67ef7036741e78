// The per-output disk spool: alerts wait here, durably, until their collector confirmed them.
//
// Layout: one directory per output (mode 0700) holding append-only segment files
// (<20-digit seq>.seg, mode 0600) and an `ack` file with the position up to which the collector
// confirmed. Every record is a frame with its own magic, record number and CRC32C
// (agent/forward/spool/frame.hpp), so a torn tail after a crash is cut, and a damaged frame
// anywhere costs that frame only: reading resumes at the next intact one, and the record numbers
// say how many records the damage (or a deleted segment) took. Such losses are counted, logged
// and handed out by take_losses().
//
// One producer thread (or several, serialized inside) appends; one consumer thread reads,
// acknowledges and may rewind to the acknowledged position after a delivery failure. An append
// the disk refuses (full, I/O error) leaves nothing behind: no record of it becomes readable or
// counted, and the bytes it wrote are cut away.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sw::forward {

enum class FsyncPolicy { kAlways, kBatch, kNever, kInterval };
enum class FullPolicy { kBlock, kDropOldest };

std::string_view to_string(FsyncPolicy p);
bool parse_fsync_policy(std::string_view s, FsyncPolicy& out);
std::string_view to_string(FullPolicy p);
bool parse_full_policy(std::string_view s, FullPolicy& out);

struct SpoolOptions {
  std::filesystem::path dir;
  std::uint64_t max_bytes = 256ULL << 20;  // unacknowledged bytes kept at most
  std::uint64_t segment_bytes = 0;         // 0: max_bytes / 8, capped at 16 MiB
  FsyncPolicy fsync = FsyncPolicy::kBatch;
  std::chrono::milliseconds fsync_interval{1000};  // for kInterval
  FullPolicy when_full = FullPolicy::kBlock;
  // Test seam: when set, every write to a segment file goes through it instead of std::fwrite
  // (a test makes it fail like a full disk: write a part, set errno, return the count written).
  std::function<std::size_t(std::FILE*, const char*, std::size_t)> write_file;
  // Test seam: when set, sync() calls it instead of the OS's fsync (a test makes one fail as a
  // failing disk would: set errno, return false).
  std::function<bool(std::FILE*)> sync_file;
};

// A place in the spool: segment sequence number and byte offset; ordered.
struct SpoolPosition {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): the check misreads the defaulted comparison
  auto operator<=>(const SpoolPosition&) const = default;
};

struct SpoolRecord {
  std::string data;
  SpoolPosition end;  // acknowledge up to here to release this record (and all before it)
};

struct SpoolStats {
  std::uint64_t records = 0;        // unacknowledged records on disk
  std::uint64_t bytes = 0;          // unacknowledged bytes on disk (with record headers)
  std::uint64_t appended = 0;       // since open
  std::uint64_t acknowledged = 0;   // since open
  std::uint64_t dropped = 0;        // by drop_oldest, since open
  std::uint64_t corrupt_bytes = 0;  // cut at open or skipped while reading, since open
  std::uint64_t blocked = 0;        // appends that had to wait for space (kBlock)
  std::uint64_t write_errors = 0;   // appends (or syncs) the disk refused, since open
  std::uint64_t lost = 0;           // records lost to damaged or missing files, since open
  std::uint64_t lost_unknown = 0;   // losses whose record count could not be told, since open
};

// Records the spool could not deliver because its files were damaged or removed behind its back.
struct SpoolLoss {
  std::string cause;                   // "damaged" | "segment_missing"
  std::filesystem::path file;          // the segment concerned
  std::uint64_t from = 0;              // first record number lost (0: unknown)
  std::uint64_t to = 0;                // last record number lost (0: unknown)
  std::optional<std::uint64_t> count;  // records lost; nullopt when it cannot be told
  std::uint64_t bytes = 0;             // damaged bytes skipped
};

enum class AppendStatus { kOk, kFull, kTooLarge, kClosed, kIoError };

struct AppendResult {
  AppendStatus status = AppendStatus::kOk;
  std::size_t appended = 0;  // records of the call now in the spool (a prefix)
  std::string error;
};

class Spool {
 public:
  // Opens (creating the directory if needed) and recovers: torn or corrupt tails are cut, the
  // acknowledged position is restored. nullopt and `error` set when the directory is unusable.
  static std::unique_ptr<Spool> open(const SpoolOptions& options, std::string& error);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends records and makes them durable per the fsync policy before returning; `appended` is
  // the prefix that made it (kIoError: the disk refused the rest, which left no trace). When the
  // spool is full: kBlock waits up to `wait` for the consumer to free space (then kFull with a
  // prefix appended); kDropOldest releases the oldest segment, counted in stats().dropped.
  AppendResult append(std::span<const std::string_view> records,
                      std::chrono::milliseconds wait = std::chrono::milliseconds::max());
  // As append(), except that with FsyncPolicy::kBatch the closing fsync is left to a later
  // sync(): the records are written and readable, durable only once sync() returned. Lets a
  // producer prepare its next records while the disk flushes these.
  AppendResult append_without_sync(
      std::span<const std::string_view> records,
      std::chrono::milliseconds wait = std::chrono::milliseconds::max());
  // Makes everything appended so far durable (fsync of the active segment; finished segments
  // were synced when they were closed). False with `error` when the OS refused.
  bool sync(std::string& error);

  // Reads up to max_records / about max_bytes of records not yet read, waiting up to `wait`
  // for some to arrive. Returns false when nothing came (timeout or close()).
  bool read(std::vector<SpoolRecord>& out, std::size_t max_records, std::size_t max_bytes,
            std::chrono::milliseconds wait);
  // Releases every record that ends at or before `upto`. Returns how many were released.
  std::size_t acknowledge(SpoolPosition upto);
  // Forget what was read but not acknowledged: the next read starts again after the last
  // acknowledged record (after a delivery failure).
  void rewind();

  // Wakes waiting readers and writers; later calls return at once.
  void close();
  // Makes a read() that waits for records return now (false when none came), once; the spool
  // stays open. Lets the sender wait long when idle and still stop at once.
  void wake_reader();
  // Blocks until every appended record is acknowledged (or timeout). True when drained.
  bool wait_drained(std::chrono::milliseconds timeout);

  SpoolStats stats() const;
  // The losses found since the last call (at open, and while reading), oldest first.
  std::vector<SpoolLoss> take_losses();
  const std::filesystem::path& directory() const;

  struct Impl;  // opaque: agent/forward/spool/spool_impl.hpp

 private:
  explicit Spool(std::unique_ptr<Impl> impl);
  AppendResult append_locked(std::span<const std::string_view> records,
                             std::chrono::milliseconds wait);
  std::unique_ptr<Impl> impl_;
};

// CRC-32C (Castagnoli), as used by iSCSI/ext4; `crc` chains calls.
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

}  // namespace sw::forward
