#include "api/rate_limit.h"

#include <gtest/gtest.h>

#include <string>

namespace grok::api {
namespace {

using std::chrono::milliseconds;

TEST(rate_limit, a_burst_then_refusals_with_retry_after_then_refill) {
  manual_clock clock;
  token_buckets limits({.per_second = 2, .burst = 3}, clock);
  for (int i = 0; i < 3; ++i) {
    auto d = limits.take("key_a");
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 2 - i);
  }
  auto refused = limits.take("key_a");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, milliseconds(500));  // one token at 2 per second
  EXPECT_EQ(refused.reset, milliseconds(1500));
  // Other keys have their own buckets.
  EXPECT_TRUE(limits.take("key_b").allowed);
  clock.advance(milliseconds(499));
  EXPECT_FALSE(limits.take("key_a").allowed);
  clock.advance(milliseconds(1));
  EXPECT_TRUE(limits.take("key_a").allowed);
  // A long pause refills up to the burst, never beyond.
  clock.advance(milliseconds(60'000));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limits.take("key_a").allowed);
  EXPECT_FALSE(limits.take("key_a").allowed);
}

TEST(rate_limit, a_clock_that_steps_back_grants_nothing_extra) {
  manual_clock clock;
  token_buckets limits({.per_second = 1, .burst = 1}, clock);
  EXPECT_TRUE(limits.take("k").allowed);
  clock.set(clock.now() - milliseconds(10'000));
  EXPECT_FALSE(limits.take("k").allowed);
}

TEST(rate_limit, the_number_of_buckets_is_bounded) {
  manual_clock clock;
  token_buckets limits({.per_second = 1, .burst = 2}, clock, 100);
  for (int i = 0; i < 10'000; ++i) {
    EXPECT_TRUE(limits.take("key_" + std::to_string(i)).allowed);
  }
  // Still works, and a key that was used up recently keeps its state if it survived:
  // no key ever gets more than its burst in a row.
  int allowed = 0;
  for (int i = 0; i < 5; ++i) allowed += limits.take("hot").allowed ? 1 : 0;
  EXPECT_EQ(allowed, 2);
}

TEST(rate_limit, nonsense_settings_are_clamped) {
  manual_clock clock;
  token_buckets limits({.per_second = 0, .burst = 0}, clock);
  EXPECT_TRUE(limits.take("k").allowed);  // a burst of at least one
  EXPECT_FALSE(limits.take("k").allowed);
}

}  // namespace
}  // namespace grok::api
