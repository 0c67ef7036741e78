// EvtxReader on POSIX: libevtx renders each record's BinXML to Event XML, which the XML decoder
// then normalizes, so EVTX and exported XML give identical events.
#include <libevtx.h>

#include <filesystem>
#include <string>
#include <unordered_set>
#include <vector>

#include "decode/xml/xml_event_decoder.hpp"
#include "oracle/evtx/evtx_oracle.hpp"
#include "sessionwatch/decode.hpp"

namespace sw {
namespace {

constexpr std::uint64_t kProgressEveryRecords = 256;

// libevtx's error as one line: the outermost message, then the innermost cause, which is the
// one that says what was wrong with the data. Frees the error.
std::string take_error(libevtx_error_t*& error) {
  if (error == nullptr) return "unknown libevtx error";
  std::string trace(16384, '\0');
  const int n = libevtx_error_backtrace_sprint(error, trace.data(), trace.size());
  libevtx_error_free(&error);
  trace.resize(n > 0 ? std::min<std::size_t>(static_cast<std::size_t>(n), trace.size() - 1) : 0);
  std::vector<std::string_view> lines;
  std::string_view rest(trace.c_str());
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  if (lines.empty()) return "unknown libevtx error";
  // The backtrace lists the innermost error first.
  std::string text(lines.back());
  if (lines.size() > 1) text.append(" (cause: ").append(lines.front()).append(")");
  return text;
}

class Record {
 public:
  Record() = default;
  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;
  ~Record() {
    if (record_ != nullptr) libevtx_record_free(&record_, nullptr);
  }
  libevtx_record_t** out() { return &record_; }
  libevtx_record_t* get() const { return record_; }

 private:
  libevtx_record_t* record_ = nullptr;
};

class LibevtxReader final : public EvtxReader {
 public:
  LibevtxReader(std::string path, libevtx_file_t* file, std::uint64_t file_size)
      : path_(std::move(path)), file_(file), file_size_(file_size) {}
  ~LibevtxReader() override {
    libevtx_file_close(file_, nullptr);
    libevtx_file_free(&file_, nullptr);
  }

  DecodeStats read(EventSink& sink, std::uint64_t after_record_id) override {
    DecodeStats stats;
    int count = 0;
    libevtx_error_t* error = nullptr;
    if (libevtx_file_get_number_of_records(file_, &count, &error) != 1) {
      report(sink, stats, 0, "libevtx could not count the records: " + take_error(error));
      return stats;
    }
    std::uint64_t failed = 0;
    for (int index = 0; index < count; ++index) {
      Record record;
      if (libevtx_file_get_record_by_index(file_, index, record.out(), &error) != 1) {
        ++failed;
        report(sink, stats, static_cast<std::uint64_t>(index) + 1,
               "record " + std::to_string(index + 1) + " of " + std::to_string(count) +
                   ": libevtx could not decode it: " + take_error(error));
        continue;
      }
      std::uint64_t record_id = 0;
      if (libevtx_record_get_identifier(record.get(), &record_id, &error) != 1) {
        record_id = 0;
        libevtx_error_free(&error);
      }
      // Skipped records count as progress too: resuming from a checkpoint scans past them.
      if ((index + 1) % kProgressEveryRecords == 0) progress(record, sink);
      if (record_id != 0 && record_id <= after_record_id) continue;
      if (!decode_record(record, record_id, index, count, "record", sink, stats,
                         /*report_failure=*/true))
        ++failed;
    }
    if (failed > 0) {
      // Not a record of its own: a verdict on the file, so it is not counted in records_bad.
      const std::string verdict = failed == static_cast<std::uint64_t>(count)
                                      ? "libevtx could not decode any of its " +
                                            std::to_string(count) +
                                            " records; the file may need a newer EVTX parser"
                                      : "libevtx could not decode " + std::to_string(failed) +
                                            " of its " + std::to_string(count) + " records";
      sink.on_error(DecodeError{path_, 0, path_ + ": " + verdict});
    }
    stats.bytes_read = file_size_;
    sink.on_progress(file_size_, file_size_);
    return stats;
  }

  DecodeStats read_recovered(EventSink& sink) override {
    DecodeStats stats;
    int count = 0;
    libevtx_error_t* error = nullptr;
    if (libevtx_file_get_number_of_recovered_records(file_, &count, &error) != 1) {
      report(sink, stats, 0, "libevtx could not count the recovered records: " + take_error(error));
      return stats;
    }
    if (count == 0) return stats;
    const std::unordered_set<std::uint64_t> allocated = allocated_record_ids();
    std::uint64_t failed = 0;
    for (int index = 0; index < count; ++index) {
      Record record;
      if (libevtx_file_get_recovered_record_by_index(file_, index, record.out(), &error) != 1) {
        libevtx_error_free(&error);
        ++failed;
        continue;
      }
      std::uint64_t record_id = 0;
      if (libevtx_record_get_identifier(record.get(), &record_id, &error) != 1) {
        libevtx_error_free(&error);
        ++failed;
        continue;
      }
      // Slack space often holds stale copies of records that are still allocated.
      if (allocated.contains(record_id)) continue;
      if (!decode_record(record, record_id, index, count, "recovered record", sink, stats,
                         /*report_failure=*/false))
        ++failed;
    }
    // Recovered records are fragments of overwritten chunks; most do not decode. One line for
    // all of them, instead of one error each.
    if (failed > 0) {
      stats.records_bad += failed;
      sink.on_error(DecodeError{path_, 0,
                                path_ + ": " + std::to_string(failed) + " of " +
                                    std::to_string(count) +
                                    " recovered records are partly overwritten and could not be "
                                    "decoded"});
    }
    return stats;
  }

