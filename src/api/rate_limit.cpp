#include "api/rate_limit.h"
#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace grok::api {

token_buckets::token_buckets(rate_limit_config config, const clock& c, std::size_t max_keys)
    : config_(config), clock_(c), max_keys_(std::max<std::size_t>(max_keys, 1)) {
  config_.per_second = std::max(config_.per_second, 1e-6);
  config_.burst = std::max(config_.burst, 1.0);
}

rate_decision token_buckets::take(std::string_view key) {
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) evict_idle(now);
    it = buckets_.emplace(std::string(key), bucket{config_.burst, now}).first;
  }
  auto& b = it->second;
  const double elapsed =
      std::max(0.0, std::chrono::duration<double>(now - b.updated).count());  // clock steps back
  b.tokens = std::min(config_.burst, b.tokens + elapsed * config_.per_second);
  b.updated = std::max(b.updated, now);  // a clock stepping back refills nothing
  rate_decision d;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    d.allowed = true;
  } else {
    d.allowed = false;
    d.retry_after = std::chrono::milliseconds(
        static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) / config_.per_second * 1000.0)));
  }
  d.remaining = std::floor(b.tokens);
  d.reset = std::chrono::milliseconds(static_cast<std::int64_t>(
      std::ceil((config_.burst - b.tokens) / config_.per_second * 1000.0)));
  return d;
}

void token_buckets::evict_idle(time_point now) {
  // Drop every bucket that has refilled completely (it behaves as a new one); if none
  // has, the oldest half.
  std::erase_if(buckets_, [&](const auto& entry) {
    const double elapsed = std::chrono::duration<double>(now - entry.second.updated).count();
    return entry.second.tokens + elapsed * config_.per_second >= config_.burst;
  });
  if (buckets_.size() < max_keys_) return;
  std::vector<std::pair<time_point, std::string>> by_age;
  by_age.reserve(buckets_.size());
  for (const auto& [k, b] : buckets_) by_age.emplace_back(b.updated, k);
  std::sort(by_age.begin(), by_age.end());
  for (std::size_t i = 0; i < by_age.size() / 2 + 1 && i < by_age.size(); ++i) {
    buckets_.erase(by_age[i].second);
  }
}

}  // namespace grok::api

namespace grok::api {
namespace {

class local_rate_limiter final : public rate_limiter {
 public:
  local_rate_limiter(rate_limit_config config, const clock& c) : buckets_(config, c) {}
  rate_decision take(std::string_view key) override { return buckets_.take(key); }
  limiter_health health() const override {
    return {"in-process", false, "per-process token buckets"};
  }

 private:
  token_buckets buckets_;
};

}  // namespace

std::unique_ptr<rate_limiter> make_local_rate_limiter(rate_limit_config config, const clock& c) {
  return std::make_unique<local_rate_limiter>(config, c);
}

}  // namespace grok::api
