#include <gtest/gtest.h>

#include "store/open_store.h"

namespace grok::store {
namespace {

TEST(db_url, sqlite_forms) {
  auto a = parse_db_url("sqlite://./grok-data/grok.db");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, parsed_db_url::backend::sqlite);
  EXPECT_EQ(a->path, "./grok-data/grok.db");
  EXPECT_EQ(a->synchronous, "NORMAL");
  auto b = parse_db_url("sqlite:///var/lib/grok.db?synchronous=full");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->path, "/var/lib/grok.db");
  EXPECT_EQ(b->synchronous, "FULL");
  auto c = parse_db_url("data/grok.db");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->path, "data/grok.db");
}

TEST(db_url, postgres_is_recognised) {
  auto p = parse_db_url("postgres://u@127.0.0.1/grok");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, parsed_db_url::backend::postgres);
  auto opened = open_store({.url = "postgresql://127.0.0.1/grok"});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, errc::unsupported);
}

TEST(db_url, bad_urls_get_clear_errors) {
  for (const char* url : {"", "sqlite://", "mysql://x/y", "sqlite://x.db?synchronous=sometimes",
                          "sqlite://x.db?journal=off"}) {
    auto r = parse_db_url(url);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, errc::invalid_argument) << url;
    EXPECT_FALSE(r.error().message.empty());
  }
}

}  // namespace
}  // namespace grok::store
