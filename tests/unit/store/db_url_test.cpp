#include <gtest/gtest.h>

#include "store/open_store.h"
#include "tests_support/process.h"

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
  // Nothing listens on a port just found free: a clear, retryable "cannot connect".
  const auto port = std::to_string(testing::pick_free_port());
  auto opened = open_store({.url = "postgresql://127.0.0.1:" + port + "/grok"});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, errc::unavailable);
  EXPECT_TRUE(opened.error().retryable);
  EXPECT_NE(opened.error().message.find("cannot connect to PostgreSQL"), std::string::npos);
}

TEST(db_url, malformed_postgres_urls_are_invalid_arguments) {
  for (const char* url :
       {"postgres://127.0.0.1/grok?no_such_option=1", "postgresql://127.0.0.1:notaport/grok"}) {
    auto opened = open_store({.url = url});
    ASSERT_FALSE(opened) << url;
    EXPECT_TRUE(opened.error().code == errc::invalid_argument ||
                opened.error().code == errc::unavailable)
        << url << ": " << describe(opened.error());
  }
  auto bad = open_store({.url = "postgres://127.0.0.1/grok?no_such_option=1"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::invalid_argument) << describe(bad.error());
}

TEST(db_url, passwords_are_hidden_in_messages) {
  EXPECT_EQ(redact_db_url("postgres://grok:s3cret@db:5432/grok"),
            "postgres://grok:***@db:5432/grok");
  EXPECT_EQ(redact_db_url("postgres://grok@db/grok"), "postgres://grok@db/grok");
  EXPECT_EQ(redact_db_url("sqlite://./grok.db"), "sqlite://./grok.db");
  const auto port = std::to_string(testing::pick_free_port());
  auto opened = open_store({.url = "postgres://grok:s3cret@127.0.0.1:" + port + "/grok"});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().message.find("s3cret"), std::string::npos) << opened.error().message;
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
