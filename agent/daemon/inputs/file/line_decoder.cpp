#include "daemon/inputs/file/line_decoder.hpp"

namespace sw::daemon {

namespace {

std::unique_ptr<TextLineDecoder> make_text_decoder(const FileInputOptions& input,
                                                   const std::string& host) {
  DecodeOptions options;
  options.format = InputFormat::kText;
  options.default_computer = input.computer.empty() ? host : input.computer;
  if (!input.channel.empty()) options.default_channel = input.channel;
  return std::make_unique<TextLineDecoder>(options);
}

}  // namespace

LineDecoder::LineDecoder(const FileInputOptions& options, const std::string& host)
    : text_(make_text_decoder(options, host)) {
  json_.set_nxlog_time_offset(options.nxlog_time_offset_minutes);
}

bool LineDecoder::decode_one(std::string_view record, InputFormat format, Ticks now, Event& event,
                             std::string& error) {
  if (format == InputFormat::kAuto) format = detect_format(record);
  switch (format) {
    case InputFormat::kXml:
      return xml_.decode(record, event, error);
    case InputFormat::kText:
      return text_->decode(record, now, event, error);
    default:
      return json_.decode(record, event, error);
  }
}

void LineDecoder::decode(const LineBatch& lines, EventBatch& out) {
  const Ticks now = now_ticks();
  std::string error;
  out.errors = lines.errors;
  std::vector<Event> events = pool_->take();
  std::size_t count = 0;
  for (const RecordRef& r : lines.records) {
    const std::string_view record(lines.data.data() + r.offset, r.length);
    if (count == events.size()) events.emplace_back();
    Event& event = events[count];  // each decoder clears it first
    error.clear();
    if (!decode_one(record, lines.format, now, event, error)) {
      out.errors.push_back({r.number, error.empty() ? "not an event" : error});
      continue;
    }
    event.set_origin(lines.path);
    event.source_offset = r.number;
    out.memory += event.footprint();
    ++count;
  }
  events.resize(count);
  out.events = std::move(events);
  out.pool = pool_;
  out.bytes_read = lines.data.size();
  out.records_read = lines.records.size() + lines.errors.size();
}

}  // namespace sw::daemon
