// The per-output disk spool: alerts wait here, durably, until their collector confirmed them.
//
// Layout: one directory per output holding append-only segment files (<20-digit seq>.seg) and
// an `ack` file with the position up to which the collector confirmed. Each record is
//   u32 length (LE) | u32 CRC32C(length bytes + payload) (LE) | payload
// so a torn tail after a crash, or any flipped bit, is detected and cut rather than replayed.
//
// One producer thread (or several, serialized inside) appends; one consumer thread reads,
// acknowledges and may rewind to the acknowledged position after a delivery failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
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
};

// A place in the spool: segment sequence number and byte offset; ordered.
struct SpoolPosition {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
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

  // Appends records and makes them durable per the fsync policy before returning. When the
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
  const std::filesystem::path& directory() const;

 private:
  struct Impl;
  explicit Spool(std::unique_ptr<Impl> impl);
  AppendResult append_locked(std::span<const std::string_view> records,
                             std::chrono::milliseconds wait);
  std::unique_ptr<Impl> impl_;
};

// CRC-32C (Castagnoli), as used by iSCSI/ext4; `crc` chains calls.
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

}  // namespace sw::forward
