// file: one record per line, fsync'd per batch, rotated by size (path -> path.1 -> ... path.N).
// Rotated by someone else (logrotate renames the file, with or without SIGHUP): the next batch
// sees that the path names another file, or none, and reopens it. A file whose last line a crash
// cut short (kill -9 or power loss between two writes of a batch) gets its newline before the next
// record, which would otherwise be glued to the torn line and lost to a reader of lines with it;
// the torn record itself is written again (the spool did not see it confirmed).
#include <cstdio>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

#include "forward/outputs/file/file_output.hpp"
#include "platform/fsync.hpp"
#include "sessionwatch/file.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::forward::detail {

namespace {

class FileOutput final : public OutputPlugin {
 public:
  explicit FileOutput(const FileOptions& options) : options_(options) {}
  ~FileOutput() override { close(); }

  FlushResult flush(std::span<const Record> records) override {
    FlushResult r;
    if (file_ && platform::file_replaced(file_.get(), options_.path.string())) close();
    if (!file_ && !open()) return retry();
    for (const Record& rec : records) {
      const std::uint64_t need = rec.payload.size() + 1;
      if (size_ > 0 && size_ + need > options_.max_bytes) {
        if (!platform::sync_file(file_.get()) || !rotate()) return partial();
      }
      if (std::fwrite(rec.payload.data(), 1, rec.payload.size(), file_.get()) !=
              rec.payload.size() ||
          std::fputc('\n', file_.get()) == EOF) {
        return partial();
      }
      size_ += need;
      ++r.count;
    }
    if (!platform::sync_file(file_.get())) {
      error_ = "write to " + options_.path.string() + " failed: " + std::strerror(errno);
      close();
      return retry();
    }
    return r;
  }

  void exit() override { close(); }
  std::string active_url() const override { return options_.path.string(); }
  bool connected() const override { return file_ != nullptr; }

 private:
  FlushResult retry() const { return detail::retry(error_); }

  // Lines written before a failure are on their way, but not known to be durable: report them
  // as not delivered so they are written again (at-least-once).
  FlushResult partial() {
    error_ = "write to " + options_.path.string() + " failed: " + std::strerror(errno);
    close();
    return retry();
  }

  bool open() {
    std::error_code ec;
    std::string ignored;  // the open below reports what matters
    if (options_.path.has_parent_path())
      platform::create_private_directories(options_.path.parent_path().string(), ignored);
    file_.reset(platform::open_private_for_append(options_.path.string()));
    if (!file_) {
      error_ = "cannot open " + options_.path.string() + ": " + std::strerror(errno);
      return false;
    }
    size_ = std::filesystem::file_size(options_.path, ec);
    if (ec) size_ = 0;
    return end_torn_line();
  }

  // Ends a last line a crash left without its newline (see the top of the file).
  bool end_torn_line() {
    if (size_ == 0) return true;
    std::ifstream in(options_.path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(size_ - 1));
    char last = '\n';
    if (!in.get(last) || last == '\n') return true;
    spdlog::warn(
        "file output: the last line of {} was cut short (the agent or the machine stopped in "
        "the middle of a write); it is ended here and its record is written again after it",
        options_.path.string());
    if (std::fputc('\n', file_.get()) == EOF) {
      error_ = "write to " + options_.path.string() + " failed: " + std::strerror(errno);
      close();
      return false;
    }
    ++size_;
    return true;
  }

  void close() { file_.reset(); }

  bool rotate() {
    close();
    std::error_code ec;
    auto numbered = [&](int i) {
      return std::filesystem::path(options_.path.string() + "." + std::to_string(i));
    };
    std::filesystem::remove(numbered(options_.max_files), ec);
    for (int i = options_.max_files - 1; i >= 1; --i) {
      if (std::filesystem::exists(numbered(i), ec))
        std::filesystem::rename(numbered(i), numbered(i + 1), ec);
    }
    std::filesystem::rename(options_.path, numbered(1), ec);
    return open();
  }

  FileOptions options_;
  UniqueFile file_;
  std::uint64_t size_ = 0;
  std::string error_;
};

}  // namespace

std::unique_ptr<OutputPlugin> make_file_output(const OutputConfig& config, std::string& error) {
  const FileOptions* options = options_of<FileOptions>(config, error);
  if (!options) return nullptr;
  if (options->path.empty()) {
    error = "file output needs a path";
    return nullptr;
  }
  return std::make_unique<FileOutput>(*options);
}

}  // namespace sw::forward::detail
