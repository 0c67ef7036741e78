// EVTX and Event XML decoding throughput.
//
//   BM_EvtxRead/security       EvtxReader end to end on the corpus security.evtx (libevtx + ours)
//   BM_LibevtxRenderOnly       libevtx alone: every record rendered to XML, nothing decoded
//   BM_XmlDecodeSingle4624     XmlEventDecoder::decode on one 4624 event (wevtutil rendering)
//   BM_XmlStreamWevtutil       decode_xml_stream over 8000 concatenated session events
//
// The first two split EVTX time between libevtx's BinXML rendering and our XML decoding.
#include <benchmark/benchmark.h>
#include <libevtx.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "oracle/evtx/evtx_oracle.hpp"
#include "sessionwatch/decode.hpp"

namespace {

const std::string kSecurityEvtx =
    std::string(SW_SHARED_DIR) + "/corpus/evtx/omerbenamram-evtx/security.evtx";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class CountingSink : public sw::EventSink {
 public:
  void on_event(sw::Event& event) override {
    ++events;
    fields += event.fields().size();
  }
  void on_error(const sw::DecodeError&) override { ++errors; }
  std::uint64_t events = 0;
  std::uint64_t fields = 0;
  std::uint64_t errors = 0;
};

void BM_EvtxRead(benchmark::State& state) {
  if (!std::filesystem::exists(kSecurityEvtx)) {
    state.SkipWithError(("skipped: corpus file absent: " + kSecurityEvtx).c_str());
    return;
  }
  const auto size = std::filesystem::file_size(kSecurityEvtx);
  std::uint64_t records = 0;
  for (auto _ : state) {
    std::string error;
    auto reader = sw::open_oracle_evtx(kSecurityEvtx, error);
    if (!reader) {
      state.SkipWithError(error.c_str());
      return;
    }
    CountingSink sink;
    reader->read(sink);
    records += sink.events;
    benchmark::DoNotOptimize(sink.fields);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(size * state.iterations()));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EvtxRead)->Name("BM_EvtxRead/security")->Unit(benchmark::kMillisecond);

void BM_LibevtxRenderOnly(benchmark::State& state) {
  if (!std::filesystem::exists(kSecurityEvtx)) {
    state.SkipWithError(("skipped: corpus file absent: " + kSecurityEvtx).c_str());
    return;
  }
  const auto size = std::filesystem::file_size(kSecurityEvtx);
  std::uint64_t records = 0;
  std::string xml;
  for (auto _ : state) {
    libevtx_file_t* file = nullptr;
    libevtx_file_initialize(&file, nullptr);
    if (libevtx_file_open(file, kSecurityEvtx.c_str(), LIBEVTX_OPEN_READ, nullptr) != 1) {
      libevtx_file_free(&file, nullptr);
      state.SkipWithError("libevtx could not open the file");
      return;
    }
    int count = 0;
    libevtx_file_get_number_of_records(file, &count, nullptr);
    for (int i = 0; i < count; ++i) {
      libevtx_record_t* record = nullptr;
      if (libevtx_file_get_record_by_index(file, i, &record, nullptr) != 1) continue;
      std::size_t n = 0;
      if (libevtx_record_get_utf8_xml_string_size(record, &n, nullptr) == 1 && n > 0) {
        xml.resize(n);
        libevtx_record_get_utf8_xml_string(record, reinterpret_cast<std::uint8_t*>(xml.data()), n,
                                           nullptr);
        ++records;
      }
      benchmark::DoNotOptimize(xml.data());
      libevtx_record_free(&record, nullptr);
    }
    libevtx_file_close(file, nullptr);
    libevtx_file_free(&file, nullptr);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(size * state.iterations()));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LibevtxRenderOnly)->Unit(benchmark::kMillisecond);

std::string first_event_of(const std::string& stream) {
  const auto end = stream.find("</Event>");
  return end == std::string::npos ? std::string() : stream.substr(0, end + 8);
}

void BM_XmlDecodeSingle4624(benchmark::State& state) {
  const std::string xml = first_event_of(
      read_file(std::string(SW_TEST_DATA_DIR) + "/xml/security_session_wevtutil.xml"));
  if (xml.empty()) {
    state.SkipWithError("skipped: tests/data/xml/security_session_wevtutil.xml absent");
    return;
  }
  sw::XmlEventDecoder decoder;
  sw::Event event;
  std::string error;
  for (auto _ : state) {
    if (!decoder.decode(xml, event, error)) {
      state.SkipWithError(error.c_str());
      return;
    }
    benchmark::DoNotOptimize(event.fields().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(xml.size() * state.iterations()));
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_XmlDecodeSingle4624);

void BM_XmlStreamWevtutil(benchmark::State& state) {
  const std::string one =
      read_file(std::string(SW_TEST_DATA_DIR) + "/xml/security_session_wevtutil.xml");
  if (one.empty()) {
    state.SkipWithError("skipped: tests/data/xml/security_session_wevtutil.xml absent");
    return;
  }
  std::string stream;
  for (int i = 0; i < 1000; ++i) stream += one;
  std::uint64_t events = 0;
  for (auto _ : state) {
    CountingSink sink;
    sw::decode_xml_stream(stream, "bench", sink);
    events += sink.events;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(stream.size() * state.iterations()));
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_XmlStreamWevtutil)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
