// The spool reader: a spool directory holding any bytes (torn, flipped or foreign segments, a
// damaged ack file) opens, recovers what is intact and serves it in order, never a crash; what it
// counts as waiting is what it reads, and acknowledging all of it leaves nothing.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "fuzz_util.hpp"
#include "sessionwatch/spool.hpp"

namespace {

namespace fs = std::filesystem;
using sw::fuzz::require;

const fs::path& spool_dir() {
  static const fs::path dir = [] {
    const char* shm = "/dev/shm";
    fs::path base = fs::is_directory(shm) ? fs::path(shm) : fs::temp_directory_path();
    return base / ("sw-fuzz-spool-" + std::to_string(getpid()));
  }();
  return dir;
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le(std::uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

// Input: a flags byte (ack file: none, valid with the next 16 bytes as its position, or the
// next 20 bytes raw; first segment number), then segment files separated by "\n--\n".
void lay_out_spool(std::string_view in, const fs::path& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  if (in.empty()) return;
  const auto flags = static_cast<unsigned char>(in[0]);
  in.remove_prefix(1);
  const int ack_kind = flags % 3;
  if (ack_kind == 1 && in.size() >= 16) {
    std::string ack(in.substr(0, 16));
    ack += le(sw::forward::crc32c(ack), 4);
    write_file(dir / "ack", ack);
    in.remove_prefix(16);
  } else if (ack_kind == 2) {
    write_file(dir / "ack", in.substr(0, 20));
    in.remove_prefix(std::min<std::size_t>(20, in.size()));
  }
  unsigned seq = 1 + ((flags >> 2) & 3);
  for (int i = 0; i < 4; ++i) {
    const std::size_t cut = in.find("\n--\n");
    char name[32];
    std::snprintf(name, sizeof name, "%020u.seg", seq++);
    write_file(dir / name, in.substr(0, cut));
    if (cut == std::string_view::npos) break;
    in.remove_prefix(cut + 4);
  }
}

// Reads everything waiting; positions must grow.
std::vector<sw::forward::SpoolRecord> read_all(sw::forward::Spool& spool) {
  std::vector<sw::forward::SpoolRecord> all, batch;
  while (spool.read(batch, 64, 1 << 20, std::chrono::milliseconds(0))) {
    for (auto& r : batch) {
      require(!r.data.empty(), "empty record read from the spool");
      require(all.empty() || all.back().end < r.end, "spool positions do not grow");
      all.push_back(std::move(r));
    }
    batch.clear();
  }
  return all;
}

}  // namespace

// Recovery logs every cut it makes; thousands of runs a second would only flood the output.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path& dir = spool_dir();
  lay_out_spool(sw::fuzz::as_view(data, size), dir);

  sw::forward::SpoolOptions options;
  options.dir = dir;
  options.max_bytes = 1 << 20;
  options.fsync = sw::forward::FsyncPolicy::kNever;
  std::string error;
  auto spool = sw::forward::Spool::open(options, error);
  require(spool != nullptr, "a spool directory with damaged files did not open", error);

  const std::uint64_t waiting = spool->stats().records;
  auto records = read_all(*spool);
  require(records.size() == waiting, "records read differ from records counted as waiting");
  if (!records.empty()) {
    spool->acknowledge(records[records.size() / 2].end);
    spool->rewind();
    const auto again = read_all(*spool);
    require(again.size() == records.size() - records.size() / 2 - 1,
            "a rewind after a partial acknowledge did not resume after it");
    spool->acknowledge(records.back().end);
  }
  require(spool->stats().records == 0, "records left after acknowledging everything read");
  const std::string_view fresh[] = {"after recovery"};
  require(
      spool->append(fresh, std::chrono::milliseconds(0)).status == sw::forward::AppendStatus::kOk,
      "append after recovery failed");
  require(read_all(*spool).size() == 1, "the record appended after recovery was not read");
  spool.reset();
  fs::remove_all(dir);
  return 0;
}
