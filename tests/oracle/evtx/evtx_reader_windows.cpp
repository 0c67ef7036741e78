// EvtxReader on Windows: the Event Log API reads the file (EvtQuery with EvtQueryFilePath) and
// renders each record to Event XML, which the same XML decoder as on Linux normalizes; so EVTX
// files decode to the same events on both.
#include <windows.h>
#include <winevt.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "decode/xml/xml_event_decoder.hpp"
#include "oracle/evtx/evtx_oracle.hpp"
#include "sessionwatch/decode.hpp"

namespace sw {
namespace {

constexpr DWORD kBatch = 256;
constexpr std::uint64_t kProgressEveryRecords = 256;

std::wstring widen(std::string_view utf8) {
  if (utf8.empty()) return {};
  const int n =
      MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(n > 0 ? static_cast<std::size_t>(n) : 0, L'\0');
  if (n > 0) {
    MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  }
  return out;
}

void narrow_into(std::wstring_view wide, std::string& out) {
  out.clear();
  if (wide.empty()) return;
  const int n = WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), nullptr,
                                    0, nullptr, nullptr);
  if (n <= 0) return;
  out.resize(static_cast<std::size_t>(n));
  WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), out.data(), n,
                      nullptr, nullptr);
}

std::string error_text(DWORD code) {
  char* buffer = nullptr;
  const DWORD n = FormatMessageA(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, 0, reinterpret_cast<char*>(&buffer), 0, nullptr);
  std::string text = n > 0 ? std::string(buffer, n) : "error " + std::to_string(code);
  if (buffer != nullptr) LocalFree(buffer);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text + " (code " + std::to_string(code) + ")";
}

class EvtHandle {
 public:
  explicit EvtHandle(EVT_HANDLE h = nullptr) : handle_(h) {}
  EvtHandle(const EvtHandle&) = delete;
  EvtHandle& operator=(const EvtHandle&) = delete;
  ~EvtHandle() {
    if (handle_ != nullptr) EvtClose(handle_);
  }
  EVT_HANDLE get() const { return handle_; }

 private:
  EVT_HANDLE handle_;
};

std::filesystem::path utf8_path(const std::string& path) {
  return std::filesystem::path(
      std::u8string_view(reinterpret_cast<const char8_t*>(path.data()), path.size()));
}

// The EVTX file header: "ElfFile\0", then first and last chunk numbers and the next record id.
struct FileHeader {
  std::uint64_t next_record_id = 0;
};

bool read_header(const std::string& path, FileHeader& header, std::string& error) {
  std::ifstream in(utf8_path(path), std::ios::binary);
  if (!in) {
    error = path + ": cannot open it for reading";
    return false;
  }
  char bytes[32] = {};
  in.read(bytes, sizeof bytes);
  if (in.gcount() < static_cast<std::streamsize>(sizeof bytes) ||
      std::memcmp(bytes, "ElfFile\0", 8) != 0) {
    error = path + ": not an EVTX file (no ElfFile header)";
    return false;
  }
  std::memcpy(&header.next_record_id, bytes + 24, sizeof header.next_record_id);
  return true;
}

class WindowsEvtxReader final : public EvtxReader {
 public:
  WindowsEvtxReader(std::string path, std::wstring absolute_path, FileHeader header,
                    std::uint64_t file_size)
      : path_(std::move(path)),
        absolute_path_(std::move(absolute_path)),
        header_(header),
        file_size_(file_size) {}

