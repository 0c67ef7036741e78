// decode_file / DecodeStream: pick the format, then stream the input through its decoder.
//
// Files are read in 1 MiB chunks, never whole: lines are cut out of each chunk (a line that spans
// chunks is carried over), Event XML is cut after the last complete </Event> of the data so far.
// gzip input (1F 8B) is inflated as it is read, members one after the other.
// What is not a log is refused whole before any record: executables, archives, other compressed
// formats, binary data (not_a_log, judged on the first 8 KiB after decompression); in text that
// passed, NUL runs are dropped and a line that is still binary is a bad record, never an event.
// Encodings: UTF-8 with or without BOM; UTF-16LE/BE with BOM (what Windows PowerShell's `>`
// writes), and UTF-16LE without BOM when the head looks like it; converted to UTF-8 as they
// stream. Lines end at LF; a CR before it is dropped; the last line needs no LF. Blank lines are
// skipped without an error. A line longer than 64 MiB is reported and skipped.
// Positions in errors: line numbers for lines; for XML, byte offsets in the (UTF-8) text.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include <zlib.h>

#include "platform/fsync.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/evtx_native.hpp"
#include "sessionwatch/file.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw {

namespace {

constexpr std::size_t kMaxLineBytes = std::size_t{64} << 20;
constexpr std::uint64_t kProgressEveryBytes = std::uint64_t{16} << 20;
constexpr std::size_t kMaxXmlCarry = std::size_t{256} << 20;

enum class Encoding { kUtf8, kUtf16Le, kUtf16Be };

// Detects and strips a byte order mark; guesses UTF-16LE from NUL high bytes when there is none.
Encoding sniff_encoding(std::string_view head, std::size_t& bom_length) {
  bom_length = 0;
  if (head.size() >= 3 && head.substr(0, 3) == "\xEF\xBB\xBF") {
    bom_length = 3;
    return Encoding::kUtf8;
  }
  if (head.size() >= 2 && head.substr(0, 2) == "\xFF\xFE") {
    bom_length = 2;
    return Encoding::kUtf16Le;
  }
  if (head.size() >= 2 && head.substr(0, 2) == "\xFE\xFF") {
    bom_length = 2;
    return Encoding::kUtf16Be;
  }
  if (head.size() >= 4 && head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0 &&
      head.substr(0, 8) != std::string_view("ElfFile\0", 8))
    return Encoding::kUtf16Le;
  return Encoding::kUtf8;
}

// UTF-16 -> UTF-8 across chunk boundaries (odd bytes and split surrogate pairs are carried).
// Unpaired surrogates become U+FFFD.
class Utf16ToUtf8 {
 public:
  explicit Utf16ToUtf8(bool big_endian) : big_endian_(big_endian) {}

  void feed(std::string_view bytes, std::string& out) {
    std::size_t i = 0;
    if (odd_byte_ >= 0 && !bytes.empty()) {
      unit(pair(static_cast<unsigned char>(odd_byte_), static_cast<unsigned char>(bytes[0])), out);
      odd_byte_ = -1;
      i = 1;
    }
    for (; i + 1 < bytes.size(); i += 2)
      unit(pair(static_cast<unsigned char>(bytes[i]), static_cast<unsigned char>(bytes[i + 1])),
           out);
    if (i < bytes.size()) odd_byte_ = static_cast<unsigned char>(bytes[i]);
  }

  void finish(std::string& out) {
    if (high_ != 0 || odd_byte_ >= 0) append_utf8_code_point(0xFFFD, out);
    high_ = 0;
    odd_byte_ = -1;
  }

 private:
  std::uint32_t pair(unsigned char a, unsigned char b) const {
    return big_endian_ ? (std::uint32_t{a} << 8 | b) : (std::uint32_t{b} << 8 | a);
  }
  void unit(std::uint32_t u, std::string& out) {
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (high_ != 0) append_utf8_code_point(0xFFFD, out);
      high_ = u;
      return;
    }
    if (u >= 0xDC00 && u <= 0xDFFF) {
      if (high_ == 0) {
        append_utf8_code_point(0xFFFD, out);
      } else {
        append_utf8_code_point(0x10000 + ((high_ - 0xD800) << 10) + (u - 0xDC00), out);
        high_ = 0;
      }
      return;
    }
    if (high_ != 0) {
      append_utf8_code_point(0xFFFD, out);
      high_ = 0;
    }
    append_utf8_code_point(u, out);
  }

