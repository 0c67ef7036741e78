// EVTX (the portable native reader): any image, damaged or not, yields events and errors, never
// a crash; and each chunk decoded alone (how `scan` reads one file on every core) gives what
// reading the chunks in order gives at that step.
#include <string>
#include <vector>

#include "evtx_image.hpp"
#include "fuzz_util.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/evtx_native.hpp"

namespace {

// What a step handed on, as text: each event as JSON (write_event_json), errors and progress.
class DigestSink : public sw::EventSink {
 public:
  void on_event(sw::Event& e) override {
    sw::write_event_json(e, text);
    text += '\n';
  }
  void on_error(const sw::DecodeError& e) override {
    text += "error " + std::to_string(e.position) + " " + e.reason + "\n";
  }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    text += "progress " + std::to_string(done) + "/" + std::to_string(total) + "\n";
  }
  std::string text;
};

std::string step_digest(DigestSink& sink, const sw::DecodeStats& stats, bool more) {
  return sink.text + "read " + std::to_string(stats.records_read) + " bad " +
         std::to_string(stats.records_bad) + " bytes " + std::to_string(stats.bytes_read) +
         (more ? " more" : " end");
}

void chunks_alone_match_chunks_in_order(const std::string& image) {
  std::string error;
  auto in_order = sw::NativeEvtxReader::open_memory(image, "fuzz.evtx", error);
  auto alone = sw::NativeEvtxReader::open_memory(image, "fuzz.evtx", error);
  if (!in_order || !alone) return;
  std::vector<std::string> expected;
  bool more = true;
  while (more) {
    DigestSink sink;
    sw::DecodeStats stats;
    more = in_order->read_next_chunk(sink, stats);
    expected.push_back(step_digest(sink, stats, more));
  }
  sw::fuzz::require(alone->chunk_steps() >= expected.size(), "fewer steps alone than in order");
  for (std::size_t k = expected.size(); k-- > 0;) {  // last first
    DigestSink sink;
    sw::DecodeStats stats;
    const bool got_more = alone->read_chunk_alone(k, sink, stats);
    sw::fuzz::require(step_digest(sink, stats, got_more) == expected[k],
                      "a chunk decoded alone differs from the same step in order",
                      std::to_string(k));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string image(sw::fuzz::as_view(data, size));
  sw::fuzz::fix_chunk_checksums(image);
  std::string error;
  auto reader = sw::NativeEvtxReader::open_memory(image, "fuzz.evtx", error);
  if (!reader) {
    sw::fuzz::require(!error.empty(), "open_memory refused without a reason");
    return 0;
  }
  sw::fuzz::CheckingSink sink;
  reader->read(sink);
  reader->read_recovered(sink);
  (void)reader->record_count_hint();
  chunks_alone_match_chunks_in_order(image);
  return 0;
}
