#include "core/config.h"

#include <gtest/gtest.h>

namespace grok {
namespace {

TEST(config, default_database_lives_in_the_data_dir) {
  config c;
  EXPECT_EQ(c.effective_db(), "sqlite://./grok-data/grok.db");
  c.data_dir = "/var/lib/grok/";
  EXPECT_EQ(c.effective_db(), "sqlite:///var/lib/grok/grok.db");
  c.db = "postgres://db/grok";
  EXPECT_EQ(c.effective_db(), "postgres://db/grok");
}

}  // namespace
}  // namespace grok