  bool big_endian_;
  int odd_byte_ = -1;
  std::uint32_t high_ = 0;
};

// Decodes lines of JSON or text and hands the results to the sink.
class LineSink {
 public:
  LineSink(InputFormat format, const DecodeOptions& options, std::string_view origin,
           EventSink& sink, DecodeStats& stats)
      : format_(format), text_(options), origin_(origin), sink_(sink), stats_(stats) {
    json_.set_nxlog_time_offset(options.nxlog_time_offset_minutes);
  }

  void line(std::string_view l) {
    ++line_number_;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    // Blank, or NUL padding a crash left: nothing was written there.
    if (l.find_first_not_of(std::string_view(" \t\r\f\v\0", 6)) == std::string_view::npos) return;
    const bool ok = format_ == InputFormat::kJsonl ? json_.decode(l, event_, error_)
                                                   : text_.decode(l, now_ticks(), event_, error_);
    if (ok) {
      event_.set_origin(origin_);
      event_.source_offset = line_number_;
      ++stats_.records_read;
      sink_.on_event(event_);
    } else {
      bad(error_);
    }
  }

  void overlong_line() {
    ++line_number_;
    bad("line longer than " + std::to_string(kMaxLineBytes >> 20) + " MiB, skipped");
  }

 private:
  void bad(const std::string& reason) {
    ++stats_.records_bad;
    sink_.on_error(DecodeError{std::string(origin_), line_number_, reason});
  }

  InputFormat format_;
  JsonLineDecoder json_;
  TextLineDecoder text_;
  std::string_view origin_;
  EventSink& sink_;
  DecodeStats& stats_;
  Event event_;
  std::string error_;
  std::uint64_t line_number_ = 0;
};

// Cuts lines out of a stream of chunks; a line split across chunks is carried over.
class LineSplitter {
 public:
  explicit LineSplitter(LineSink& lines) : lines_(lines) {}

  void feed(std::string_view data) {
    while (!data.empty()) {
      const void* nl = std::memchr(data.data(), '\n', data.size());
      if (!nl) {
        carry(data);
        return;
      }
      const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - data.data());
      if (skipping_) {
        skipping_ = false;
      } else if (carry_.size() + len > kMaxLineBytes) {
        carry_.clear();
        lines_.overlong_line();
      } else if (carry_.empty()) {
        lines_.line(data.substr(0, len));
      } else {
        carry_.append(data.data(), len);
        lines_.line(carry_);
        carry_.clear();
      }
      data.remove_prefix(len + 1);
    }
  }

  void finish() {
    if (!skipping_ && !carry_.empty()) lines_.line(carry_);
    carry_.clear();
    skipping_ = false;
  }

 private:
  void carry(std::string_view rest) {
    if (skipping_) return;
    if (carry_.size() + rest.size() > kMaxLineBytes) {
      carry_.clear();
      skipping_ = true;
      lines_.overlong_line();
      return;
    }
    carry_.append(rest);
  }

  LineSink& lines_;
  std::string carry_;
  bool skipping_ = false;
};

// Shifts what decode_xml_stream reports for one piece of the input to whole-input positions.
class OffsetSink : public EventSink {
 public:
  OffsetSink(EventSink& inner, std::uint64_t total) : inner_(inner), total_(total) {}
  void on_event(Event& event) override {
    event.source_offset += base_events_;
    last_event_ = event.source_offset;
    inner_.on_event(event);
  }
  void on_error(const DecodeError& error) override {
    DecodeError shifted = error;
    shifted.position += base_bytes_;
    inner_.on_error(shifted);
  }
  void on_progress(std::uint64_t done, std::uint64_t /*total*/) override {
    inner_.on_progress(base_bytes_ + done, total_);
  }
  void next_piece(std::uint64_t piece_bytes) {
    base_bytes_ += piece_bytes;
    base_events_ = last_event_;
  }

