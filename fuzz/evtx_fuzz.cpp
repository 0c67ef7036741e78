// EVTX (the portable native reader): any image, damaged or not, yields events and errors, never
// a crash.
#include "evtx_image.hpp"
#include "fuzz_util.hpp"
#include "sessionwatch/evtx_native.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string image(sw::fuzz::as_view(data, size));
  sw::fuzz::fix_chunk_checksums(image);
  std::string error;
  auto reader = sw::NativeEvtxReader::open_memory(std::move(image), "fuzz.evtx", error);
  if (!reader) {
    sw::fuzz::require(!error.empty(), "open_memory refused without a reason");
    return 0;
  }
  sw::fuzz::CheckingSink sink;
  reader->read(sink);
  reader->read_recovered(sink);
  (void)reader->record_count_hint();
  return 0;
}
