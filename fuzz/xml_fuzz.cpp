// Event XML: the stream splitter (<Events> wrappers, concatenated <Event>s) and the single-event
// decoder on the whole input.
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml = sw::fuzz::as_view(data, size);
  sw::fuzz::CheckingSink sink;
  sw::decode_xml_stream(xml, "fuzz.xml", sink);

  sw::XmlEventDecoder decoder;
  sw::Event event;
  std::string error;
  if (decoder.decode(xml, event, error)) {
    sw::fuzz::check_event(event);
  } else {
    sw::fuzz::require(!error.empty(), "XML event refused without a reason");
  }
  return 0;
}
