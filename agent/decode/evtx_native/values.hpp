// BinXML value types rendered as text the way Windows renders them in Event XML.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sessionwatch/event.hpp"

namespace sw::evtx_native {

inline std::uint16_t le16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
inline std::uint64_t le64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(le32(p)) | (static_cast<std::uint64_t>(le32(p + 4)) << 32);
}

namespace value_type {
inline constexpr std::uint8_t kNull = 0x00;
inline constexpr std::uint8_t kString = 0x01;
inline constexpr std::uint8_t kAnsiString = 0x02;
inline constexpr std::uint8_t kInt8 = 0x03;
inline constexpr std::uint8_t kUInt8 = 0x04;
inline constexpr std::uint8_t kInt16 = 0x05;
inline constexpr std::uint8_t kUInt16 = 0x06;
inline constexpr std::uint8_t kInt32 = 0x07;
inline constexpr std::uint8_t kUInt32 = 0x08;
inline constexpr std::uint8_t kInt64 = 0x09;
inline constexpr std::uint8_t kUInt64 = 0x0a;
inline constexpr std::uint8_t kReal32 = 0x0b;
inline constexpr std::uint8_t kReal64 = 0x0c;
inline constexpr std::uint8_t kBool = 0x0d;
inline constexpr std::uint8_t kBinary = 0x0e;
inline constexpr std::uint8_t kGuid = 0x0f;
inline constexpr std::uint8_t kSizeT = 0x10;
inline constexpr std::uint8_t kFileTime = 0x11;
inline constexpr std::uint8_t kSystemTime = 0x12;
inline constexpr std::uint8_t kSid = 0x13;
inline constexpr std::uint8_t kHexInt32 = 0x14;
inline constexpr std::uint8_t kHexInt64 = 0x15;
inline constexpr std::uint8_t kEvtHandle = 0x20;
inline constexpr std::uint8_t kBinXml = 0x21;
inline constexpr std::uint8_t kEvtXml = 0x23;
inline constexpr std::uint8_t kArrayFlag = 0x80;
}  // namespace value_type

// FILETIME (100 ns since 1601) -> Ticks (100 ns since 1970), saturating.
Ticks filetime_to_ticks(std::uint64_t filetime);

// Appends UTF-16LE text (`units` code units, stopping at the first NUL) as UTF-8; unpaired
// surrogates become U+FFFD, as sw::append_sanitized_utf8 does for bad UTF-8.
void append_utf16(const std::uint8_t* data, std::size_t units, std::string& out);

// Appends one value of `type` (not BinXML, which the parser expands) rendered as text. Arrays are
// rendered item by item joined with ", " where they cannot repeat their element (attributes,
// mixed content; see docs/evtx-format.md). A value whose size does not
// fit its type is rendered as hex bytes rather than rejected: the record still says what it holds.
void append_value(std::uint8_t type, const std::uint8_t* data, std::size_t size, std::string& out);

// Renders the array item starting at byte `pos` of an array value and moves `pos` past it; false
// when no item is left. Windows repeats the element holding an array substitution once per item.
bool append_array_item(std::uint8_t type, const std::uint8_t* data, std::size_t size,
                       std::size_t& pos, std::string& out);

// GUID as Windows prints it: {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}.
void append_guid(const std::uint8_t* data, std::string& out);
// SID as S-R-A-S1-...; false when `size` cannot hold it. `used` receives its length in bytes.
bool append_sid(const std::uint8_t* data, std::size_t size, std::string& out, std::size_t& used);

}  // namespace sw::evtx_native
