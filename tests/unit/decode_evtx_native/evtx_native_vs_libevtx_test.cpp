// The native reader against libevtx: every EVTX file of the shared corpus is decoded twice, once
// natively and once as libevtx's Event XML through the team's XML decoder, and the events must be
// identical. Records only one side can decode are listed; the native side must not be the one
// missing them.
#include <gtest/gtest.h>
#include <libevtx.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "decode/xml/xml_event_decoder.hpp"
#include "sessionwatch/evtx_native.hpp"
#include "unit/decode_evtx_native/evtx_native_test_util.hpp"

namespace sw {
namespace {

using evtx_native_test::CollectingSink;
using evtx_native_test::describe_differences;
using evtx_native_test::files_under;

struct LibevtxResult {
  bool opened = false;
  std::map<std::uint64_t, Event> events;
  std::map<std::uint64_t, std::string> failures;  // record id (or index + 1) -> why
};

LibevtxResult decode_with_libevtx(const std::string& path) {
  LibevtxResult result;
  libevtx_file_t* file = nullptr;
  libevtx_error_t* error = nullptr;
  if (libevtx_file_initialize(&file, &error) != 1) {
    libevtx_error_free(&error);
    return result;
  }
  if (libevtx_file_open(file, path.c_str(), LIBEVTX_OPEN_READ, &error) != 1) {
    libevtx_error_free(&error);
    libevtx_file_free(&file, nullptr);
    return result;
  }
  result.opened = true;
  int count = 0;
  if (libevtx_file_get_number_of_records(file, &count, &error) != 1) {
    libevtx_error_free(&error);
    count = 0;
  }
  std::string xml, buffer, decode_error;
  for (int index = 0; index < count; ++index) {
    libevtx_record_t* record = nullptr;
    if (libevtx_file_get_record_by_index(file, index, &record, &error) != 1) {
      libevtx_error_free(&error);
      result.failures[static_cast<std::uint64_t>(index) + 1] = "libevtx: no record";
      continue;
    }
    std::uint64_t id = 0;
    std::size_t size = 0;
    if (libevtx_record_get_identifier(record, &id, &error) != 1 ||
        libevtx_record_get_utf8_xml_string_size(record, &size, &error) != 1 || size == 0) {
      libevtx_error_free(&error);
      result.failures[id != 0 ? id : static_cast<std::uint64_t>(index) + 1] =
          "libevtx: cannot render";
      libevtx_record_free(&record, nullptr);
      continue;
    }
    xml.assign(size, '\0');
    const int rendered = libevtx_record_get_utf8_xml_string(
        record, reinterpret_cast<std::uint8_t*>(xml.data()), size, &error);
    libevtx_record_free(&record, nullptr);
    if (rendered != 1) {
      libevtx_error_free(&error);
      result.failures[id] = "libevtx: cannot render";
      continue;
    }
    while (!xml.empty() && xml.back() == '\0') xml.pop_back();
    Event event;
    std::size_t offset = 0;
    if (!xml_detail::decode_event(xml, buffer, event, decode_error, offset)) {
      result.failures[id] = "XML decoder: " + decode_error;
      continue;
    }
    event.set_origin(path);
    event.source_offset = id;
    result.events.emplace(id, std::move(event));
  }
  libevtx_file_close(file, nullptr);
  libevtx_file_free(&file, nullptr);
  return result;
}

TEST(EvtxNativeVsLibevtx, CorpusDecodesToIdenticalEvents) {
  std::vector<std::string> files = files_under(evtx_native_test::shared_dir() + "/corpus", ".evtx");
  if (files.empty()) GTEST_SKIP() << "shared corpus not found under " << SW_SHARED_DIR;

  std::uint64_t compared = 0, identical = 0, native_only = 0, libevtx_only = 0, files_read = 0;
  std::vector<std::string> differences;
  std::vector<std::string> libevtx_gaps;
  for (const std::string& path : files) {
    const LibevtxResult lib = decode_with_libevtx(path);
    std::string error;
    auto reader = NativeEvtxReader::open_file(path, error);
    ASSERT_NE(reader, nullptr) << error;
    CollectingSink sink;
    reader->read(sink);
    ++files_read;
    std::map<std::uint64_t, const Event*> native;
    for (const Event& e : sink.events) native.emplace(e.source_offset, &e);
    for (const auto& [id, expected] : lib.events) {
      auto it = native.find(id);
      if (it == native.end()) {
        ++libevtx_only;
        std::string why;
        for (const DecodeError& d : sink.errors) {
          if (d.position == id) why = d.reason;
        }
        differences.push_back(path + " record " + std::to_string(id) +
                              ": libevtx decodes it, the native reader does not: " + why);
        continue;
      }
      ++compared;
      const std::string diff = describe_differences(expected, *it->second);
      if (diff.empty()) {
        ++identical;
      } else {
        differences.push_back(path + " record " + std::to_string(id) + ":\n" + diff);
      }
    }
    for (const auto& [id, event] : native) {
      if (lib.events.contains(id)) continue;
      ++native_only;
      auto failure = lib.failures.find(id);
      libevtx_gaps.push_back(path + " record " + std::to_string(id) + " (event " +
                             std::to_string(event->event_id) + "): " +
                             (!lib.opened                     ? "libevtx cannot open the file"
                              : failure != lib.failures.end() ? failure->second
                                                              : "libevtx does not list it"));
    }
  }
  std::cout << "files " << files_read << ", records compared " << compared << ", identical "
            << identical << ", only native " << native_only << ", only libevtx " << libevtx_only
            << "\n";
  constexpr std::size_t kShow = 40;
  for (std::size_t i = 0; i < libevtx_gaps.size() && i < kShow; ++i)
    std::cout << "  libevtx gap: " << libevtx_gaps[i] << "\n";
  for (std::size_t i = 0; i < differences.size() && i < kShow; ++i) ADD_FAILURE() << differences[i];
  EXPECT_EQ(differences.size(), 0u);
  EXPECT_GT(compared, 1000u);
}

}  // namespace
}  // namespace sw