  std::uint64_t record_count_hint() const override {
    int count = 0;
    libevtx_error_t* error = nullptr;
    if (libevtx_file_get_number_of_records(file_, &count, &error) != 1) {
      libevtx_error_free(&error);
      return 0;
    }
    return static_cast<std::uint64_t>(count);
  }

 private:
  bool decode_record(Record& record, std::uint64_t record_id, int index, int count,
                     std::string_view kind, EventSink& sink, DecodeStats& stats,
                     bool report_failure) {
    libevtx_error_t* error = nullptr;
    auto fail = [&](std::uint64_t position, std::string reason) {
      if (report_failure) report(sink, stats, position, std::move(reason));
      return false;
    };
    const std::uint64_t position =
        record_id != 0 ? record_id : static_cast<std::uint64_t>(index) + 1;
    auto where = [&] {
      return std::string(kind) + " " + std::to_string(position) + " (index " +
             std::to_string(index + 1) + " of " + std::to_string(count) + ")";
    };
    std::size_t size = 0;
    if (libevtx_record_get_utf8_xml_string_size(record.get(), &size, &error) != 1 || size == 0) {
      return fail(position, where() + ": libevtx could not render it: " + take_error(error));
    }
    xml_.resize(size);
    if (libevtx_record_get_utf8_xml_string(
            record.get(), reinterpret_cast<std::uint8_t*>(xml_.data()), size, &error) != 1) {
      return fail(position, where() + ": libevtx could not render it: " + take_error(error));
    }
    while (!xml_.empty() && xml_.back() == '\0') xml_.pop_back();
    std::size_t offset = 0;
    if (!xml_detail::decode_event(xml_, buffer_, event_, error_text_, offset)) {
      return fail(position, where() + ": " + error_text_ + " (at byte " + std::to_string(offset) +
                                " of its XML)");
    }
    event_.set_origin(path_);
    event_.source_offset = position;
    ++stats.records_read;
    sink.on_event(event_);
    return true;
  }

  void progress(Record& record, EventSink& sink) {
    off64_t offset = 0;
    libevtx_error_t* error = nullptr;
    if (libevtx_record_get_offset(record.get(), &offset, &error) != 1) {
      libevtx_error_free(&error);
      return;
    }
    sink.on_progress(static_cast<std::uint64_t>(offset), file_size_);
  }

  std::unordered_set<std::uint64_t> allocated_record_ids() {
    std::unordered_set<std::uint64_t> ids;
    int count = 0;
    libevtx_error_t* error = nullptr;
    if (libevtx_file_get_number_of_records(file_, &count, &error) != 1) {
      libevtx_error_free(&error);
      return ids;
    }
    for (int index = 0; index < count; ++index) {
      Record record;
      std::uint64_t id = 0;
      if (libevtx_file_get_record_by_index(file_, index, record.out(), &error) == 1 &&
          libevtx_record_get_identifier(record.get(), &id, &error) == 1) {
        ids.insert(id);
      } else {
        libevtx_error_free(&error);
      }
    }
    return ids;
  }

  void report(EventSink& sink, DecodeStats& stats, std::uint64_t position, std::string reason) {
    ++stats.records_bad;
    sink.on_error(DecodeError{path_, position, std::move(reason)});
  }

  std::string path_;
  libevtx_file_t* file_;
  std::uint64_t file_size_;
  Event event_;
  std::string xml_;
  std::string buffer_;
  std::string error_text_;
};

}  // namespace

std::unique_ptr<EvtxReader> open_oracle_evtx(const std::string& path, std::string& error) {
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    error = path + ": cannot read: " + ec.message();
    return nullptr;
  }
  libevtx_file_t* file = nullptr;
  libevtx_error_t* lib_error = nullptr;
  if (libevtx_file_initialize(&file, &lib_error) != 1) {
    error = path + ": libevtx could not start: " + take_error(lib_error);
    return nullptr;
  }
  if (libevtx_file_open(file, path.c_str(), LIBEVTX_OPEN_READ, &lib_error) != 1) {
    error = path + ": libevtx could not open it as an EVTX file: " + take_error(lib_error);
    libevtx_file_free(&file, nullptr);
    return nullptr;
  }
  return std::make_unique<LibevtxReader>(path, file, size);
}

}  // namespace sw
