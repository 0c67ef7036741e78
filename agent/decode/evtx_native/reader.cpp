// File and chunk layer of the native EVTX reader: reads whole chunks, checks their checksums,
// walks the records and hands each record's BinXML to the parser.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "decode/evtx_native/binxml.hpp"
#include "decode/evtx_native/crc32.hpp"
#include "decode/evtx_native/event_builder.hpp"
#include "decode/evtx_native/values.hpp"
#include "sessionwatch/evtx_native.hpp"
#include "sessionwatch/platform.hpp"

namespace sw {

using evtx_native::le16;
using evtx_native::le32;
using evtx_native::le64;

namespace {

constexpr std::size_t kFileHeaderSize = 4096;
constexpr std::size_t kFileHeaderUsed = 128;
constexpr std::size_t kChunkSize = 65536;
constexpr std::size_t kChunkHeaderSize = 512;
constexpr std::size_t kRecordHeaderSize = 24;
// Signature, size, id, time, at least one BinXML byte... and the trailing size copy.
constexpr std::size_t kMinRecordSize = kRecordHeaderSize + 4;
constexpr std::uint32_t kRecordSignature = 0x00002a2a;
constexpr char kFileSignature[8] = {'E', 'l', 'f', 'F', 'i', 'l', 'e', '\0'};
constexpr char kChunkSignature[8] = {'E', 'l', 'f', 'C', 'h', 'n', 'k', '\0'};

// Compares the bytes with themselves one on: libc's vector memcmp, where a byte loop would crawl
// through the empty 64 KiB chunks a preallocated log ends with.
bool all_zero(const std::uint8_t* p, std::size_t n) {
  return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

struct NativeEvtxReader::Impl {
  std::string origin;
  std::unique_ptr<platform::InputFile> file;  // positional reads: safe from several threads
  std::string memory;
  bool from_memory = false;
  std::uint64_t file_size = 0;
  EvtxFileHeader header;
  std::uint64_t count_hint = 0;

  // What decoding a chunk needs (a chunk buffer, the parser's 256 KiB name index), made at the
  // first chunk: opening a file only checks it, so `scan` opens every file on the main thread
  // while decode threads allocate and fill these. One per thread decoding the file at once.
  struct Decoding {
    std::unique_ptr<std::uint8_t[]> chunk =
        std::make_unique_for_overwrite<std::uint8_t[]>(kChunkSize);
    evtx_native::BinXmlParser parser;
    evtx_native::EventBuilder builder;
    Event event;
    std::string error;
  };
  std::unique_ptr<Decoding> decoding;  // read_next_chunk's and read_from's
  std::uint64_t next_chunk = 0;        // read_next_chunk's position
  // Decodings of read_chunk_alone calls not running now, for the next ones to reuse.
  std::mutex spare_mu;
  std::vector<std::unique_ptr<Decoding>> spare;

  // Reads up to `n` bytes at `offset`; returns how many arrived.
  std::size_t read_at(std::uint64_t offset, std::size_t n, std::uint8_t* out) const {
    if (offset >= file_size) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, file_size - offset));
    if (from_memory) {
      std::memcpy(out, memory.data() + offset, n);
      return n;
    }
    std::size_t got = 0;
    while (got < n) {
      const std::int64_t r =
          file->read_at(offset + got, reinterpret_cast<char*>(out) + got, n - got);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    return got;
  }

  bool load_header(std::string& err) {
    std::uint8_t h[kFileHeaderUsed] = {};
    const std::size_t got = read_at(0, sizeof h, h);
    if (got < sizeof kFileSignature || std::memcmp(h, kFileSignature, sizeof kFileSignature) != 0) {
      err = origin + ": not an EVTX file (no ElfFile signature)";
      return false;
    }
    if (got == kFileHeaderUsed) {
      header.first_chunk = le64(h + 8);
      header.last_chunk = le64(h + 16);
      header.next_record_id = le64(h + 24);
      header.minor_version = le16(h + 36);
      header.major_version = le16(h + 38);
      header.chunk_count = le16(h + 42);
      header.flags = le32(h + 120);
      header.checksum_ok = evtx_native::crc32(0, h, 120) == le32(h + 124);
    }
    count_hint = 0;
    std::uint8_t ch[48];
    for (std::uint64_t offset = kFileHeaderSize; offset < file_size; offset += kChunkSize) {
      if (read_at(offset, sizeof ch, ch) != sizeof ch) break;
      if (std::memcmp(ch, kChunkSignature, sizeof kChunkSignature) != 0) continue;
      const std::uint64_t first = le64(ch + 8), last = le64(ch + 16);
      if (last >= first && last - first < kChunkSize / kMinRecordSize)
        count_hint += last - first + 1;
    }
    return true;
  }

  void report(EventSink& sink, DecodeStats& stats, std::uint64_t position, std::string reason,
              bool counts_as_record) const {
    if (counts_as_record) ++stats.records_bad;
    sink.on_error(
        DecodeError{origin, position, std::move(reason),
                    counts_as_record ? DecodeError::Kind::kRecord : DecodeError::Kind::kNotice});
  }

  // A plausible record starts here: signature, a size that fits and a matching trailing copy.
  static bool record_at(const std::uint8_t* c, std::size_t pos, std::size_t limit) {
    if (limit - pos < kMinRecordSize || le32(c + pos) != kRecordSignature) return false;
    const std::uint32_t size = le32(c + pos + 4);
    return size >= kMinRecordSize && size <= limit - pos && le32(c + pos + size - 4) == size;
  }

  // Where a chunk's records end and whether its header is sound; false (reported) otherwise.
  bool chunk_records_limit(const std::uint8_t* c, const std::string& where, std::size_t got,
                           EventSink& sink, DecodeStats& stats, std::size_t& limit) const {
    if (std::memcmp(c, kChunkSignature, sizeof kChunkSignature) != 0) {
      if (!all_zero(c, got)) report(sink, stats, 0, where + ": no chunk signature; skipped", false);
      return false;
    }
    if (got < kChunkHeaderSize) {
      report(sink, stats, 0, where + ": truncated inside the chunk header; skipped", false);
      return false;
    }
    const std::uint32_t header_crc =
        evtx_native::crc32(evtx_native::crc32(0, c, 120), c + 128, kChunkHeaderSize - 128);
    if (header_crc != le32(c + 124)) {
      report(sink, stats, 0,
             where + ": chunk header checksum mismatch (stored " + hex(le32(c + 124)) +
                 ", computed " + hex(header_crc) + "); skipped",
             false);
      return false;
    }
    const std::uint32_t free_space = le32(c + 48);
    limit = got;
    if (got < kChunkSize)
      report(sink, stats, 0, where + ": file ends inside the chunk; reading what is there", false);
    if (free_space < kChunkHeaderSize || free_space > kChunkSize) {
      report(sink, stats, 0,
             where + ": free space offset " + hex(free_space) +
                 " is outside the chunk; scanning the whole chunk",
             false);
      return true;
    }
    limit = std::min<std::size_t>(limit, free_space);
    if (free_space <= got) {
      const std::uint32_t records_crc =
          evtx_native::crc32(0, c + kChunkHeaderSize, free_space - kChunkHeaderSize);
      if (records_crc != le32(c + 52))
        report(sink, stats, 0,
               where + ": event records checksum mismatch (stored " + hex(le32(c + 52)) +
                   ", computed " + hex(records_crc) + "); records checked one by one",
               false);
    }
    return true;
  }

  // Reads the records of the chunk in `chunk` from `start`. With `position`, only what is
  // certainly complete is handed on and `position` follows each record; without it, records
  // with ids up to `after_record_id` are skipped.
  void read_chunk(Decoding& d, std::uint64_t index, std::uint64_t file_offset, std::size_t got,
                  EventSink& sink, DecodeStats& stats, std::uint64_t after_record_id,
                  std::size_t start = 0, EvtxPosition* position = nullptr) const {
    const std::uint8_t* c = d.chunk.get();
    const std::string where =
        "chunk " + std::to_string(index) + " (file offset " + hex(file_offset) + ")";
    std::size_t limit = 0;
    if (!chunk_records_limit(c, where, got, sink, stats, limit)) return;
    const std::uint64_t first_id = le64(c + 24), last_id = le64(c + 32);
    d.parser.set_chunk(c, got);
    std::size_t pos = std::max<std::size_t>(start, kChunkHeaderSize);
    const auto moved = [&](std::size_t to, std::uint64_t record_id) {
      if (!position) return;
      *position = EvtxPosition{index, static_cast<std::uint32_t>(to), first_id,
                               record_id ? record_id : position->last_record_id};
    };
    while (limit - pos >= kRecordHeaderSize) {
      if (!record_at(c, pos, limit)) {
        if (all_zero(c + pos, limit - pos)) break;
        // A chunk the file does not hold whole yet is being written: the rest comes later.
        if (position && got < kChunkSize) break;
        const std::uint64_t guess = le64(c + pos + 8);
        const std::uint64_t at = guess >= first_id && guess <= last_id ? guess : 0;
        std::size_t next = pos + 1;
        while (next < limit && !record_at(c, next, limit)) ++next;
        report(sink, stats, at,
               where + ": no valid record at chunk offset " + hex(pos) + "; skipped " +
                   std::to_string(next - pos) + " bytes",
               true);
        pos = next;
        moved(pos, 0);
        continue;
      }
      const std::uint32_t size = le32(c + pos + 4);
      const std::uint64_t record_id = le64(c + pos + 8);
      if (record_id > after_record_id) decode_record(d, pos, size, record_id, where, sink, stats);
      pos += size;
      moved(pos, record_id);
    }
  }

  void decode_record(Decoding& d, std::size_t pos, std::uint32_t size, std::uint64_t record_id,
                     const std::string& where, EventSink& sink, DecodeStats& stats) const {
    Event& event = d.event;
    d.builder.begin(event);
    if (!d.parser.parse_record(pos + kRecordHeaderSize, pos + size - 4, d.builder, d.error)) {
      report(sink, stats, record_id,
             where + ": record " + std::to_string(record_id) + " at chunk offset " + hex(pos) +
                 ": " + d.error,
             true);
      return;
    }
    event.set_origin(origin);
    event.source_offset = record_id;
    ++stats.records_read;
    sink.on_event(event);
  }

  std::uint64_t chunk_slots() const {
    return file_size <= kFileHeaderSize
               ? 0
               : (file_size - kFileHeaderSize + kChunkSize - 1) / kChunkSize;
  }

  void check_file_header(EventSink& sink, DecodeStats& stats) const {
    if (!header.checksum_ok)
      report(sink, stats, 0, "file header checksum mismatch or truncated header; reading anyway",
             false);
    if (header.chunk_count > chunk_slots())
      report(sink, stats, 0,
             "header claims " + std::to_string(header.chunk_count) + " chunks, the file holds " +
                 std::to_string(chunk_slots()) + " (truncated?)",
             false);
  }

  // Reads chunk `index` into `d.chunk`; how many bytes arrived (0: reported read error).
  std::size_t load_chunk(Decoding& d, std::uint64_t index, EventSink& sink,
                         DecodeStats& stats) const {
    const std::uint64_t offset = kFileHeaderSize + index * kChunkSize;
    const std::size_t got = read_at(offset, kChunkSize, d.chunk.get());
    stats.bytes_read += got;
    if (got == 0) report(sink, stats, 0, "read error at file offset " + hex(offset), false);
    return got;
  }

  DecodeStats read(EventSink& sink, std::uint64_t after_record_id) {
    DecodeStats stats;
    next_chunk = 0;
    while (read_next_chunk(sink, stats, after_record_id)) {
    }
    return stats;
  }

  // One chunk per call, in file order; false once there is none left.
  bool read_next_chunk(EventSink& sink, DecodeStats& stats, std::uint64_t after_record_id) {
    if (!decoding) decoding = std::make_unique<Decoding>();
    const bool more = read_chunk_step(*decoding, next_chunk, sink, stats, after_record_id);
    next_chunk = more ? next_chunk + 1 : chunk_slots();
    return more;
  }

  // What the call of read_next_chunk that reads chunk `index` does.
  bool read_chunk_step(Decoding& d, std::uint64_t index, EventSink& sink, DecodeStats& stats,
                       std::uint64_t after_record_id) const {
    if (index == 0) check_file_header(sink, stats);
    if (index >= chunk_slots()) return false;
    const std::size_t got = load_chunk(d, index, sink, stats);
    if (got == 0) return false;
    const std::uint64_t offset = kFileHeaderSize + index * kChunkSize;
    read_chunk(d, index, offset, got, sink, stats, after_record_id);
    sink.on_progress(offset + got, file_size);
    return index + 1 < chunk_slots();
  }

  // The same on any thread, with a decoding of its own.
  bool read_chunk_alone(std::uint64_t index, EventSink& sink, DecodeStats& stats) {
    std::unique_ptr<Decoding> d;
    {
      std::lock_guard lock(spare_mu);
      if (!spare.empty()) {
        d = std::move(spare.back());
        spare.pop_back();
      }
    }
    if (!d) d = std::make_unique<Decoding>();
    const bool more = read_chunk_step(*d, index, sink, stats, 0);
    std::lock_guard lock(spare_mu);
    spare.push_back(std::move(d));
    return more;
  }

  bool read_from(EventSink& sink, EvtxPosition& position, DecodeStats& stats) {
    check_file_header(sink, stats);
    if (!decoding) decoding = std::make_unique<Decoding>();
    Decoding& d = *decoding;
    for (std::uint64_t index = position.chunk; index < chunk_slots(); ++index) {
      const std::size_t got = load_chunk(d, index, sink, stats);
      if (got == 0) break;
      const bool resuming = index == position.chunk && position.offset > 0;
      if (resuming &&
          (got < kChunkHeaderSize || le64(d.chunk.get() + 24) != position.chunk_first_id))
        return false;
      const std::uint64_t offset = kFileHeaderSize + index * kChunkSize;
      read_chunk(d, index, offset, got, sink, stats, 0, resuming ? position.offset : 0, &position);
      sink.on_progress(offset + got, file_size);
    }
    return true;
  }
};

NativeEvtxReader::NativeEvtxReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NativeEvtxReader::~NativeEvtxReader() = default;

std::unique_ptr<NativeEvtxReader> NativeEvtxReader::open_file(const std::string& path,
                                                              std::string& error) {
  auto impl = std::make_unique<Impl>();
  impl->origin = path;
  std::string why;
  impl->file = platform::InputFile::open(path, why);
  if (!impl->file) {
    error = path + ": cannot open";
    return nullptr;
  }
  const auto info = impl->file->info();
  if (!info) {
    error = path + ": cannot read its size";
    return nullptr;
  }
  impl->file_size = info->size;
  if (!impl->load_header(error)) return nullptr;
  return std::unique_ptr<NativeEvtxReader>(new NativeEvtxReader(std::move(impl)));
}

std::unique_ptr<NativeEvtxReader> NativeEvtxReader::open_memory(std::string image,
                                                                std::string origin,
                                                                std::string& error) {
  auto impl = std::make_unique<Impl>();
  impl->origin = std::move(origin);
  impl->memory = std::move(image);
  impl->from_memory = true;
  impl->file_size = impl->memory.size();
  if (!impl->load_header(error)) return nullptr;
  return std::unique_ptr<NativeEvtxReader>(new NativeEvtxReader(std::move(impl)));
}

DecodeStats NativeEvtxReader::read(EventSink& sink, std::uint64_t after_record_id) {
  return impl_->read(sink, after_record_id);
}

bool NativeEvtxReader::read_from(EventSink& sink, EvtxPosition& position, DecodeStats& stats) {
  return impl_->read_from(sink, position, stats);
}

bool NativeEvtxReader::read_next_chunk(EventSink& sink, DecodeStats& stats,
                                       std::uint64_t after_record_id) {
  return impl_->read_next_chunk(sink, stats, after_record_id);
}

std::uint64_t NativeEvtxReader::chunk_steps() const {
  return std::max<std::uint64_t>(impl_->chunk_slots(), 1);
}

bool NativeEvtxReader::read_chunk_alone(std::uint64_t step, EventSink& sink, DecodeStats& stats) {
  return impl_->read_chunk_alone(step, sink, stats);
}

std::uint64_t NativeEvtxReader::record_count_hint() const {
  return impl_->count_hint;
}

const EvtxFileHeader& NativeEvtxReader::header() const {
  return impl_->header;
}

std::unique_ptr<EvtxReader> open_native_evtx(const std::string& path, std::string& error) {
  return NativeEvtxReader::open_file(path, error);
}

}  // namespace sw
