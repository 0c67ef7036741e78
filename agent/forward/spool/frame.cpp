#include "forward/spool/frame.hpp"

#include <algorithm>
#include <cstring>

#include "platform/fsync.hpp"
#include "sessionwatch/spool.hpp"

namespace sw::forward::spool_file {

namespace {

// 0xF5 never occurs in UTF-8, so formatted records rarely contain the frame magic; when one does,
// the header CRC still tells it from a frame.
constexpr unsigned char kFrameMagic[4] = {0xF5, 'S', 'W', 'F'};

struct HeaderV2 {
  std::uint32_t length = 0;
  std::uint64_t number = 0;
  std::uint32_t payload_crc = 0;
};

// The header at `p` when it is intact and its frame fits in `room` bytes.
std::optional<HeaderV2> parse_header_v2(const unsigned char* p, std::uint64_t room) {
  if (std::memcmp(p, kFrameMagic, sizeof kFrameMagic) != 0) return std::nullopt;
  if (crc32c(bytes(p, 20)) != load_le32(p + 20)) return std::nullopt;
  HeaderV2 h{load_le32(p + 4), load_le64(p + 8), load_le32(p + 16)};
  if (h.length == 0 || h.length > kMaxRecord || h.length > room - kFrameHeaderV2) {
    return std::nullopt;
  }
  return h;
}

// Reads a frame header of `size` bytes when the rest of the segment has room for one.
bool read_header(std::FILE* file, std::uint64_t offset, std::uint64_t limit, unsigned char* header,
                 std::size_t size) {
  return limit - offset >= size && std::fread(header, 1, size, file) == size;
}

ReadStatus read_v1(std::FILE* file, std::uint64_t offset, std::uint64_t limit, std::string& payload,
                   Frame& frame) {
  unsigned char header[kFrameHeaderV1];
  if (!read_header(file, offset, limit, header, sizeof header)) return ReadStatus::kDamaged;
  const std::uint32_t length = load_le32(header);
  if (length == 0 || length > kMaxRecord || length > limit - offset - kFrameHeaderV1) {
    return ReadStatus::kDamaged;
  }
  payload.resize(length);
  if (std::fread(payload.data(), 1, length, file) != length ||
      crc32c(payload, crc32c(bytes(header, 4))) != load_le32(header + 4)) {
    return ReadStatus::kDamaged;
  }
  frame = {offset, offset + kFrameHeaderV1 + length, 0};
  return ReadStatus::kFrame;
}

ReadStatus read_v2(std::FILE* file, std::uint64_t offset, std::uint64_t limit, std::string& payload,
                   Frame& frame) {
  unsigned char header[kFrameHeaderV2];
  if (!read_header(file, offset, limit, header, sizeof header)) return ReadStatus::kDamaged;
  const auto h = parse_header_v2(header, limit - offset);
  if (!h) return ReadStatus::kDamaged;
  frame = {offset, offset + kFrameHeaderV2 + h->length, h->number};
  payload.resize(h->length);
  if (std::fread(payload.data(), 1, h->length, file) != h->length) return ReadStatus::kDamaged;
  return crc32c(payload) == h->payload_crc ? ReadStatus::kFrame : ReadStatus::kDamagedFrame;
}

// Whether a candidate header at `offset` starts an intact frame (reads its payload).
bool intact_at(std::FILE* file, std::uint64_t offset, std::uint64_t limit, std::string& payload,
               Frame& frame) {
  return platform::seek_file(file, offset) &&
         read_v2(file, offset, limit, payload, frame) == ReadStatus::kFrame;
}

}  // namespace

void append_frame(std::string& out, std::uint64_t number, std::string_view payload) {
  const std::size_t at = out.size();
  out.resize(at + kFrameHeaderV2);
  auto* header = reinterpret_cast<unsigned char*>(out.data() + at);
  std::memcpy(header, kFrameMagic, sizeof kFrameMagic);
  store_le32(header + 4, static_cast<std::uint32_t>(payload.size()));
  store_le64(header + 8, number);
  store_le32(header + 16, crc32c(payload));
  store_le32(header + 20, crc32c(bytes(header, 20)));
  out.append(payload);
}

ReadStatus read_frame(std::FILE* file, Version version, std::uint64_t offset, std::uint64_t limit,
                      std::string& payload, Frame& frame) {
  if (offset >= limit) return ReadStatus::kEnd;
  return version == Version::kV1 ? read_v1(file, offset, limit, payload, frame)
                                 : read_v2(file, offset, limit, payload, frame);
}

std::optional<Frame> find_next_frame(std::FILE* file, std::uint64_t from, std::uint64_t limit) {
  constexpr std::size_t kChunk = 1 << 16;
  std::string chunk(kChunk, '\0');
  std::string payload;
  std::uint64_t base = from + 1;
  while (base + kFrameHeaderV2 <= limit) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, limit - base));
    if (!platform::seek_file(file, base)) return std::nullopt;
    const std::size_t got = std::fread(chunk.data(), 1, want, file);
    if (got < kFrameHeaderV2) return std::nullopt;
    const auto* p = reinterpret_cast<const unsigned char*>(chunk.data());
    for (std::size_t i = 0; i + kFrameHeaderV2 <= got; ++i) {
      const void* hit = std::memchr(p + i, kFrameMagic[0], got - kFrameHeaderV2 + 1 - i);
      if (!hit) break;
      i = static_cast<std::size_t>(static_cast<const unsigned char*>(hit) - p);
      Frame frame;
      if (parse_header_v2(p + i, limit - (base + i)) &&
          intact_at(file, base + i, limit, payload, frame)) {
        return frame;
      }
    }
    // The next chunk overlaps this one by a header less one byte: no header is split unseen.
    base += got - (kFrameHeaderV2 - 1);
  }
  return std::nullopt;
}

