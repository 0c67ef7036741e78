// decode_file / decode_buffer: pick the format, then stream the input through its decoder.
//
// Files are read in 1 MiB chunks, never whole: lines are cut out of each chunk (a line that spans
// chunks is carried over), Event XML is cut after the last complete </Event> of the data so far.
// Encodings: UTF-8 with or without BOM; UTF-16LE/BE with BOM (what Windows PowerShell's `>`
// writes), and UTF-16LE without BOM when the head looks like it; converted to UTF-8 as they
// stream. Lines end at LF; a CR before it is dropped; the last line needs no LF. Blank lines are
// skipped without an error. A line longer than 64 MiB is reported and skipped.
// Positions in errors: line numbers for lines; for XML, byte offsets in the (UTF-8) text.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/evtx_native.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw {
namespace decode_detail {
void set_stdin_binary();  // stdin_binary.cpp
}

namespace {

constexpr std::size_t kChunkSize = 1 << 20;
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
      : format_(format), text_(options), origin_(origin), sink_(sink), stats_(stats) {}

  void line(std::string_view l) {
    ++line_number_;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find_first_not_of(" \t\r\f\v") == std::string_view::npos) return;
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
    if (!blank && (has_event_start(buffer_) || (!decoded_any_ && !buffer_.empty()))) {
      decode(buffer_.size());
    } else if (!decoded_any_) {
      decode(buffer_.size());  // nothing at all: let the decoder say so
    }
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

// EVTX files go to the native parser: portable, about 30x faster than libevtx, and it reads files
// libevtx cannot (docs/evtx-format.md). EvtxReader::open (libevtx / EvtQuery) stays for callers
// that want the platform's reader.
DecodeStats decode_evtx(const std::string& path, EventSink& sink) {
  std::string error;
  auto reader = open_native_evtx(path, error);
  if (!reader) {
    DecodeStats stats;
    stats.records_bad = 1;
    sink.on_error(DecodeError{path, 0, error.empty() ? "not an EVTX file" : error});
    return stats;
  }
  return reader->read(sink);
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f && f != stdin) std::fclose(f);
  }
};

}  // namespace

DecodeStats decode_file(const std::string& path, const DecodeOptions& options, EventSink& sink) {
  DecodeStats stats;
  const bool from_stdin = path == "-";
  const std::string origin = from_stdin ? "stdin" : path;
  std::unique_ptr<std::FILE, FileCloser> file;
  std::uint64_t total = 0;
  if (from_stdin) {
    decode_detail::set_stdin_binary();
    file.reset(stdin);
  } else {
    file.reset(std::fopen(path.c_str(), "rb"));
    if (!file) {
      const std::string reason = std::strerror(errno);
      sink.on_error(DecodeError{origin, 0, "cannot open: " + reason});
      return stats;
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec) total = size;
  }

  std::string chunk(kChunkSize, '\0');
  auto read_chunk = [&]() -> std::size_t {
    const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), file.get());
    stats.bytes_read += n;
    return n;
  };

  std::size_t n = read_chunk();
  std::string_view head(chunk.data(), n);
  InputFormat format = options.format;
  if (format == InputFormat::kEvtx ||
      (format == InputFormat::kAuto && detect_format(head) == InputFormat::kEvtx)) {
    if (from_stdin) {
      ++stats.records_bad;
      sink.on_error(DecodeError{origin, 0, "EVTX cannot be read from standard input"});
      return stats;
    }
    file.reset();
    return decode_evtx(path, sink);
  }

  std::size_t bom = 0;
  const Encoding encoding = sniff_encoding(head, bom);
  std::optional<Utf16ToUtf8> utf16;
  if (encoding != Encoding::kUtf8) utf16.emplace(encoding == Encoding::kUtf16Be);
  std::string converted;
  auto as_utf8 = [&](std::string_view raw) -> std::string_view {
    if (!utf16) return raw;
    converted.clear();
    utf16->feed(raw, converted);
    return converted;
  };

  std::string_view text = as_utf8(head.substr(bom));
  if (format == InputFormat::kAuto) format = detect_format(text);
  Pipeline pipeline(format, options, origin, sink, total, stats);
  std::uint64_t next_progress = kProgressEveryBytes;
  while (n > 0) {
    pipeline.feed(text);
    if (stats.bytes_read >= next_progress) {
      sink.on_progress(stats.bytes_read, total);
      next_progress = stats.bytes_read + kProgressEveryBytes;
    }
    n = read_chunk();
    text = as_utf8(std::string_view(chunk.data(), n));
  }
  if (utf16) {
    converted.clear();
    utf16->finish(converted);
    pipeline.feed(converted);
  }
  pipeline.finish();
  if (std::ferror(file.get())) {
    sink.on_error(
        DecodeError{origin, stats.bytes_read, "read error: " + std::string(std::strerror(errno))});
  }
  sink.on_progress(stats.bytes_read, total);
  return stats;
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
