// not_a_log: what the text decoder and the dispatcher refuse as text. It lives with the text
// decoder, the last line of defence: whatever reaches it as a "line" of binary is refused here.
#include <cstring>
#include <optional>
#include <string>

#include "sessionwatch/decode.hpp"

namespace sw {

namespace {

struct Magic {
  std::string_view bytes;
  const char* what;
};

// Formats met where logs are kept (rotated, archived, or a wrong glob) that are not logs.
constexpr Magic kNotLogs[] = {
    {"\x7F"
     "ELF",
     "an ELF executable"},
    {"MZ", "a Windows executable"},
    {"PK\x03\x04", "a ZIP archive (unpack it first)"},
    {"BZh", "bzip2-compressed data (decompress it first)"},
    {"\xFD"
     "7zXZ",
     "xz-compressed data (decompress it first)"},
    {"\x28\xB5\x2F\xFD", "zstd-compressed data (decompress it first)"},
    {"7z\xBC\xAF\x27\x1C", "a 7-Zip archive (unpack it first)"},
    {"%PDF-", "a PDF document"},
};

}  // namespace

namespace {

// A NUL byte with no NUL beside it: binary structure (numbers, offsets). Runs of NULs are what a
// crash leaves in a text log, and do not make it binary.
const char* lone_nul(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\0') continue;
    const bool before = i > 0 && s[i - 1] == '\0';
    const bool after = i + 1 < s.size() && s[i + 1] == '\0';
    if (!before && !after) return s.data() + i;
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> not_a_log(std::string_view head) {
  const bool has_nul = std::memchr(head.data(), '\0', head.size()) != nullptr;
  for (const Magic& m : kNotLogs) {
    // "MZ" and "%PDF-" could start a text line: they count only with binary content after them.
    const bool needs_binary = m.bytes == "MZ" || m.bytes == "%PDF-";
    if (head.substr(0, m.bytes.size()) == m.bytes && (!needs_binary || has_nul)) return m.what;
  }
  if (const char* nul = lone_nul(head)) {
    return "binary data, not text (a NUL byte at offset " + std::to_string(nul - head.data()) + ")";
  }
  // Control characters other than tab, line ends, form feed and escape (colour codes) are rare in
  // text; in binary data they are about one byte in eight.
  std::size_t control = 0, nuls = 0;
  for (unsigned char c : head) {
    if (c == 0) {
      ++nuls;
    } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' &&
               c != 0x1B) {
      ++control;
    }
  }
  if (nuls == head.size() && !head.empty()) return "binary data, not text (only NUL bytes)";
  if (control > 8 && control * 100 > head.size() - nuls) {
    return "binary data, not text (" + std::to_string(control) +
           " control characters in the first " + std::to_string(head.size()) + " bytes)";
  }
  return std::nullopt;
}

}  // namespace sw
