#include "daemon/timers.hpp"

#include <cstdlib>
#include <string>

namespace sw::daemon {

namespace {

double timer_scale() {
  const char* text = std::getenv("SESSIONWATCH_TIMER_SCALE");
  if (!text) return 1.0;
  char* end = nullptr;
  const double scale = std::strtod(text, &end);
  // Anything unparsable or out of range keeps the production timers.
  return end != text && scale > 0 && scale <= 1 ? scale : 1.0;
}

}  // namespace

std::chrono::milliseconds scaled_timer(std::chrono::milliseconds production) {
  static const double scale = timer_scale();
  const auto ms =
      static_cast<std::chrono::milliseconds::rep>(static_cast<double>(production.count()) * scale);
  return std::chrono::milliseconds(ms > 0 ? ms : 1);
}

}  // namespace sw::daemon
