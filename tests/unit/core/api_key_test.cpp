#include "core/api_key.h"

#include <gtest/gtest.h>

#include <set>

#include "core/sha256.h"

namespace grok {
namespace {

TEST(api_key, generated_keys_are_well_formed_unique_and_stored_as_their_hash) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto k = generate_api_key();
    ASSERT_TRUE(k) << describe(k.error());
    EXPECT_TRUE(well_formed_api_key(k->key)) << k->key;
    EXPECT_EQ(k->prefix, k->key.substr(0, k_api_key_prefix_chars));
    EXPECT_EQ(k->hash, sha256_hex(k->key));
    EXPECT_EQ(k->hash, hash_api_key(k->key));
    EXPECT_EQ(k->hash.find(k->key), std::string::npos);
    EXPECT_TRUE(seen.insert(k->key).second) << "a key repeated";
  }
}

TEST(api_key, constant_time_equal_compares_whole_strings) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("abc", std::string("abc\0", 4)));
}

TEST(api_key, malformed_keys_are_recognised) {
  const std::string good = "grok_" + std::string(64, 'a');
  EXPECT_TRUE(well_formed_api_key(good));
  EXPECT_FALSE(well_formed_api_key(""));
  EXPECT_FALSE(well_formed_api_key("grok_"));
  EXPECT_FALSE(well_formed_api_key(good + "0"));
  EXPECT_FALSE(well_formed_api_key(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(well_formed_api_key("GROK_" + std::string(64, 'a')));
  EXPECT_FALSE(well_formed_api_key("grok_" + std::string(64, 'A')));
  EXPECT_FALSE(well_formed_api_key("grok_" + std::string(63, 'a') + "g"));
  EXPECT_FALSE(well_formed_api_key("grok_" + std::string(63, 'a') + std::string(1, '\0')));
}

}  // namespace
}  // namespace grok
