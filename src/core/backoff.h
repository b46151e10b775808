// Retry delays: exponential backoff with jitter, capped.
//
// delay(attempt) = d/2 + uniform(0, d/2), where d = min(cap, base * 2^(attempt-1)).
// Half the delay is fixed so retries never bunch at zero; the random half spreads
// workers that failed together. Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "core/clock.h"

namespace grok {

struct backoff_policy {
  millis base{500};
  millis cap{60'000};
};

// The delay before retry number `attempt` (1 = the first retry). `random` is any 64 random
// bits; passing them in keeps this function deterministic for tests.
[[nodiscard]] millis retry_delay(const backoff_policy& policy, int attempt,
                                 std::uint64_t random) noexcept;

// As above, with bits from a thread-local generator.
[[nodiscard]] millis retry_delay(const backoff_policy& policy, int attempt);

}  // namespace grok
