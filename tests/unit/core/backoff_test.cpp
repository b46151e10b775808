#include "core/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace grok {
namespace {

using namespace std::chrono_literals;

TEST(backoff, doubles_per_attempt_within_half_to_full_delay) {
  backoff_policy p{100ms, 10s};
  for (int attempt = 1; attempt <= 6; ++attempt) {
    const auto full = 100ms * (1 << (attempt - 1));
    EXPECT_EQ(retry_delay(p, attempt, 0), full / 2) << attempt;
    EXPECT_EQ(retry_delay(p, attempt, static_cast<std::uint64_t>((full - full / 2).count())), full)
        << attempt;
    for (std::uint64_t r = 0; r < 1000; r += 37) {
      auto d = retry_delay(p, attempt, r * 7919);
      EXPECT_GE(d, full / 2);
      EXPECT_LE(d, full);
    }
  }
}

TEST(backoff, never_exceeds_the_cap_even_for_huge_attempt_numbers) {
  backoff_policy p{500ms, 60s};
  for (int attempt : {20, 63, 64, 1000, 1'000'000}) {
    for (std::uint64_t r : {std::uint64_t{0}, std::uint64_t{12345}, ~std::uint64_t{0}}) {
      auto d = retry_delay(p, attempt, r);
      EXPECT_GE(d, 30s);
      EXPECT_LE(d, 60s);
    }
  }
}

TEST(backoff, zero_and_degenerate_policies_are_safe) {
  EXPECT_EQ(retry_delay({0ms, 0ms}, 5, 99), 0ms);
  EXPECT_EQ(retry_delay({-5ms, 10ms}, 1, 99), 0ms);
  EXPECT_LE(retry_delay({1s, 10ms}, 1, 99), 10ms);  // a cap below the base wins
  EXPECT_GE(retry_delay({100ms, 1s}, 0, 0), 50ms);  // attempt 0 is treated as the first
}

TEST(backoff, jitter_spreads_delays) {
  backoff_policy p{1s, 1s};
  std::set<std::int64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(retry_delay(p, 1).count());
  EXPECT_GT(seen.size(), 10U);
}

}  // namespace
}  // namespace grok
