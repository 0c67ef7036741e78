// A portable EVTX reader: decodes each record's BinXML straight into sw::Event, without
// rendering XML in between and without platform calls, so it runs unchanged on Windows.
//
// Damage is reported, never fatal: a chunk whose header checksum fails is skipped, a record that
// does not parse is reported with its chunk and offset, and reading carries on with the next one.
// Chunks are scanned up to the end of the file, not just as far as the header's chunk count, so
// files whose header was not updated (dirty) still yield all their records.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sessionwatch/decode.hpp"

namespace sw {

// What the file header says, for diagnostics and tests.
struct EvtxFileHeader {
  std::uint64_t first_chunk = 0;
  std::uint64_t last_chunk = 0;
  std::uint64_t next_record_id = 0;
  std::uint16_t major_version = 0;
  std::uint16_t minor_version = 0;
  std::uint16_t chunk_count = 0;
  std::uint32_t flags = 0;  // 0x1 dirty, 0x2 full
  bool checksum_ok = false;
};

// Where a reader stopped in a file, to carry on after the last record handed on. Record ids do not
// do for this: exports and merged files number their chunks and records in their own ways, and
// ids need not grow in file order.
struct EvtxPosition {
  std::uint64_t chunk = 0;           // index of the chunk the next record is in
  std::uint32_t offset = 0;          // in that chunk, after the last record handed on (0: start)
  std::uint64_t chunk_first_id = 0;  // that chunk's first record id, to tell a rewritten chunk
  std::uint64_t last_record_id = 0;  // record header id of the last record handed on
  friend bool operator==(const EvtxPosition&, const EvtxPosition&) = default;
};

class NativeEvtxReader final : public EvtxReader {
 public:
  // Opens an EVTX file; nullptr with `error` set when it cannot be read or does not start with
  // the EVTX signature.
  static std::unique_ptr<NativeEvtxReader> open_file(const std::string& path, std::string& error);
  // Reads an EVTX image held in memory (carved data, tests). `origin` names it in events and
  // errors.
  static std::unique_ptr<NativeEvtxReader> open_memory(std::string image, std::string origin,
                                                       std::string& error);
  ~NativeEvtxReader() override;
  NativeEvtxReader(const NativeEvtxReader&) = delete;
  NativeEvtxReader& operator=(const NativeEvtxReader&) = delete;

  // Records in file order (chunk by chunk), skipping those with a record id <= after_record_id.
  // Event::source_offset is the record id; Event::origin the path.
  DecodeStats read(EventSink& sink, std::uint64_t after_record_id = 0) override;
  // Records after `position` in file order; `position` moves past each record handed on. The part
  // of a chunk not written yet (a file still growing) is left for the next call. False, reading
  // nothing, when the chunk at `position` holds other records now (file replaced, log wrapped).
  bool read_from(EventSink& sink, EvtxPosition& position, DecodeStats& stats);
  // The same a chunk per call, for readers that pull (read() is this in a loop): adds to `stats`;
  // false once the last chunk was read.
  bool read_next_chunk(EventSink& sink, DecodeStats& stats, std::uint64_t after_record_id = 0);
  // Every chunk carries its own string and template tables, so chunks decode independently:
  // read_chunk_alone(k) hands on what the k-th call of read_next_chunk (from 0) would, and
  // returns what it returns. Several threads may call it at once for different steps; it leaves
  // read_next_chunk's position alone. chunk_steps(): how many calls read the whole file.
  std::uint64_t chunk_steps() const;
  bool read_chunk_alone(std::uint64_t step, EventSink& sink, DecodeStats& stats);
  // Sum of the record ranges the chunk headers claim.
  std::uint64_t record_count_hint() const override;
  const EvtxFileHeader& header() const;

  struct Impl;

 private:
  explicit NativeEvtxReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The factory the decoders use: the native reader as a plain EvtxReader.
std::unique_ptr<EvtxReader> open_native_evtx(const std::string& path, std::string& error);

}  // namespace sw
