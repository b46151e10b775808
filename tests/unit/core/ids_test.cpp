#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace grok {
namespace {

TEST(ids, have_the_prefix_and_26_base32_characters) {
  auto id = new_id("run", system_clock::instance().now());
  EXPECT_EQ(id.size(), 4U + 26U);
  EXPECT_EQ(id.substr(0, 4), "run_");
  EXPECT_TRUE(is_valid_id(id, "run"));
  EXPECT_FALSE(is_valid_id(id, "step"));
}

TEST(ids, sort_in_creation_order_even_within_one_millisecond) {
  manual_clock c;
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(new_id("step", c.now()));
  for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]);
  c.advance(millis(1));
  EXPECT_LT(ids.back(), new_id("step", c.now()));
}

TEST(ids, stay_increasing_when_the_clock_steps_back) {
  manual_clock c;
  auto a = new_id("run", c.now() + millis(1'000'000));
  auto b = new_id("run", c.now());
  EXPECT_LT(a, b);
}

TEST(ids, encode_the_timestamp_in_the_leading_characters) {
  auto early = new_id("run", from_unix_ms(1'000'000'000'000));
  auto late = new_id("run", from_unix_ms(2'000'000'000'000));
  EXPECT_LT(early.substr(4, 10), late.substr(4, 10));
}

TEST(ids, validation_rejects_malformed_ids) {
  EXPECT_FALSE(is_valid_id("", "run"));
  EXPECT_FALSE(is_valid_id("run_", "run"));
  EXPECT_FALSE(is_valid_id("run-01ARZ3NDEKTSV4RRFFQ69G5FAV", "run"));
  EXPECT_FALSE(is_valid_id("run_01ARZ3NDEKTSV4RRFFQ69G5FA", "run"));   // 25 characters
  EXPECT_FALSE(is_valid_id("run_01ARZ3NDEKTSV4RRFFQ69G5FAU", "run"));  // U is not Crockford
  EXPECT_FALSE(is_valid_id("run_81ARZ3NDEKTSV4RRFFQ69G5FAV", "run"));  // overflows 128 bits
  EXPECT_FALSE(is_valid_id(std::string_view("run_01ARZ3NDEKTSV4RRFFQ69G5F\0V", 30), "run"));
  EXPECT_TRUE(is_valid_id("run_01ARZ3NDEKTSV4RRFFQ69G5FAV", "run"));
}

TEST(ids, are_unique_across_many_calls) {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) seen.insert(new_id("run", system_clock::instance().now()));
  EXPECT_EQ(seen.size(), 10'000U);
}

}  // namespace
}  // namespace grok
