// The `file` input's decoding: the records a FileFollower read (JSON lines, Event XML, text
// lines) become Events on the input's own thread, so the detection thread only tracks and
// matches (the relay's two cores each do half the work).
#pragma once

#include <memory>
#include <string>

#include "daemon/inputs/file/file_follower.hpp"
#include "daemon/inputs/file/file_input.hpp"
#include "daemon/work.hpp"
#include "sessionwatch/decode.hpp"

namespace sw::daemon {

class LineDecoder {
 public:
  // `host`: the computer of text lines that name none (unless the input sets `computer`).
  LineDecoder(const FileInputOptions& options, const std::string& host);
  // The events of `lines` (each with its origin and line number) into `out`, with a RecordError
  // per record that is not an event.
  void decode(const LineBatch& lines, EventBatch& out);

 private:
  bool decode_one(std::string_view record, InputFormat format, Ticks now, Event& event,
                  std::string& error);

  JsonLineDecoder json_;
  XmlEventDecoder xml_;
  std::unique_ptr<TextLineDecoder> text_;
  std::shared_ptr<EventPool> pool_ = std::make_shared<EventPool>();
};

}  // namespace sw::daemon
