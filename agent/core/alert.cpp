#include "sessionwatch/alert.hpp"

#include <array>
#include <cstdio>

#include "sessionwatch/hash.hpp"

namespace sw {

namespace {
constexpr std::array<std::string_view, 5> kLevelNames = {"informational", "low", "medium", "high",
                                                         "critical"};
}  // namespace

std::string_view to_string(Level l) {
  return kLevelNames[static_cast<std::size_t>(l)];
}

bool parse_level(std::string_view s, Level& out) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == s) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

int syslog_severity(Level l) {
  switch (l) {
    case Level::kCritical:
      return 2;
    case Level::kHigh:
      return 3;
    case Level::kMedium:
      return 4;
    case Level::kLow:
      return 5;
    case Level::kInformational:
      return 6;
  }
  return 6;
}

std::string stable_alert_id(std::string_view computer, std::string_view channel,
                            std::string_view record_identity, std::string_view rule_id) {
  // FNV-1a over the parts with a separator that cannot occur in them, run twice with different
  // offsets to give 128 bits: stable across platforms and releases, which is all the id needs
  // (it is a dedup key, not a security boundary).
  std::uint64_t a = kFnv1aOffset;
  std::uint64_t b = 0x84222325cbf29ce4ULL;
  for (std::string_view part : {computer, channel, record_identity, rule_id}) {
    a = fnv1a(std::string_view("\x1f", 1), fnv1a(part, a));
    b = fnv1a(part, fnv1a(std::string_view("\x1e", 1), b));
  }
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

}  // namespace sw
