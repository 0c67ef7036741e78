// Decoders: bytes from any source -> normalized sw::Event.
//
// Every decoder reports bad records to the sink and carries on; none throws across this API.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/event.hpp"

namespace sw {

enum class InputFormat { kAuto, kEvtx, kXml, kJsonl, kText };

std::string_view to_string(InputFormat f);
// "auto" | "evtx" | "xml" | "jsonl" | "text"; nullopt-like kAuto with ok=false on anything else.
bool parse_input_format(std::string_view s, InputFormat& out);

// "UTC", "Z", "+01:00", "-0530", "+1" -> minutes east of UTC; false on anything else. A fixed
// offset: daylight saving time is not followed (NXLog can write UTC or a zone instead).
bool parse_utc_offset(std::string_view s, int& minutes);

// Guesses the format from the first bytes of a file or stream: "ElfFile\0" -> EVTX, '<' -> XML,
// '{' -> JSON lines, else text. Leading whitespace and a UTF-8 BOM are skipped.
InputFormat detect_format(std::string_view head);

struct DecodeError {
  // kRecord: a record could not be decoded (counted in DecodeStats::records_bad).
  // kNotice: something about the input worth saying that loses no record by itself (a damaged
  //   EVTX chunk header, "reading anyway", an empty stream).
  // kFile: the input cannot be read at all (missing, a directory, not a format the agent reads).
  enum class Kind { kRecord, kNotice, kFile };
  std::string origin;      // file path or "stdin"
  std::uint64_t position;  // record number (EVTX), line number (lines), byte offset (XML)
  std::string reason;      // what was wrong, for a human (without the origin)
  Kind kind = Kind::kRecord;
};

// Receives what a decoder produces. The Event reference is only valid during the call (decoders
// reuse one Event), so a sink that keeps events must copy them.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(Event& event) = 0;
  virtual void on_error(const DecodeError& error) = 0;
  // Called now and then with bytes consumed so far and the total (0 when unknown).
  virtual void on_progress(std::uint64_t /*done*/, std::uint64_t /*total*/) {}
  // false while on_event would wait for something another thread is still preparing (a scan's
  // rules): a caller with other work to do (decoding ahead) does it first.
  virtual bool ready() { return true; }
};

struct DecodeStats {
  std::uint64_t records_read = 0;  // records handed to on_event
  std::uint64_t records_bad = 0;   // records reported to on_error
  std::uint64_t bytes_read = 0;

  DecodeStats& operator+=(const DecodeStats& other) {
    records_read += other.records_read;
    records_bad += other.records_bad;
    bytes_read += other.bytes_read;
    return *this;
  }
};

struct DecodeOptions {
  InputFormat format = InputFormat::kAuto;
  // The zone of NXLog's EventTime when it carries none ("2021-02-12 12:34:28" is the writer's
  // local time unless NXLog is configured otherwise), as minutes east of UTC. A time with a zone
  // (or 'Z') is taken as written. 0: UTC.
  int nxlog_time_offset_minutes = 0;
  // For text lines with no computer name of their own.
  std::string default_computer;
  // For text lines with no channel of their own.
  std::string default_channel = "Application";
};

// Decodes a whole file, or standard input when path is "-". Never throws; an unreadable file, or
// one that is not a format the agent reads (binary, an archive), is one DecodeError of kind kFile
// with position 0 and no records. gzip-compressed files are decompressed as they are read.
DecodeStats decode_file(const std::string& path, const DecodeOptions& options, EventSink& sink);

// Why `head` (the first bytes of an input, after decompression and UTF-16 conversion) is not a
// log this agent reads: "an ELF executable", "binary data (a NUL byte at offset 12)",
// "xz-compressed data (decompress it first)"; nullopt when it may be one (text, Event XML, JSON
// lines; EVTX is recognized before this check).
std::optional<std::string> not_a_log(std::string_view head);

// A file decoded a piece at a time (one read of the file, one EVTX chunk), for callers that pull:
// the time-ordered merge of several files reads from whichever file is behind.
class DecodeStream {
 public:
  // Opens `path` ("-": standard input) and detects its format; events and errors of later steps
  // go to `sink`, which must outlive the stream. nullptr with `error` (a sentence naming the file
  // and why) when it cannot be read or is not a log: see decode_file. `read_size`: bytes of a
  // text file read per step (memory per open stream).
  static std::unique_ptr<DecodeStream> open(const std::string& path, const DecodeOptions& options,
                                            EventSink& sink, std::string& error,
                                            std::size_t read_size = std::size_t{1} << 20);
  virtual ~DecodeStream() = default;
  // Decodes the next piece into the sink. False once the input is exhausted (the last call may
  // still have delivered events).
  virtual bool step() = 0;
  virtual const DecodeStats& stats() const = 0;
  // Bytes the file holds (0 when unknown: standard input).
  virtual std::uint64_t size() const = 0;

  // Streams whose steps do not depend on each other (an EVTX file: every chunk carries its own
  // string and template tables) can be decoded on several threads at once. independent_steps():
  // how many steps read the whole input, 0 when steps must run in order through step().
  // step_alone(k, ...) does what the k-th call of step() (from 0) does, its events and errors going
  // to `sink` and its counts added to `stats`, and returns what that call returns; threads may
  // run it at once for different k, and the stream's own stats() are left alone.
  virtual std::uint64_t independent_steps() const { return 0; }
  virtual bool step_alone(std::uint64_t /*k*/, EventSink& /*sink*/, DecodeStats& /*stats*/) {
    return false;
  }
};