 private:
  EventSink& inner_;
  std::uint64_t total_;
  std::uint64_t base_bytes_ = 0;
  std::uint64_t base_events_ = 0;
  std::uint64_t last_event_ = 0;
};

// End of the last complete </Event> or </prefix:Event> in `data`; 0 when there is none.
std::size_t last_event_end(std::string_view data) {
  std::size_t pos = data.rfind("Event>");
  while (pos != std::string_view::npos && pos > 0) {
    const char before = data[pos - 1];
    if (before == '/' && pos >= 2 && data[pos - 2] == '<') return pos + 6;
    if (before == ':') {
      std::size_t i = pos - 1;
      while (i > 0 && data[i - 1] != '<' && data[i - 1] != '>' && data[i - 1] != ' ') --i;
      if (i >= 1 && data[i - 1] == '<' && data[i] == '/') return pos + 6;
    }
    pos = data.rfind("Event>", pos - 1);
  }
  return 0;
}

bool has_event_start(std::string_view data) {
  for (std::size_t p = data.find("Event"); p != std::string_view::npos;
       p = data.find("Event", p + 1)) {
    const char after = p + 5 < data.size() ? data[p + 5] : '\0';
    if (after != '>' && after != ' ' && after != '\t' && after != '\r' && after != '\n' &&
        after != '/')
      continue;
    std::size_t i = p;
    while (i > 0 && data[i - 1] != '<' && data[i - 1] != '>' && data[i - 1] != ' ' &&
           data[i - 1] != '/')
      --i;
    if (i >= 1 && data[i - 1] == '<') return true;
  }
  return false;
}

// Feeds Event XML to decode_xml_stream a piece at a time.
class XmlChunker {
 public:
  XmlChunker(std::string_view origin, EventSink& sink, std::uint64_t total, DecodeStats& stats)
      : origin_(origin), offsets_(sink, total), stats_(stats) {}

  void feed(std::string_view data) {
    buffer_.append(data);
    const std::size_t cut = last_event_end(buffer_);
    if (cut == 0) {
      if (buffer_.size() > kMaxXmlCarry) {
        // No end tag in this much text: hand it over so the decoder reports what is wrong.
        decode(buffer_.size());
      }
      return;
    }
    decode(cut);
  }

  void finish() {
    const bool blank = buffer_.find_first_not_of(" \t\r\n") == std::string::npos;
    // What is left when it holds an event; with nothing decoded at all, whatever there is (even
    // nothing), so that the decoder says what was wrong.
    const bool holds_event = !blank && has_event_start(buffer_);
    if (holds_event || !decoded_any_) decode(buffer_.size());
  }

 private:
  void decode(std::size_t cut) {
    const DecodeStats s =
        decode_xml_stream(std::string_view(buffer_).substr(0, cut), origin_, offsets_);
    decoded_any_ = true;
    stats_.records_read += s.records_read;
    stats_.records_bad += s.records_bad;
    offsets_.next_piece(cut);
    buffer_.erase(0, cut);
  }

  std::string_view origin_;
  OffsetSink offsets_;
  DecodeStats& stats_;
  std::string buffer_;
  bool decoded_any_ = false;
};

// Everything after format detection: text in, decoded records out.
class Pipeline {
 public:
  Pipeline(InputFormat format, const DecodeOptions& options, std::string_view origin,
           EventSink& sink, std::uint64_t total, DecodeStats& stats)
      : lines_(format, options, origin, sink, stats), splitter_(lines_) {
    if (format == InputFormat::kXml) xml_.emplace(origin, sink, total, stats);
  }
  void feed(std::string_view utf8) {
    if (xml_) {
      xml_->feed(utf8);
    } else {
      splitter_.feed(utf8);
    }
  }
  void finish() {
    if (xml_) {
      xml_->finish();
    } else {
      splitter_.finish();
    }
  }

 private:
  LineSink lines_;
  LineSplitter splitter_;
  std::optional<XmlChunker> xml_;
};

