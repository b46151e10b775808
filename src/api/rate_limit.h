// Per-key token buckets (SPEC §3), in process. A bucket holds up to `burst` tokens and
// refills at `per_second`; each request takes one. The shared Redis limiter of the HTTP API
// answers the same questions with the same numbers.
// Thread-safety: take() may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace grok::api {

struct rate_limit_config {
  double per_second = 10;
  double burst = 20;
};

struct rate_decision {
  bool allowed = true;
  double remaining = 0;  // whole tokens left after this request (RateLimit-Remaining)
  std::chrono::milliseconds retry_after{0};  // when refused: until one token is back
  std::chrono::milliseconds reset{0};        // until the bucket is full again (RateLimit-Reset)
};

class token_buckets {
 public:
  // At most `max_keys` buckets are kept; beyond that the ones idle longest are dropped
  // (a dropped bucket comes back full, which only ever errs towards allowing).
  token_buckets(rate_limit_config config, const clock& c, std::size_t max_keys = 100'000);

  rate_decision take(std::string_view key);

 private:
  struct bucket {
    double tokens;
    time_point updated;
  };
  void evict_idle(time_point now);

  rate_limit_config config_;
  const clock& clock_;
  std::size_t max_keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, bucket> buckets_;  // guarded by mutex_
};

}  // namespace grok::api