// ---- Several files as one stream in event time ----

struct MergeOptions {
  // Each file is read as mostly time-ordered: its events are held this long (event time) so that
  // small disorder inside it (records written by several threads: 11 s in a busy Security log,
  // 26 s in a System log of the corpus) is put right.
  Ticks reorder_window = 60 * kTicksPerSecond;
  // Events held across all files, shared among them: a file over its share releases its oldest
  // early (and the daemon's merge releases the oldest of all beyond it).
  std::size_t max_held_events = 100000;
  // The bytes those events may take, shared the same way: the window of a dense input (a fleet's
  // forwarded events, thousands a second) is bounded by this, not by its length in time.
  std::size_t max_held_bytes = 16 * 1024 * 1024;
  // Threads decoding files ahead of the merge (the merge delivers the same events in the same
  // order either way). -1: one per core beyond the first when there are several files; 0: none.
  int decode_threads = -1;
};

struct MergeStats {
  std::size_t held_peak = 0;        // most events held at once
  std::size_t held_bytes_peak = 0;  // most bytes they took at once
  std::uint64_t late_events = 0;    // released after a later one (disorder beyond the window)
  std::uint64_t files_refused = 0;  // files that could not be opened or are not logs
};

// Decodes every file and hands the events to `sink` in event-time order, as a k-way merge of the
// files (each read a piece at a time), so the result does not depend on the order of `paths` and
// memory stays bounded by MergeOptions, not by the input. Ties in time are broken by path, then
// by position in the file. A file that cannot be read is one DecodeError of kind kFile.
DecodeStats decode_files_merged(const std::vector<std::string>& paths, const DecodeOptions& options,
                                EventSink& sink, const MergeOptions& merge = {},
                                MergeStats* merge_stats = nullptr);

// Decodes an in-memory buffer holding one format (XML, JSON lines or text; EVTX needs a file).
DecodeStats decode_buffer(std::string_view data, std::string_view origin,
                          const DecodeOptions& options, EventSink& sink);

// ---- Per-format decoders, reused by streaming inputs (the daemon feeds them line by line) ----

// One <Event> element (namespace-qualified or not) as Windows renders it.
// Returns false and sets `error` when it is not a well-formed Event.
class XmlEventDecoder {
 public:
  bool decode(std::string_view xml, Event& out, std::string& error);

 private:
  std::string scratch_;
};

// Splits a stream of Event XML (<Events> wrapper, concatenated <Event>s) and decodes each.
DecodeStats decode_xml_stream(std::string_view data, std::string_view origin, EventSink& sink);

// One JSON object per line, Winlogbeat/ECS or NXLog im_msvistalog shape. Keeps a parser between
// calls, so reuse one decoder per stream.
class JsonLineDecoder {
 public:
  JsonLineDecoder();
  ~JsonLineDecoder();
  JsonLineDecoder(JsonLineDecoder&&) noexcept;
  JsonLineDecoder& operator=(JsonLineDecoder&&) noexcept;
  bool decode(std::string_view line, Event& out, std::string& error);
  // See DecodeOptions::nxlog_time_offset_minutes.
  void set_nxlog_time_offset(int minutes);
  // Tests: off reads every line with the exact (On-Demand) reader alone, which the fast (DOM)
  // reader must match event for event and error for error.
  void use_fast_reader(bool on);
  // Lines the fast reader left to the exact one (each was read twice): invalid or refused lines,
  // and those it cannot render as written (see json_line_decoder.cpp).
  std::uint64_t lines_read_again() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A plain text line (tool output, script logs). Always yields an event unless the line is empty.
class TextLineDecoder {
 public:
  explicit TextLineDecoder(const DecodeOptions& options) : options_(options) {}
  // `now` is used when the line carries no timestamp of its own.
  bool decode(std::string_view line, Ticks now, Event& out, std::string& error);

 private:
  DecodeOptions options_;
};

// Writes the event as one JSON object in the Winlogbeat/ECS shape that JsonLineDecoder reads back
// unchanged. Appends to `out`, no trailing newline.
void write_event_json(const Event& event, std::string& out);

// Reads an EVTX file record by record: NativeEvtxReader (sessionwatch/evtx_native.hpp), and in
// tests the libevtx and Event Log API readers it is checked against (tests/oracle/evtx).
class EvtxReader {
 public:
  virtual ~EvtxReader() = default;
  // Decodes every record from the one after `after_record_id` (0 = from the start) into the sink.
  virtual DecodeStats read(EventSink& sink, std::uint64_t after_record_id = 0) = 0;
  // Records recovered from slack space (older, overwritten chunks) whose record id is not among
  // the records read() yields; not part of read(). Empty where recovery is not supported.
  virtual DecodeStats read_recovered(EventSink& /*sink*/) { return {}; }
  // Records the file header claims (for progress and cross-checks).
  virtual std::uint64_t record_count_hint() const = 0;
};

}  // namespace sw