// Bytes of a file or standard input, inflated on the way when they are gzip (rotated logs are
// often compressed): concatenated members are read one after the other, as gunzip does.
class ByteSource {
 public:
  ByteSource(std::FILE* file, std::size_t read_size) : file_(file), in_(read_size, '\0') {
    in_len_ = raw_read(in_.data(), in_.size());
    gzip_ = in_len_ >= 2 && in_[0] == '\x1F' && in_[1] == '\x8B';
    if (gzip_) {
      inflate_ready_ = inflateInit2(&z_, 15 + 32) == Z_OK;
      if (!inflate_ready_) error_ = "cannot start gzip decompression";
    }
  }
  ~ByteSource() {
    if (inflate_ready_) inflateEnd(&z_);
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  std::size_t read(char* out, std::size_t n) {
    return gzip_ ? inflate_some(out, n) : plain(out, n);
  }
  bool gzip() const { return gzip_; }
  std::uint64_t raw_bytes() const { return raw_bytes_; }
  // Damage found in gzip data (what came before it was delivered); empty when there is none.
  const std::string& error() const { return error_; }

 private:
  std::size_t raw_read(char* out, std::size_t n) {
    const std::size_t got = std::fread(out, 1, n, file_);
    raw_bytes_ += got;
    return got;
  }

  std::size_t plain(char* out, std::size_t n) {
    if (in_pos_ < in_len_) {
      const std::size_t take = std::min(n, in_len_ - in_pos_);
      std::memcpy(out, in_.data() + in_pos_, take);
      in_pos_ += take;
      if (in_pos_ == in_len_) in_ = std::string();  // plain reads need no buffer of their own
      return take;
    }
    return raw_read(out, n);
  }

  bool refill() {
    in_len_ = raw_read(in_.data(), in_.size());
    in_pos_ = 0;
    return in_len_ > 0;
  }

  std::size_t inflate_some(char* out, std::size_t n) {
    if (!inflate_ready_ || done_) return 0;
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(n);
    while (z_.avail_out > 0 && !done_) {
      if (in_pos_ == in_len_ && !refill()) {
        if (!member_ended_) error_ = "the gzip data ends early (truncated file?)";
        done_ = true;
        break;
      }
      z_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
      z_.avail_in = static_cast<uInt>(in_len_ - in_pos_);
      const int r = inflate(&z_, Z_NO_FLUSH);
      in_pos_ = in_len_ - z_.avail_in;
      member_ended_ = r == Z_STREAM_END;
      if (r == Z_STREAM_END) {
        inflateReset(&z_);  // another member may follow
      } else if (r != Z_OK && r != Z_BUF_ERROR) {
        error_ = std::string("damaged gzip data: ") + (z_.msg ? z_.msg : "inflate failed");
        done_ = true;
      }
    }
    return n - z_.avail_out;
  }

  std::FILE* file_;
  std::string in_;
  std::size_t in_pos_ = 0;
  std::size_t in_len_ = 0;
  std::uint64_t raw_bytes_ = 0;
  bool gzip_ = false;
  z_stream z_{};
  bool inflate_ready_ = false;
  bool member_ended_ = false;
  bool done_ = false;
  std::string error_;
};

using FilePtr = UniqueFile;

// EVTX files go to the native parser: portable, about 30x faster than libevtx, and it reads files
// libevtx cannot (docs/evtx-format.md). EvtxReader::open (libevtx / EvtQuery) stays for callers
// that want the platform's reader.
class EvtxStream final : public DecodeStream {
 public:
  EvtxStream(std::unique_ptr<NativeEvtxReader> reader, EventSink& sink, std::uint64_t size)
      : reader_(std::move(reader)), sink_(sink), size_(size) {}
  bool step() override { return reader_->read_next_chunk(sink_, stats_); }
  const DecodeStats& stats() const override { return stats_; }
  std::uint64_t size() const override { return size_; }
  std::uint64_t independent_steps() const override { return reader_->chunk_steps(); }
  bool step_alone(std::uint64_t k, EventSink& sink, DecodeStats& stats) override {
    return reader_->read_chunk_alone(k, sink, stats);
  }

