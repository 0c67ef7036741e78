// Native EVTX reader against libevtx, on the same corpus files in the same run.
//
//   BM_NativeEvtx/<file>        NativeEvtxReader: BinXML straight to sw::Event
//   BM_LibevtxXml/<file>        libevtx alone: every record rendered to an XML string
//                               (libevtx_record_get_utf8_xml_string), nothing decoded
//   BM_LibevtxXmlDecoded/<file> libevtx's XML decoded by the team's XML decoder: the whole
//                               libevtx path to the same sw::Event
//
// Counters: records/s and bytes/s (file bytes). Files absent -> the benchmark says so and skips.
#include <benchmark/benchmark.h>
#include <libevtx.h>

#include <filesystem>
#include <string>
#include <vector>

#include "decode/xml/xml_event_decoder.hpp"
#include "sessionwatch/evtx_native.hpp"

namespace {

const std::string kCorpus = std::string(SW_SHARED_DIR) + "/corpus/evtx/";

struct BenchFile {
  const char* label;
  std::string path;
};

const std::vector<BenchFile>& bench_files() {
  static const std::vector<BenchFile> files = {
      {"security", kCorpus + "omerbenamram-evtx/security.evtx"},
      {"system", kCorpus + "omerbenamram-evtx/system.evtx"},
      {"rcm_operational",
       kCorpus +
           "omerbenamram-evtx/2-vss_0-TerminalServices-RemoteConnectionManager_Operational.evtx"},
      {"rdpauth_security", kCorpus + "velociraptor/RDPAuth_Security.evtx"},
  };
  return files;
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

void set_counters(benchmark::State& state, std::uint64_t records, std::uint64_t bytes) {
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.counters["bytes/s"] = benchmark::Counter(
      static_cast<double>(bytes), benchmark::Counter::kIsRate, benchmark::Counter::OneK::kIs1024);
}

void BM_NativeEvtx(benchmark::State& state, const BenchFile& file) {
  if (!std::filesystem::exists(file.path)) {
    state.SkipWithError(("skipped: corpus file absent: " + file.path).c_str());
    return;
  }
  const auto size = std::filesystem::file_size(file.path);
  std::uint64_t records = 0, bytes = 0;
  for (auto _ : state) {
    std::string error;
    auto reader = sw::NativeEvtxReader::open_file(file.path, error);
    if (!reader) {
      state.SkipWithError(error.c_str());
      return;
    }
    CountingSink sink;
    reader->read(sink);
    records += sink.events;
    bytes += size;
    benchmark::DoNotOptimize(sink.fields);
  }
  set_counters(state, records, bytes);
}

// Walks every record through libevtx; `decode` also runs the XML decoder on each.
void libevtx_pass(benchmark::State& state, const BenchFile& file, bool decode) {
  if (!std::filesystem::exists(file.path)) {
    state.SkipWithError(("skipped: corpus file absent: " + file.path).c_str());
    return;
  }
  const auto size = std::filesystem::file_size(file.path);
  std::uint64_t records = 0, bytes = 0;
  std::string xml, buffer, error_text;
  sw::Event event;
  for (auto _ : state) {
    libevtx_file_t* handle = nullptr;
    if (libevtx_file_initialize(&handle, nullptr) != 1 ||
        libevtx_file_open(handle, file.path.c_str(), LIBEVTX_OPEN_READ, nullptr) != 1) {
      state.SkipWithError("libevtx cannot open the file");
      return;
    }
    int count = 0;
    libevtx_file_get_number_of_records(handle, &count, nullptr);
    for (int i = 0; i < count; ++i) {
      libevtx_record_t* record = nullptr;
      if (libevtx_file_get_record_by_index(handle, i, &record, nullptr) != 1) continue;
      std::size_t length = 0;
      if (libevtx_record_get_utf8_xml_string_size(record, &length, nullptr) == 1 && length > 0) {
        xml.resize(length);
        if (libevtx_record_get_utf8_xml_string(record, reinterpret_cast<std::uint8_t*>(xml.data()),
                                               length, nullptr) == 1) {
          ++records;
          if (decode) {
            std::size_t offset = 0;
            while (!xml.empty() && xml.back() == '\0') xml.pop_back();
            sw::xml_detail::decode_event(xml, buffer, event, error_text, offset);
            benchmark::DoNotOptimize(event.fields().size());
          }
        }
      }
      libevtx_record_free(&record, nullptr);
    }
    libevtx_file_close(handle, nullptr);
    libevtx_file_free(&handle, nullptr);
    bytes += size;
  }
  set_counters(state, records, bytes);
}

void BM_LibevtxXml(benchmark::State& state, const BenchFile& file) {
  libevtx_pass(state, file, false);
}

void BM_LibevtxXmlDecoded(benchmark::State& state, const BenchFile& file) {
  libevtx_pass(state, file, true);
}

const bool registered = [] {
  for (const BenchFile& f : bench_files()) {
    benchmark::RegisterBenchmark((std::string("BM_NativeEvtx/") + f.label).c_str(), BM_NativeEvtx,
                                 f)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("BM_LibevtxXml/") + f.label).c_str(), BM_LibevtxXml,
                                 f)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("BM_LibevtxXmlDecoded/") + f.label).c_str(),
                                 BM_LibevtxXmlDecoded, f)
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
