// The spool's state, shared by the operations (spool.cpp) and the recovery at open
// (recovery.cpp). Two locks: `write_mu` serializes producers and guards the write side; `mu`
// guards everything the consumer sees. A producer takes mu (briefly) while holding write_mu,
// never the other way round.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "forward/spool/frame.hpp"
#include "sessionwatch/file.hpp"
#include "sessionwatch/spool.hpp"

namespace sw::forward {

namespace spool_detail {

using File = UniqueFile;

File open_for_reading(const std::filesystem::path& p);
std::filesystem::path segment_path(const std::filesystem::path& dir, std::uint64_t seq);

// The `ack` file: where delivery resumes after a restart, and what the record numbers were.
struct AckState {
  SpoolPosition position;          // acknowledged up to here
  std::uint64_t next_deliver = 0;  // number of the first record not acknowledged (0: unknown)
  std::uint64_t next_write = 0;    // number the next appended record gets (0: unknown)
};
std::string encode_ack(const AckState& ack);
// Reads `ack` (this format, or the older one without numbers); nullopt when missing or damaged.
std::optional<AckState> load_ack(const std::filesystem::path& path);

}  // namespace spool_detail

struct Spool::Impl {
  struct Segment {
    std::uint64_t seq = 0;
    spool_file::Version version = spool_file::Version::kV2;
    std::uint64_t size = spool_file::kSegmentHeader;  // committed bytes, readable by the consumer
    std::uint64_t records = 0;  // intact frames (damaged ones found later are taken off)
    std::uint64_t acked_records = 0;
    std::uint64_t acked_offset = spool_file::kSegmentHeader;
    std::uint64_t read_records = 0;
    std::uint64_t first_number = 0;       // of its first record (0: unknown, v1)
    std::uint64_t acked_number = 0;       // of its last acknowledged record (0: none)
    std::vector<spool_file::Hole> holes;  // damaged stretches the reader skips
  };
  struct InFlight {
    SpoolPosition end;
    std::uint64_t number = 0;
  };

  SpoolOptions opt;
  std::uint64_t segment_limit = 0;

  // ---- consumer side, under mu ----
  mutable std::mutex mu;
  std::condition_variable data_cv;
  std::condition_variable space_cv;
  std::deque<Segment> segments;  // oldest first; back() is the one being written
  SpoolPosition read_pos;
  std::deque<InFlight> in_flight;
  std::uint64_t unacked_bytes = 0;   // committed, not acknowledged
  std::uint64_t published_next = 1;  // records numbered below this are committed
  SpoolStats counters;
  std::vector<SpoolLoss> losses;  // not yet taken
  bool closed = false;
  bool wake_reader = false;  // one read() returns now (Spool::wake_reader)
  bool ack_write_failing = false;
  std::chrono::steady_clock::time_point ack_warned_at{};  // warned at most once a minute
  spool_detail::File reader;
  std::uint64_t reader_seq = ~0ULL;
  std::uint64_t reader_offset = 0;

  // ---- producer side, under write_mu ----
  std::mutex write_mu;
  spool_detail::File writer;
  bool writer_broken = false;  // a failed write could not be cut away: start a new segment
  std::uint64_t written = spool_file::kSegmentHeader;  // bytes in the active segment incl. pending
  std::uint64_t next_number = 1;
  std::uint64_t pending_records = 0;
  std::uint64_t pending_bytes = 0;
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();
  // Frames not yet handed to the file: a batch goes out in one write, not a write per record.
  std::string buffer;
  bool defer_sync = false;  // this append leaves its closing fsync to sync()

  Segment* find(std::uint64_t seq);
  std::uint64_t unacked_records_locked() const;

  // Producer side (write_mu held, mu not).
  bool write_to_file(std::string_view data, std::string& error);
  bool write_buffer(std::string& error);
  bool commit(bool end_of_batch, std::size_t& published, std::string& error);
  void rollback();
  bool start_segment(std::uint64_t seq, std::string& error);
  bool roll_segment(std::string& error);
  void add_frame(std::string_view record);
  bool sync_needed(bool end_of_batch);
  void count_write_error();

  // Consumer side (mu held).
  void persist_ack();
  void release_finished();
  std::uint64_t forget_front();
  bool drop_oldest(std::unique_lock<std::mutex>& lock, std::size_t& published, std::string& error);
  void report_loss(SpoolLoss loss);
  const spool_file::Hole* hole_at(const Segment& seg, std::uint64_t offset) const;
  bool remap_damaged(Segment& seg);
  std::uint64_t next_deliver_number() const;
};

}  // namespace sw::forward