 private:
  std::unique_ptr<NativeEvtxReader> reader_;
  EventSink& sink_;
  DecodeStats stats_;
  std::uint64_t size_;
};

// Text, Event XML and JSON lines: a chunk of the file per step, converted to UTF-8 and cut into
// records.
class TextStream final : public DecodeStream {
  // The first read of a file known to be smaller than a read takes only its size: a scan opens
  // every file it is given before reading any, and buffers of a whole read each, freed between
  // small allocations, held 128 KiB per file (285 MB for 2,000 one-line files).
  static std::size_t first_read_size(std::size_t read_size, std::uint64_t file_size) {
    return file_size > 0 && file_size < read_size ? static_cast<std::size_t>(file_size) : read_size;
  }

 public:
  TextStream(FilePtr file, std::string origin, EventSink& sink, std::uint64_t size,
             std::size_t read_size)
      : file_(std::move(file)),
        origin_(std::move(origin)),
        sink_(sink),
        size_(size),
        source_(file_.get(), first_read_size(read_size, size)),
        read_size_(read_size) {}

  // Reads the head and works out what the input is; false with `error` when it is no log.
  bool start(const DecodeOptions& options, std::string& error) {
    std::string first(first_read_size(read_size_, size_), '\0');
    const std::size_t n = source_.read(first.data(), first.size());
    std::string_view head(first.data(), n);
    if (head.substr(0, 8) == std::string_view("ElfFile\0", 8)) {
      error = origin_ + " is a gzip-compressed EVTX file: decompress it first (gunzip)";
      return false;
    }
    std::size_t bom = 0;
    const Encoding encoding = sniff_encoding(head, bom);
    if (encoding != Encoding::kUtf8) utf16_.emplace(encoding == Encoding::kUtf16Be);
    head_ = std::string(as_utf8(head.substr(bom)));
    // The verdict rests on the first few KiB, as `file` and git judge text: a NUL block further
    // on (a crash in the middle of a log) must not cost the whole file.
    if (auto why = not_a_log(std::string_view(head_).substr(0, kVerdictBytes))) {
      error = origin_ + " is not a log sessionwatch reads: " + *why;
      return false;
    }
    InputFormat format = options.format;
    if (format == InputFormat::kAuto) format = detect_format(head_);
    pipeline_.emplace(format, options, origin_, sink_, size_, stats_);
    return true;
  }

  bool step() override {
    if (done_) return false;
    if (!head_fed_) {
      head_fed_ = true;
      pipeline_->feed(head_);
      head_ = std::string();
    } else {
      if (chunk_.empty()) chunk_.resize(read_size_);  // made at the first read after the head
      const std::size_t n = source_.read(chunk_.data(), chunk_.size());
      if (n == 0) {
        finish();
        return false;
      }
      pipeline_->feed(as_utf8(std::string_view(chunk_.data(), n)));
    }
    stats_.bytes_read = source_.raw_bytes();
    if (stats_.bytes_read >= next_progress_) {
      sink_.on_progress(stats_.bytes_read, size_);
      next_progress_ = stats_.bytes_read + kProgressEveryBytes;
    }
    return true;
  }
  const DecodeStats& stats() const override { return stats_; }
  std::uint64_t size() const override { return size_; }

 private:
  static constexpr std::size_t kVerdictBytes = 8192;

  std::string_view as_utf8(std::string_view raw) {
    if (!utf16_) return raw;
    converted_.clear();
    utf16_->feed(raw, converted_);
    return converted_;
  }

  void finish() {
    done_ = true;
    if (utf16_) {
      converted_.clear();
      utf16_->finish(converted_);
      pipeline_->feed(converted_);
    }
    pipeline_->finish();
    stats_.bytes_read = source_.raw_bytes();
    if (!source_.error().empty()) {
      ++stats_.records_bad;
      sink_.on_error(DecodeError{origin_, stats_.bytes_read, source_.error()});
    }
    if (std::ferror(file_.get())) {
      sink_.on_error(DecodeError{origin_, stats_.bytes_read,
                                 "read error: " + std::string(std::strerror(errno))});
    }
    sink_.on_progress(stats_.bytes_read, size_);
  }

