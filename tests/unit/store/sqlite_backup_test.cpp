// Online backup, verify and restore of the SQLite database: a backup taken while a writer
// keeps committing runs, restored into a fresh directory, has every run that had completed
// before it began, with all its events; and the hostile cases fail clearly.
#include "store/sqlite/sqlite_backup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/ids.h"
#include "store/sqlite/db_lock.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_store.h"
#include "tests_support/temp_dir.h"

namespace grok::store::sqlite {
namespace {

namespace fs = std::filesystem;
using grok::testing::temp_dir;
using namespace std::chrono_literals;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::unique_ptr<sqlite_store> open_store(const std::string& path) {
  auto st = sqlite_store::open({.path = path});
  EXPECT_TRUE(st) << describe(st.error());
  return st ? std::move(*st) : nullptr;
}

// A completed run with `events` events, each carrying a body of `body_bytes`; returns its id.
std::string add_completed_run(store& st, int events, std::size_t body_bytes) {
  run_record r;
  r.id = new_id("run", st.store_clock().now());
  r.status = run_status::running;
  r.input = "task";
  r.created_at = st.store_clock().now();
  const std::string body = R"({"pad":")" + std::string(body_bytes, 'x') + R"("})";
  auto first = st.transact([&](transaction& tx) -> result<void> {
    if (auto e = tx.insert_run(r); !e) return e;
    for (int i = 0; i < events / 2; ++i) {
      if (auto s = tx.append_event({r.id, "step.completed", {}, {}, tx.now(), body}); !s) {
        return tl::unexpected(s.error());
      }
    }
    return {};
  });
  EXPECT_TRUE(first) << describe(first.error());
  // The rest in a second transaction, as a run's steps commit one by one.
  auto second = st.transact([&](transaction& tx) -> result<void> {
    for (int i = events / 2; i < events; ++i) {
      if (auto s = tx.append_event({r.id, "step.completed", {}, {}, tx.now(), body}); !s) {
        return tl::unexpected(s.error());
      }
    }
    r.status = run_status::completed;
    r.finished_at = tx.now();
    return tx.update_run(r);
  });
  EXPECT_TRUE(second) << describe(second.error());
  return r.id;
}

// Files in `dir` whose names start with `prefix` (temporary files left behind).
std::vector<std::string> files_starting(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  return out;
}

TEST(sqlite_backup, a_backup_under_load_restores_every_run_completed_before_it_began) {
  temp_dir dir;
  const auto db = dir.file("data/grok.db");
  auto st = open_store(db);
  ASSERT_TRUE(st);
  // Some megabytes, so that the copy takes many steps.
  for (int i = 0; i < 150; ++i) add_completed_run(*st, 10, 2000);

  std::mutex mutex;
  std::condition_variable progressed;
  std::vector<std::pair<std::string, std::int64_t>> completed;  // guarded by mutex
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      auto id = add_completed_run(*st, 2 + i % 7, 300);
      const std::lock_guard lock(mutex);
      completed.emplace_back(id, 2 + i % 7);
      progressed.notify_all();
    }
  });
  const auto completed_count = [&] {
    const std::lock_guard lock(mutex);
    return completed.size();
  };
  // Waits (bounded) until the writer commits another run: proof that it is not held up.
  const auto wait_for_writes_beyond = [&](std::size_t n) {
    std::unique_lock lock(mutex);
    return progressed.wait_for(lock, 20s, [&] { return completed.size() > n; });
  };
  ASSERT_TRUE(wait_for_writes_beyond(20));

  std::vector<std::pair<std::string, std::int64_t>> before;
  {
    const std::lock_guard lock(mutex);
    before = completed;
  }
  int steps = 0;
  int steps_with_writes = 0;
  backup_options options;
  options.pages_per_step = 16;
  options.pause = 0ms;
  std::int64_t last_done = 0;
  options.on_progress = [&](const backup_progress& p) {
    EXPECT_LE(p.pages_done, p.pages_total);
    // One snapshot: the writer's commits never make the copy start over.
    EXPECT_GE(p.pages_done, last_done) << "the backup restarted";
    last_done = p.pages_done;
    if (++steps <= 3 && p.pages_done < p.pages_total) {
      // The writer commits between the backup's steps.
      if (wait_for_writes_beyond(completed_count())) ++steps_with_writes;
    }
  };
  const auto dest = dir.file("backups/one.db");
  auto info = backup_database(db, dest, options);
  stop = true;
  writer.join();
  ASSERT_TRUE(info) << describe(info.error());
  EXPECT_GT(steps, 10);
  EXPECT_EQ(steps_with_writes, 3) << "the writer kept committing during the backup";
  EXPECT_EQ(info->path, dest);
  EXPECT_EQ(info->bytes, static_cast<std::int64_t>(fs::file_size(dest)));
  EXPECT_GT(info->bytes, 3 * 1024 * 1024);

  // One self-contained file, readable only by its owner.
  EXPECT_FALSE(fs::exists(dest + "-wal"));
  EXPECT_EQ(read_all(dest)[18], 1) << "rollback-journal mode in the header";
  struct stat s {};
  ASSERT_EQ(::stat(dest.c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, 0600U);
  EXPECT_TRUE(files_starting(dir.path() / "backups", "one.db.tmp").empty());

  auto report = verify_database(dest);
  ASSERT_TRUE(report) << describe(report.error());
  EXPECT_TRUE(report->ok()) << report->problems.front();
  EXPECT_EQ(report->schema_version, latest_schema_version());
  std::int64_t runs_in_backup = -1;
  for (const auto& t : report->tables) {
    if (t.table == "runs") runs_in_backup = t.rows;
  }
  EXPECT_GE(runs_in_backup, static_cast<std::int64_t>(150 + before.size()));

  temp_dir fresh;
  const auto restored_db = fresh.file("data/grok.db");
  auto restored = restore_database(dest, restored_db, false);
  ASSERT_TRUE(restored) << describe(restored.error());
  EXPECT_FALSE(restored->replaced);
  auto back = open_store(restored_db);
  ASSERT_TRUE(back);
  for (const auto& [id, events] : before) {
    auto run = back->get_run(id);
    ASSERT_TRUE(run && *run) << id;
    EXPECT_EQ((*run)->status, run_status::completed);
    EXPECT_EQ((*run)->last_seq, events);
    auto got = back->events_after(id, 0, 1000);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), static_cast<std::size_t>(events)) << id;
    for (std::size_t i = 0; i < got->size(); ++i) EXPECT_EQ((*got)[i].seq, std::int64_t(i) + 1);
  }
}

