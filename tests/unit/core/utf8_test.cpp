#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace grok {
namespace {

TEST(utf8, accepts_well_formed_text) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // été € 😀
  EXPECT_TRUE(is_valid_utf8(std::string("nul\0inside", 10)));
  char32_t cp = 0;
  EXPECT_EQ(decode_utf8("\xe2\x82\xac", 0, cp), 3U);
  EXPECT_EQ(cp, U'\u20ac');
}

TEST(utf8, refuses_malformed_sequences) {
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // cut short
  EXPECT_FALSE(is_valid_utf8("\xc3\x28"));          // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("ok \xe2\x82"));       // cut short at the end
}

}  // namespace
}  // namespace grok