  FilePtr file_;
  std::string origin_;
  EventSink& sink_;
  std::uint64_t size_;
  ByteSource source_;
  std::size_t read_size_;
  std::string chunk_;
  std::string head_;
  std::string converted_;
  std::optional<Utf16ToUtf8> utf16_;
  std::optional<Pipeline> pipeline_;
  DecodeStats stats_;
  std::uint64_t next_progress_ = kProgressEveryBytes;
  bool head_fed_ = false;
  bool done_ = false;
};

// Opens a file for reading with a sentence naming it when that is not possible.
FilePtr open_input(const std::string& path, std::uint64_t& size, std::string& error) {
  if (path == "-") {
    platform::set_stdin_binary();
    return FilePtr(stdin);
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = path + " is a directory (give the files in it)";
    return nullptr;
  }
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  const auto bytes = std::filesystem::file_size(path, ec);
  size = ec ? 0 : bytes;
  return file;
}

bool starts_as_evtx(std::FILE* file) {
  char magic[8] = {};
  const std::size_t n = std::fread(magic, 1, sizeof magic, file);
  std::rewind(file);
  return n == sizeof magic && std::string_view(magic, 8) == std::string_view("ElfFile\0", 8);
}

}  // namespace

std::unique_ptr<DecodeStream> DecodeStream::open(const std::string& path,
                                                 const DecodeOptions& options, EventSink& sink,
                                                 std::string& error, std::size_t read_size) {
  std::uint64_t size = 0;
  FilePtr file = open_input(path, size, error);
  if (!file) return nullptr;
  const bool from_stdin = path == "-";
  const std::string origin = from_stdin ? "stdin" : path;
  const bool evtx =
      options.format == InputFormat::kEvtx ||
      (options.format == InputFormat::kAuto && !from_stdin && starts_as_evtx(file.get()));
  if (evtx) {
    if (from_stdin) {
      error = "EVTX cannot be read from standard input: give the file's path";
      return nullptr;
    }
    file.reset();
    auto reader = NativeEvtxReader::open_file(path, error);
    if (!reader) return nullptr;
    return std::make_unique<EvtxStream>(std::move(reader), sink, size);
  }
  auto stream = std::make_unique<TextStream>(std::move(file), origin, sink, size,
                                             std::max<std::size_t>(read_size, 4096));
  if (!stream->start(options, error)) return nullptr;
  return stream;
}

DecodeStats decode_file(const std::string& path, const DecodeOptions& options, EventSink& sink) {
  std::string error;
  auto stream = DecodeStream::open(path, options, sink, error);
  if (!stream) {
    sink.on_error(DecodeError{path == "-" ? "stdin" : path, 0, error, DecodeError::Kind::kFile});
    return {};
  }
  while (stream->step()) {
  }
  return stream->stats();
}

DecodeStats decode_buffer(std::string_view data, std::string_view origin,
                          const DecodeOptions& options, EventSink& sink) {
  DecodeStats stats;
  stats.bytes_read = data.size();
  InputFormat format = options.format;
  if (format == InputFormat::kEvtx ||
      (format == InputFormat::kAuto && detect_format(data) == InputFormat::kEvtx)) {
    ++stats.records_bad;
    sink.on_error(DecodeError{std::string(origin), 0, "EVTX can only be decoded from a file"});
    return stats;
  }
  std::size_t bom = 0;
  const Encoding encoding = sniff_encoding(data, bom);
  std::string converted;
  std::string_view text = data.substr(bom);
  if (encoding != Encoding::kUtf8) {
    Utf16ToUtf8 utf16(encoding == Encoding::kUtf16Be);
    utf16.feed(text, converted);
    utf16.finish(converted);
    text = converted;
  }
  if (format == InputFormat::kAuto) format = detect_format(text);
  if (format == InputFormat::kXml) {
    DecodeStats xml = decode_xml_stream(text, origin, sink);
    xml.bytes_read = data.size();
    return xml;
  }
  Pipeline pipeline(format, options, origin, sink, data.size(), stats);
  pipeline.feed(text);
  pipeline.finish();
  sink.on_progress(data.size(), data.size());
  return stats;
}

}  // namespace sw
