// Decoders: bytes from any source -> normalized sw::Event.
//
// Every decoder reports bad records to the sink and carries on; none throws across this API.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sessionwatch/event.hpp"

namespace sw {

enum class InputFormat { kAuto, kEvtx, kXml, kJsonl, kText };

std::string_view to_string(InputFormat f);
// "auto" | "evtx" | "xml" | "jsonl" | "text"; nullopt-like kAuto with ok=false on anything else.
bool parse_input_format(std::string_view s, InputFormat& out);

// Guesses the format from the first bytes of a file or stream: "ElfFile\0" -> EVTX, '<' -> XML,
// '{' -> JSON lines, else text. Leading whitespace and a UTF-8 BOM are skipped.
InputFormat detect_format(std::string_view head);

struct DecodeError {
  std::string origin;      // file path or "stdin"
  std::uint64_t position;  // record number (EVTX), line number (lines), byte offset (XML)
  std::string reason;      // what was wrong, for a human
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
};

struct DecodeStats {
  std::uint64_t records_read = 0;  // records handed to on_event
  std::uint64_t records_bad = 0;   // records reported to on_error
  std::uint64_t bytes_read = 0;
};

struct DecodeOptions {
  InputFormat format = InputFormat::kAuto;
  // For text lines with no computer name of their own.
  std::string default_computer;
  // For text lines with no channel of their own.
  std::string default_channel = "Application";
};

// Decodes a whole file, or standard input when path is "-". Never throws; an unreadable file is
// one DecodeError with position 0 and no records.
DecodeStats decode_file(const std::string& path, const DecodeOptions& options, EventSink& sink);

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

// Reads an EVTX file record by record (libevtx on POSIX, the Windows Event Log API on Windows).
class EvtxReader {
 public:
  virtual ~EvtxReader() = default;
  // Open a file; false with `error` set when it is not an EVTX file or cannot be read.
  static std::unique_ptr<EvtxReader> open(const std::string& path, std::string& error);
  // Decodes every record from the one after `after_record_id` (0 = from the start) into the sink.
  virtual DecodeStats read(EventSink& sink, std::uint64_t after_record_id = 0) = 0;
  // Records recovered from slack space (older, overwritten chunks) whose record id is not among
  // the records read() yields; not part of read(). Empty where recovery is not supported.
  virtual DecodeStats read_recovered(EventSink& /*sink*/) { return {}; }
  // Records the file header claims (for progress and cross-checks).
  virtual std::uint64_t record_count_hint() const = 0;
};

}  // namespace sw
