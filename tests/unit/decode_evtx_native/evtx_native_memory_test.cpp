// What a reader held open costs: `scan` and the merge open every file before reading any, so a
// folder of many EVTX files must not cost a fixed slab per file beyond the chunk it reads.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <vector>

#include "sanitized.hpp"
#include "sessionwatch/evtx_native.hpp"
#include "unit/decode_evtx_native/evtx_native_test_util.hpp"

namespace sw {
namespace {

using evtx_native_test::CollectingSink;
using evtx_native_test::fixture;

// Resident memory of this process in bytes (Linux), or -1 where /proc is not there.
long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return -1;
  return resident * 4096;
}

TEST(EvtxNativeMemory, ReaderHeldOpenCostsLittleMoreThanItsChunk) {
#if defined(SW_SANITIZED)
  GTEST_SKIP() << "resident memory under a sanitizer counts its shadow memory (and quarantine)";
#endif
  if (resident_bytes() < 0) GTEST_SKIP() << "no /proc/self/statm";
  constexpr int kReaders = 64;
  const std::string path = fixture("ID4625_failed_login_account_restriction.evtx");
  std::vector<std::unique_ptr<NativeEvtxReader>> readers;
  readers.reserve(kReaders);
  CollectingSink sink;
  DecodeStats stats;
  const long before = resident_bytes();
  for (int i = 0; i < kReaders; ++i) {
    std::string error;
    readers.push_back(NativeEvtxReader::open_file(path, error));
    ASSERT_TRUE(readers.back()) << error;
    readers.back()->read_next_chunk(sink, stats);  // the merge reads every first chunk first
  }
  const long per_reader = (resident_bytes() - before) / kReaders;
  EXPECT_GT(stats.records_read, 0u);
  // The 64 KiB chunk buffer, the file buffer, the few pages of the name index its names touch
  // and the events kept by the sink; a name index zeroed up front alone was 256 KiB.
  EXPECT_LT(per_reader, 192 * 1024) << "resident bytes per open reader: " << per_reader;
}

}  // namespace
}  // namespace sw