TEST(sqlite_backup, a_backup_never_overwrites_a_file) {
  temp_dir dir;
  const auto db = dir.file("grok.db");
  auto st = open_store(db);
  ASSERT_TRUE(st);
  add_completed_run(*st, 2, 10);
  const auto dest = dir.file("taken.db");
  write_file(dest, "precious");
  auto again = backup_database(db, dest);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, errc::already_exists);
  EXPECT_NE(again.error().message.find(dest), std::string::npos);
  EXPECT_EQ(read_all(dest), "precious");
  EXPECT_TRUE(files_starting(dir.path(), "taken.db.tmp").empty());

  auto missing = backup_database(dir.file("nothing.db"), dir.file("b.db"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
}

TEST(sqlite_backup, a_stopped_backup_leaves_nothing_behind) {
  temp_dir dir;
  const auto db = dir.file("grok.db");
  auto st = open_store(db);
  ASSERT_TRUE(st);
  for (int i = 0; i < 20; ++i) add_completed_run(*st, 4, 1000);
  backup_options options;
  options.pages_per_step = 1;
  options.should_stop = [] { return true; };
  auto stopped = backup_database(db, dir.file("b.db"), options);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, errc::cancelled);
  EXPECT_FALSE(fs::exists(dir.file("b.db")));
  EXPECT_TRUE(files_starting(dir.path(), "b.db").empty());
}

TEST(sqlite_backup, verify_explains_what_is_not_a_backup) {
  temp_dir dir;
  auto missing = verify_database(dir.file("missing.db"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  EXPECT_NE(missing.error().message.find("missing.db"), std::string::npos);

  auto directory = verify_database(dir.path().string());
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code, errc::invalid_argument);

  write_file(dir.file("notes.txt"), std::string(8192, 'n'));
  auto text = verify_database(dir.file("notes.txt"));
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, errc::corrupt);
  EXPECT_NE(text.error().message.find("is not a GROK database or is damaged"), std::string::npos)
      << text.error().message;

  write_file(dir.file("empty.db"), "");
  auto empty = verify_database(dir.file("empty.db"));
  ASSERT_TRUE(empty) << describe(empty.error());
  ASSERT_FALSE(empty->ok());
  EXPECT_NE(empty->problems.front().find("not a GROK database"), std::string::npos);

  // A real backup cut in half.
  {
    auto st = open_store(dir.file("grok.db"));
    ASSERT_TRUE(st);
    for (int i = 0; i < 30; ++i) add_completed_run(*st, 6, 1000);
  }
  ASSERT_TRUE(backup_database(dir.file("grok.db"), dir.file("whole.db")));
  const auto whole = read_all(dir.file("whole.db"));
  write_file(dir.file("half.db"), whole.substr(0, whole.size() / 2));
  auto half = verify_database(dir.file("half.db"));
  if (half) {
    EXPECT_FALSE(half->ok()) << "a truncated backup is never ok";
  } else {
    EXPECT_EQ(half.error().code, errc::corrupt) << describe(half.error());
  }
  auto good = verify_database(dir.file("whole.db"));
  ASSERT_TRUE(good);
  EXPECT_TRUE(good->ok());
}

