// The spool's files on disk (docs/forwarding.md, "The spool"). A segment starts with an 8-byte
// magic naming its version, then holds frames, one per record:
//   v2 (SWSPOOL2): u32 frame magic | u32 length | u64 record number | u32 CRC32C(payload) |
//                  u32 CRC32C(the 20 header bytes before it) | payload
//   v1 (SWSPOOL1, agents before record numbers): u32 length | u32 CRC32C(length + payload) |
//   payload
// A v2 frame is recognizable on its own (magic + header CRC), so after a damaged stretch reading
// resumes at the next frame, and the record numbers say how many records the damage took.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::forward::spool_file {

enum class Version : std::uint8_t { kV1 = 1, kV2 = 2 };

inline constexpr std::string_view kMagicV1 = "SWSPOOL1";
inline constexpr std::string_view kMagicV2 = "SWSPOOL2";
inline constexpr std::uint64_t kSegmentHeader = 8;
inline constexpr std::uint64_t kFrameHeaderV1 = 8;
inline constexpr std::uint64_t kFrameHeaderV2 = 24;
// A length above this is a damaged header, not a record (alerts are a few KiB).
inline constexpr std::uint32_t kMaxRecord = 64U << 20;

// Little-endian fields, as every number in the spool's files is stored.
inline void store_le32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline void store_le64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline std::uint32_t load_le32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t load_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::string_view bytes(const unsigned char* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

inline std::uint64_t frame_size(std::size_t payload) {
  return kFrameHeaderV2 + payload;
}

// Appends the v2 frame of `payload`, record number `number`, to `out`.
void append_frame(std::string& out, std::uint64_t number, std::string_view payload);

struct Frame {
  std::uint64_t offset = 0;  // where the frame starts
  std::uint64_t end = 0;     // where the next one starts
  std::uint64_t number = 0;  // 0 in v1 segments
};

enum class ReadStatus {
  kFrame,         // a whole, intact frame
  kEnd,           // offset == limit
  kDamagedFrame,  // v2: header intact, payload not: `frame` says where it ends and its number
  kDamaged,       // no intact header here (torn write, garbage, v1 damage)
};

// Reads the frame at `offset` (the stream must be there) ending at or before `limit`.
ReadStatus read_frame(std::FILE* file, Version version, std::uint64_t offset, std::uint64_t limit,
                      std::string& payload, Frame& frame);

// The first intact v2 frame starting after `from` and ending at or before `limit`: where reading
// resumes after damage. Moves the stream. nullopt when there is none.
std::optional<Frame> find_next_frame(std::FILE* file, std::uint64_t from, std::uint64_t limit);

// Reads the segment magic at the start of the stream; nullopt when it is not a spool segment.
std::optional<Version> read_segment_header(std::FILE* file);

// A stretch of a segment that holds no intact frame; reading skips it.
struct Hole {
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  std::uint64_t damaged_frames = 0;  // frames in it whose header was intact (surely lost)
  std::uint64_t first_damaged = 0;   // the lowest record number among those, 0 if none
};

// What is in a segment, in file order: runs of intact frames and the holes between them.
struct SegmentMap {
  std::optional<Version> version;      // nullopt: not a spool segment
  std::uint64_t frames = 0;            // intact frames
  std::uint64_t end = kSegmentHeader;  // end of the last intact frame or hole; a torn tail follows
  // Every intact frame's number is one more than the previous one's unless a hole lies between;
  // `runs` holds (first number, last number) of each stretch of consecutive intact frames.
  struct Run {
    std::uint64_t first_number = 0;
    std::uint64_t last_number = 0;
  };
  // Items in file order: a Run, or a Hole (index into `holes`).
  struct Item {
    bool is_hole = false;
    Run run;
    std::size_t hole = 0;
  };
  std::vector<Item> items;
  std::vector<Hole> holes;
  // For restoring the acknowledged position `probe`: intact frames ending at or before it, and
  // where the last of them ends.
  std::uint64_t frames_before_probe = 0;
  std::uint64_t boundary_before_probe = kSegmentHeader;
  std::uint64_t number_before_probe = 0;
};

// Maps [from, limit) of a segment (from = kSegmentHeader for all of it). A trailing stretch with
// no intact frame after it is not a hole but the tail (end < limit): a torn write in the segment
// last written, damage elsewhere.
SegmentMap map_segment(std::FILE* file, Version version, std::uint64_t from, std::uint64_t limit,
                       std::uint64_t probe = 0);

}  // namespace sw::forward::spool_file
