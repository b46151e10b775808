// The per-key rate limit the API consults on every authenticated request (SPEC §3): the
// in-process token buckets (api/rate_limit.h), or the shared Redis limiter
// (api/redis_rate_limiter.h) when GROK_REDIS_URL is set, which falls back to in-process
// buckets while Redis is unreachable and says so in logs and /readyz.
// Thread-safety: take() and health() may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/rate_limit.h"

namespace grok::api {

struct limiter_health {
  std::string backend;    // "in-process" | "redis"
  bool degraded = false;  // Redis configured but unreachable: limiting in-process
  std::string detail;     // for /readyz and logs, e.g. "redis 127.0.0.1:6379: connection refused"
};

class rate_limiter {
 public:
  virtual ~rate_limiter() = default;
  [[nodiscard]] virtual rate_decision take(std::string_view key) = 0;
  [[nodiscard]] virtual limiter_health health() const = 0;
};

// In-process buckets only.
[[nodiscard]] std::unique_ptr<rate_limiter> make_local_rate_limiter(rate_limit_config config,
                                                                    const clock& c);

}  // namespace grok::api