std::optional<Version> read_segment_header(std::FILE* file) {
  char magic[kSegmentHeader];
  if (std::fread(magic, 1, sizeof magic, file) != sizeof magic) return std::nullopt;
  const std::string_view m(magic, sizeof magic);
  if (m == kMagicV2) return Version::kV2;
  if (m == kMagicV1) return Version::kV1;
  return std::nullopt;
}

namespace {

// Builds a SegmentMap frame by frame.
class Mapper {
 public:
  Mapper(SegmentMap& map, std::uint64_t probe) : map_(map), probe_(probe) {}

  void intact(const Frame& f) {
    const bool follows = !map_.items.empty() && !map_.items.back().is_hole &&
                         (f.number == 0 || f.number == map_.items.back().run.last_number + 1);
    if (follows) {
      map_.items.back().run.last_number = f.number;
    } else {
      map_.items.push_back({false, {f.number, f.number}, 0});
    }
    ++map_.frames;
    map_.end = f.end;
    if (f.end <= probe_) {
      map_.frames_before_probe = map_.frames;
      map_.boundary_before_probe = f.end;
      map_.number_before_probe = f.number;
    }
  }

  // Damage from `from` on (a hole opens, or the open one grows).
  void damage(std::uint64_t from) {
    if (open_hole_) return;
    map_.holes.push_back({from, from, 0, 0});
    map_.items.push_back({true, {}, map_.holes.size() - 1});
    open_hole_ = true;
  }

  // A frame whose header is intact but whose payload is not: surely lost, and the header says
  // where the next frame starts.
  void damaged_frame(const Frame& f) {
    damage(f.offset);
    Hole& h = map_.holes.back();
    if (h.damaged_frames++ == 0) h.first_damaged = f.number;
    h.to = f.end;
    map_.end = f.end;
  }

  // The damage ends where the intact frame at `to` starts (or at the end of the segment).
  void close_hole(std::uint64_t to) {
    if (!open_hole_) return;
    map_.holes.back().to = to;
    map_.end = std::max(map_.end, to);
    open_hole_ = false;
  }

  // No intact frame after the damage: what follows the last intact or damaged frame is the tail.
  void end_in_tail() {
    if (!open_hole_) return;
    if (map_.holes.back().damaged_frames == 0) {
      map_.holes.pop_back();
      map_.items.pop_back();
    }
    open_hole_ = false;
  }

 private:
  SegmentMap& map_;
  std::uint64_t probe_;
  bool open_hole_ = false;
};

}  // namespace

SegmentMap map_segment(std::FILE* file, Version version, std::uint64_t from, std::uint64_t limit,
                       std::uint64_t probe) {
  SegmentMap map;
  map.version = version;
  map.end = from;
  map.boundary_before_probe = from;
  Mapper mapper(map, probe);
  std::string payload;
  std::uint64_t offset = from;
  bool positioned = platform::seek_file(file, offset);
  while (positioned && offset < limit) {
    Frame frame;
    const ReadStatus status = read_frame(file, version, offset, limit, payload, frame);
    if (status == ReadStatus::kFrame) {
      mapper.close_hole(offset);
      mapper.intact(frame);
      offset = frame.end;
      continue;
    }
    if (status == ReadStatus::kDamagedFrame) {
      mapper.damaged_frame(frame);
      offset = frame.end;
      positioned = platform::seek_file(file, offset);
      continue;
    }
    if (version == Version::kV1) break;  // v1 frames cannot be found again after damage
    const auto next = find_next_frame(file, offset, limit);
    if (!next) break;
    mapper.damage(offset);
    offset = next->offset;
    positioned = platform::seek_file(file, offset);
  }
  if (offset >= limit) {
    mapper.close_hole(limit);
  } else {
    mapper.end_in_tail();
  }
  return map;
}

}  // namespace sw::forward::spool_file
