#include "core/clock.h"

namespace grok {

time_point system_clock::now() const {
  return std::chrono::time_point_cast<millis>(std::chrono::system_clock::now());
}

system_clock& system_clock::instance() {
  static system_clock instance;
  return instance;
}

}  // namespace grok