TEST(sqlite_backup, verify_finds_a_run_with_missing_events) {
  temp_dir dir;
  std::string id;
  {
    auto st = open_store(dir.file("grok.db"));
    ASSERT_TRUE(st);
    id = add_completed_run(*st, 5, 10);
    add_completed_run(*st, 3, 10);
  }
  ASSERT_TRUE(backup_database(dir.file("grok.db"), dir.file("b.db")));
  {
    auto conn = connection::open(dir.file("b.db"), {.create_if_missing = false});
    ASSERT_TRUE(conn);
    ASSERT_TRUE((*conn)->exec("DELETE FROM events WHERE seq = 3 AND run_id = '" + id + "'"));
    ASSERT_TRUE((*conn)->exec("PRAGMA journal_mode=DELETE"));
  }
  auto report = verify_database(dir.file("b.db"));
  ASSERT_TRUE(report) << describe(report.error());
  ASSERT_EQ(report->problems.size(), 1U);
  EXPECT_NE(report->problems[0].find(id), std::string::npos) << report->problems[0];
}

TEST(sqlite_backup, restore_is_refused_while_the_database_is_open) {
  temp_dir dir;
  const auto db = dir.file("grok.db");
  auto st = open_store(db);
  ASSERT_TRUE(st);
  const auto kept = add_completed_run(*st, 2, 10);
  ASSERT_TRUE(backup_database(db, dir.file("b.db")));
  add_completed_run(*st, 2, 10);

  auto refused = restore_database(dir.file("b.db"), db, /*force=*/true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, errc::busy);
  EXPECT_NE(refused.error().message.find("stop the server first"), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(files_starting(dir.path(), "grok.db.tmp").empty());

  // A thread holding the store open elsewhere counts the same as a process.
  st.reset();
  std::mutex mutex;
  std::condition_variable cv;
  bool opened = false, release = false;
  std::thread holder([&] {
    auto other = open_store(db);
    std::unique_lock lock(mutex);
    opened = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return opened; });
  }
  EXPECT_EQ(restore_database(dir.file("b.db"), db, true).error().code, errc::busy);
  {
    const std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  holder.join();

  // Closed: without --force an existing database stays; with it, it is replaced.
  auto exists = restore_database(dir.file("b.db"), db, false);
  ASSERT_FALSE(exists);
  EXPECT_EQ(exists.error().code, errc::already_exists);
  write_file(db + "-wal", std::string(4096, 'w'));  // a stale log of the old database
  auto replaced = restore_database(dir.file("b.db"), db, true);
  ASSERT_TRUE(replaced) << describe(replaced.error());
  EXPECT_TRUE(replaced->replaced);
  EXPECT_FALSE(fs::exists(db + "-wal"));
  auto back = open_store(db);
  ASSERT_TRUE(back);
  auto runs = back->list_runs({});
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 1U);
  EXPECT_EQ((*runs)[0].id, kept);
}

TEST(sqlite_backup, restore_refuses_a_damaged_backup_and_leaves_the_database_alone) {
  temp_dir dir;
  const auto db = dir.file("grok.db");
  {
    auto st = open_store(db);
    ASSERT_TRUE(st);
    for (int i = 0; i < 30; ++i) add_completed_run(*st, 6, 1000);
  }
  ASSERT_TRUE(backup_database(db, dir.file("b.db")));
  const auto whole = read_all(dir.file("b.db"));
  write_file(dir.file("half.db"), whole.substr(0, whole.size() / 2));
  const auto before = read_all(db);
  auto refused = restore_database(dir.file("half.db"), db, true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, errc::corrupt) << describe(refused.error());
  EXPECT_EQ(read_all(db), before);

  write_file(dir.file("text.db"), "hello");
  EXPECT_EQ(restore_database(dir.file("text.db"), db, true).error().code, errc::corrupt);
  EXPECT_EQ(restore_database(dir.file("none.db"), db, true).error().code, errc::not_found);
  EXPECT_EQ(restore_database(db, db, true).error().code, errc::invalid_argument);
  EXPECT_EQ(read_all(db), before);
}

TEST(sqlite_backup, the_lock_file_is_shared_by_stores_and_exclusive_for_restore) {
  temp_dir dir;
  const auto db = dir.file("grok.db");
  auto one = open_store(db);
  auto two = open_store(db);
  ASSERT_TRUE(one && two) << "two stores may share the database";
  EXPECT_TRUE(fs::exists(db_lock::lock_path(db)));
  auto exclusive = db_lock::acquire(db, db_lock::mode::exclusive, 0ms);
  ASSERT_FALSE(exclusive);
  EXPECT_EQ(exclusive.error().code, errc::busy);
  one.reset();
  two.reset();
  auto taken = db_lock::acquire(db, db_lock::mode::exclusive, 0ms);
  ASSERT_TRUE(taken);
  // While a restore holds it, a store waits and then gives up.
  auto waiting = sqlite_store::open({.path = db, .busy_timeout_ms = 100});
  ASSERT_FALSE(waiting);
  EXPECT_EQ(waiting.error().code, errc::busy);
}

}  // namespace
}  // namespace grok::store::sqlite