  DecodeStats read(EventSink& sink, std::uint64_t after_record_id) override {
    DecodeStats stats;
    const std::wstring query = after_record_id == 0 ? std::wstring(L"*")
                                                    : L"*[System[EventRecordID>" +
                                                          std::to_wstring(after_record_id) + L"]]";
    EvtHandle results(EvtQuery(nullptr, absolute_path_.c_str(), query.c_str(),
                               EvtQueryFilePath | EvtQueryForwardDirection));
    if (results.get() == nullptr) {
      report(sink, stats, 0,
             path_ + ": the Event Log API could not open it: " + error_text(GetLastError()));
      return stats;
    }
    EVT_HANDLE batch[kBatch];
    std::uint64_t index = 0;
    for (;;) {
      DWORD returned = 0;
      if (!EvtNext(results.get(), kBatch, batch, INFINITE, 0, &returned)) {
        const DWORD code = GetLastError();
        if (code != ERROR_NO_MORE_ITEMS) {
          report(sink, stats, index,
                 path_ + ": reading stopped after " + std::to_string(index) +
                     " records: " + error_text(code));
        }
        break;
      }
      for (DWORD i = 0; i < returned; ++i) {
        ++index;
        decode_record(batch[i], index, sink, stats);
        EvtClose(batch[i]);
        if (index % kProgressEveryRecords == 0) {
          // The API gives no file offsets; progress is estimated from the record count.
          const std::uint64_t total = record_count_hint();
          if (total > 0) {
            sink.on_progress(std::min(file_size_, file_size_ * index / total), file_size_);
          }
        }
      }
    }
    stats.bytes_read = file_size_;
    sink.on_progress(file_size_, file_size_);
    return stats;
  }

  // Ids are consecutive from 1 in a file that never wrapped, so the next id bounds the count.
  std::uint64_t record_count_hint() const override {
    return header_.next_record_id > 0 ? header_.next_record_id - 1 : 0;
  }

 private:
  void decode_record(EVT_HANDLE record, std::uint64_t index, EventSink& sink, DecodeStats& stats) {
    DWORD used = 0, properties = 0;
    auto render = [&] {
      return EvtRender(nullptr, record, EvtRenderEventXml,
                       static_cast<DWORD>(wide_.size() * sizeof(wchar_t)), wide_.data(), &used,
                       &properties);
    };
    if (!render()) {
      const DWORD code = GetLastError();
      if (code != ERROR_INSUFFICIENT_BUFFER) {
        report(sink, stats, index,
               "record " + std::to_string(index) + ": could not render it: " + error_text(code));
        return;
      }
      wide_.resize(used / sizeof(wchar_t) + 1);
      if (!render()) {
        report(sink, stats, index,
               "record " + std::to_string(index) +
                   ": could not render it: " + error_text(GetLastError()));
        return;
      }
    }
    std::size_t chars = used / sizeof(wchar_t);
    while (chars > 0 && wide_[chars - 1] == L'\0') --chars;
    narrow_into(std::wstring_view(wide_.data(), chars), xml_);
    std::size_t offset = 0;
    if (!xml_detail::decode_event(xml_, buffer_, event_, error_text_, offset)) {
      report(sink, stats, index,
             "record " + std::to_string(index) + ": " + error_text_ + " (at byte " +
                 std::to_string(offset) + " of its XML)");
      return;
    }
    event_.set_origin(path_);
    event_.source_offset = event_.record_id != 0 ? event_.record_id : index;
    ++stats.records_read;
    sink.on_event(event_);
  }

  void report(EventSink& sink, DecodeStats& stats, std::uint64_t position, std::string reason) {
    ++stats.records_bad;
    sink.on_error(DecodeError{path_, position, std::move(reason)});
  }

  std::string path_;
  std::wstring absolute_path_;
  FileHeader header_;
  std::uint64_t file_size_;
  Event event_;
  std::vector<wchar_t> wide_ = std::vector<wchar_t>(16 * 1024);
  std::string xml_;
  std::string buffer_;
  std::string error_text_;
};

}  // namespace

std::unique_ptr<EvtxReader> open_oracle_evtx(const std::string& path, std::string& error) {
  std::error_code ec;
  const std::filesystem::path fs_path = utf8_path(path);
  const std::uint64_t size = std::filesystem::file_size(fs_path, ec);
  if (ec) {
    error = path + ": cannot read: " + ec.message();
    return nullptr;
  }
  FileHeader header;
  if (!read_header(path, header, error)) return nullptr;
  const std::filesystem::path absolute = std::filesystem::absolute(fs_path, ec);
  return std::make_unique<WindowsEvtxReader>(path, ec ? widen(path) : absolute.wstring(), header,
                                             size);
}

}  // namespace sw
