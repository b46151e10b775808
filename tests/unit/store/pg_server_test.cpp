// The throwaway PostgreSQL cluster the PostgreSQL store tests run on (tests_support/
// pg_server): created with initdb in a temp dir, on 127.0.0.1 only, restartable on the same
// port with its data, and gone when stopped.
#include "tests_support/pg_server.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace grok {
namespace {

using testing::pg_exec;
using testing::pg_server;

TEST(pg_server, answers_sql_on_loopback_and_keeps_data_across_a_restart) {
  pg_server pg;
  EXPECT_EQ(pg_exec(pg.url(), "SELECT 1 + 1"), "2");
  EXPECT_EQ(pg_exec(pg.url(), "SHOW listen_addresses"), "127.0.0.1");
  EXPECT_EQ(pg_exec(pg.url(), "SHOW server_encoding"), "UTF8");

  const auto db = pg.create_database("grok_test");
  pg_exec(db, "CREATE TABLE t (v text)");
  pg_exec(db, "INSERT INTO t VALUES ('kept')");

  const int port = pg.port();
  pg.stop();
  EXPECT_FALSE(pg.running());
  EXPECT_THROW(pg_exec(db, "SELECT 1"), std::runtime_error);

  pg.start();
  EXPECT_EQ(pg.port(), port);
  EXPECT_EQ(pg_exec(db, "SELECT v FROM t"), "kept");
}

TEST(pg_server, two_clusters_run_side_by_side) {
  pg_server a;
  pg_server b;
  EXPECT_NE(a.port(), b.port());
  pg_exec(a.url(), "CREATE TABLE only_in_a (x int)");
  EXPECT_EQ(pg_exec(a.url(), "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"), "1");
  EXPECT_EQ(pg_exec(b.url(), "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"), "0");
}

TEST(pg_server, sql_errors_carry_the_server_message) {
  pg_server pg;
  try {
    pg_exec(pg.url(), "SELECT * FROM no_such_table");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_table"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace grok
