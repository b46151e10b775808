// SQLite-specific behaviour: migrations, damaged and missing files.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "store/open_store.h"
#include "store/sqlite/migrations.h"
#include "tests_support/temp_dir.h"

namespace grok::store::sqlite {
namespace {

using grok::testing::temp_dir;

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TEST(sqlite_store, creates_a_wal_database_at_the_latest_schema) {
  temp_dir dir;
  auto st = sqlite_store::open({.path = dir.file("sub/dir/grok.db")});
  ASSERT_TRUE(st) << describe(st.error());
  EXPECT_EQ(*(*st)->schema_version(), latest_schema_version());
  auto conn = connection::open(dir.file("sub/dir/grok.db"), {});
  ASSERT_TRUE(conn);
  auto mode = (*conn)->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode && *mode->step());
  EXPECT_EQ(mode->column_text(0), "wal");
  for (const char* table : {"runs", "steps", "events", "queue", "artifacts", "api_keys",
                            "llm_calls", "documents", "document_chunks", "document_chunks_fts"}) {
    auto s = (*conn)->prepare("SELECT count(*) FROM sqlite_master WHERE name = ?1");
    ASSERT_TRUE(s);
    s->bind(1, table);
    ASSERT_TRUE(*s->step());
    EXPECT_EQ(s->column_int64(0), 1) << table;
  }
}

TEST(sqlite_store, migrations_are_idempotent) {
  temp_dir dir;
  auto path = dir.file("grok.db");
  ASSERT_TRUE(sqlite_store::open({.path = path}));
  auto conn = connection::open(path, {});
  ASSERT_TRUE(conn);
  auto again = migrate(**conn);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
  auto applied = (*conn)->prepare("SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(applied && *applied->step());
  EXPECT_EQ(applied->column_int64(0), static_cast<std::int64_t>(all_migrations().size()));
}

TEST(sqlite_store, refuses_a_database_newer_than_the_binary) {
  temp_dir dir;
  auto path = dir.file("grok.db");
  ASSERT_TRUE(sqlite_store::open({.path = path}));
  {
    auto conn = connection::open(path, {});
    ASSERT_TRUE((*conn)->exec("PRAGMA user_version = 999"));
  }
  auto st = sqlite_store::open({.path = path});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, errc::unsupported);
  EXPECT_NE(st.error().message.find("999"), std::string::npos);
  auto m = migrate_store("sqlite://" + path);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, errc::unsupported);
}

TEST(sqlite_store, an_old_schema_without_migrate_asks_for_grok_migrate) {
  temp_dir dir;
  auto path = dir.file("grok.db");
  {
    auto conn = connection::open(path, {});
    ASSERT_TRUE(conn);
  }  // empty database, version 0
  auto st = sqlite_store::open({.path = path, .create_if_missing = false, .migrate = false});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("grok migrate"), std::string::npos);
}

TEST(sqlite_store, missing_file_is_a_clear_error_when_not_creating) {
  temp_dir dir;
  auto st =
      open_store({.url = dir.file("absent.db"), .create_if_missing = false, .migrate = false});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, errc::not_found);
  EXPECT_NE(st.error().message.find("absent.db"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.file("absent.db")));
}

TEST(sqlite_store, garbage_file_is_reported_as_corrupt) {
  temp_dir dir;
  auto path = dir.file("grok.db");
  write_file(path, std::string(8192, '\x5a'));
  auto st = sqlite_store::open({.path = path});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, errc::corrupt);
  EXPECT_NE(st.error().message.find(path), std::string::npos);
}

TEST(sqlite_store, truncated_database_fails_cleanly) {
  temp_dir dir;
  auto path = dir.file("grok.db");
  {
    auto st = sqlite_store::open({.path = path});
    ASSERT_TRUE(st);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE((*st)->enqueue({.topic = "t", .payload = std::string(2000, 'x')}));
    }
  }
  // Keep the header page, drop the rest: the schema still parses, the data does not.
  auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 8192U);
  std::filesystem::resize_file(path, 4096 * 3);
  auto st = sqlite_store::open({.path = path});
  if (!st) {
    EXPECT_TRUE(st.error().code == errc::corrupt || st.error().code == errc::io)
        << describe(st.error());
    return;
  }
  // Opened: reading the damaged table must fail as an error value, never crash.
  auto jobs = (*st)->list_jobs({.limit = 1000});
  auto check = (*st)->integrity_check();
  EXPECT_TRUE(!jobs || !check || !check->empty());
}

TEST(sqlite_store, directory_in_place_of_the_file_is_refused) {
  temp_dir dir;
  std::filesystem::create_directories(dir.file("grok.db"));
  auto st = sqlite_store::open({.path = dir.file("grok.db")});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, errc::invalid_argument);
}

TEST(sqlite_store, unwritable_location_is_an_io_error) {
  temp_dir dir;
  write_file(dir.file("file"), "x");
  auto st = sqlite_store::open({.path = dir.file("file/grok.db")});  // parent is a file
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, errc::io);
}

TEST(sqlite_store, integrity_check_of_a_fresh_database_is_clean) {
  temp_dir dir;
  auto st = sqlite_store::open({.path = dir.file("grok.db")});
  ASSERT_TRUE(st);
  auto check = (*st)->integrity_check();
  ASSERT_TRUE(check);
  EXPECT_TRUE(check->empty());
}

TEST(sqlite_store, two_stores_on_one_file_share_the_queue) {
  temp_dir dir;
  auto a = sqlite_store::open({.path = dir.file("grok.db")});
  auto b = sqlite_store::open({.path = dir.file("grok.db")});
  ASSERT_TRUE(a && b);
  auto id = (*a)->enqueue({.topic = "t", .dedupe_key = "k"});
  ASSERT_TRUE(id);
  auto dup = (*b)->enqueue({.topic = "t", .dedupe_key = "k"});
  ASSERT_TRUE(dup);
  EXPECT_FALSE(dup->created);
  auto jobs = (*b)->claim({{"t"}, "w", millis(1000), 10});
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->size(), 1U);
  EXPECT_TRUE((*(*a)->claim({{"t"}, "w2", millis(1000), 10})).empty());
}

}  // namespace
}  // namespace grok::store::sqlite
