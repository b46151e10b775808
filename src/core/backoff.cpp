#include "core/backoff.h"

#include <algorithm>
#include <random>

namespace grok {

millis retry_delay(const backoff_policy& policy, int attempt, std::uint64_t random) noexcept {
  const std::int64_t base = std::max<std::int64_t>(policy.base.count(), 0);
  const std::int64_t cap = std::max<std::int64_t>(policy.cap.count(), 0);
  std::int64_t d = base;
  for (int i = 1; i < attempt && d < cap; ++i) d *= 2;  // no overflow: stops at the cap
  d = std::min(d, cap);
  const std::int64_t half = d / 2;
  const auto spread = static_cast<std::uint64_t>(d - half) + 1;
  return millis(half + static_cast<std::int64_t>(random % spread));
}

millis retry_delay(const backoff_policy& policy, int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return retry_delay(policy, attempt, rng());
}

}  // namespace grok
