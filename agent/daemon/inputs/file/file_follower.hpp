// The `file` input's reader: follows every file matching a set of globs as it grows, across
// rotation by rename (the old file is read to its end first) and by copy + truncate (the copy is
// found by the hash of its first bytes and read from where the original was left), and hands on
// complete records (lines, or <Event> elements for XML) in batches with their checkpoint.
//
// It knows nothing about threads or Asio: the engine calls rescan() when a directory changed and
// collect() when files grew, so it is tested with plain files in a temp folder.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/work.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::daemon {

// Position in one followed file. `head_hash` covers the first `head_length` bytes, so a reused
// inode or a file replaced under the same identity is told apart from the file we read.
struct FileCheckpoint {
  std::string path;
  platform::FileId id;
  std::uint64_t offset = 0;   // end of the last complete record handed on
  std::uint64_t records = 0;  // records (lines) before offset: the next one is records + 1
  std::uint32_t head_length = 0;
  std::uint64_t head_hash = 0;
  friend bool operator==(const FileCheckpoint&, const FileCheckpoint&) = default;
};

struct RecordRef {
  std::uint32_t offset = 0;  // in LineBatch::data
  std::uint32_t length = 0;
  std::uint64_t number = 0;  // line (or XML record) number in the file, 1-based
};

// Complete records of one followed file, as read.
struct LineBatch {
  std::size_t input_index = 0;
  std::string path;
  InputFormat format = InputFormat::kJsonl;
  std::string data;
  std::vector<RecordRef> records;
  std::vector<RecordError> errors;  // records too long to read
  FileCheckpoint checkpoint;        // true after these records
  bool closed = false;              // the file was drained and let go: forget its checkpoint
};

// What the follower found: gaps (raised before the records), a file it will not read, records.
struct FileWork {
  std::vector<CollectionGap> gaps;
  std::optional<RefusedFile> refused;
  std::optional<LineBatch> lines;
};

class FileFollower {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::string input_name;
    std::size_t input_index = 0;
    std::vector<std::string> globs;  // absolute; wildcards in the file name only
    InputFormat format = InputFormat::kAuto;
    std::size_t max_batch_bytes = 1 << 20;
    // A record longer than a batch is read whole up to this size (as `scan` reads it); a longer
    // one is skipped to its end and reported.
    std::size_t max_record_bytes = std::size_t{64} << 20;
    // A rotated file stays open this long after the rename was noticed and after it last grew,
    // for writers that have not reopened their log yet; deleted files are let go as soon as they
    // are read to their end.
    std::chrono::milliseconds rotate_wait{30000};
    // Tests pass a clock they move themselves; the steady clock otherwise.
    std::function<Clock::time_point()> clock;
  };

  explicit FileFollower(Options options);
  ~FileFollower();
  FileFollower(const FileFollower&) = delete;
  FileFollower& operator=(const FileFollower&) = delete;

  // Checkpoints of this input from the last run; applied by the next rescan().
  void restore(std::vector<FileCheckpoint> checkpoints);
  // Folders to watch for changes.
  std::vector<std::string> directories() const;
  // Lists the files matching the globs: takes up new ones, notices renamed and deleted ones.
  // Gaps found (a checkpointed file that is gone or was replaced) come out as work items.
  void rescan(std::vector<FileWork>& out);
  // Reads what was appended: at most one batch per file. True when a file has more to read
  // than fitted (call again).
  bool collect(std::vector<FileWork>& out);
  // A batch's data once decoded, read into again: a steady stream then reads into the same
  // memory instead of allocating, filling and copying a batch's worth (1 MiB) per read.
  void recycle(std::string&& data);
  // Where every followed file is now (the reader's position, ahead of what was committed).
  std::vector<FileCheckpoint> positions() const;
  // True while a rotated file is kept open waiting for late writes: call collect() again after
  // rotate_wait even without a change notification.
  bool lingering() const;
  std::size_t open_files() const { return files_.size(); }

 private:
  struct Tailed;
  Clock::time_point now() const;
  bool matches_glob(const std::string& path) const;
  std::unique_ptr<Tailed> open_at(const std::string& path, const platform::FileId& id,
                                  const FileCheckpoint* from, std::string& error);
  bool head_matches(platform::InputFile& file, std::uint32_t length, std::uint64_t hash);
  void apply_restored(const std::map<platform::FileId, std::string>& matches,
                      std::vector<FileWork>& out);
  std::string find_restored(const FileCheckpoint& cp,
                            const std::map<platform::FileId, std::string>& matches,
                            bool& rotated) const;
  void start_new_file(Tailed& t);
  bool content_changed(Tailed& t, std::uint64_t size);
  void reset_to_start(Tailed& t);
  bool follow_copy(Tailed& t);
  void handle_truncation(Tailed& t, std::vector<FileWork>& out, const std::string& cause);
  bool read_records(Tailed& t, std::uint64_t size, std::vector<FileWork>& out);
  bool release_if_done(Tailed& t, const platform::FileInfo& info, std::vector<FileWork>& out);
  bool read_long_record(Tailed& t, std::uint64_t size, std::vector<FileWork>& out);
  bool skip_long_record(Tailed& t, std::uint64_t size);
  void refuse_if_not_a_log(Tailed& t, std::string_view head, std::vector<FileWork>& out);
  void update_head(Tailed& t, std::uint64_t size, std::vector<FileWork>& out);
  CollectionGap gap(const std::string& path, std::string cause, std::uint64_t from) const;

  Options options_;
  std::vector<FileCheckpoint> restored_;
  bool restored_pending_ = false;
  std::map<platform::FileId, std::unique_ptr<Tailed>> files_;
  std::string buffer_;
};

}  // namespace sw::daemon
