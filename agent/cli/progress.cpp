#include <chrono>
#include <cstdio>

#include "cli/commands.hpp"
#include "platform/fsync.hpp"

namespace sw::cli {

namespace {
long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress(std::string label)
    : label_(std::move(label)), enabled_(platform::is_terminal(stderr)) {}

Progress::~Progress() {
  if (printed_) std::fputs("\r\033[K", stderr);
}

void Progress::update(unsigned long long done, unsigned long long total,
                      unsigned long long records) {
  if (!enabled_) return;
  const long long t = now_ms();
  if (t - last_ms_ < 200) return;  // redraw at most 5 times a second
  last_ms_ = t;
  printed_ = true;
  if (total > 0) {
    std::fprintf(stderr, "\r\033[K%s: %3llu%% (%llu records)", label_.c_str(), done * 100 / total,
                 records);
  } else {
    std::fprintf(stderr, "\r\033[K%s: %llu MB (%llu records)", label_.c_str(), done >> 20, records);
  }
  std::fflush(stderr);
}

}  // namespace sw::cli
