#include "store/sqlite/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "store/sqlite/connection.h"
#include "store/sqlite/db_lock.h"
#include "store/sqlite/migrations.h"

namespace grok::store::sqlite {
namespace fs = std::filesystem;
namespace {

// How long a backup waits for a restore that holds the database's lock.
constexpr millis k_lock_wait{10'000};
// How long a backup step may keep finding the database locked before the backup gives up.
constexpr auto k_max_busy = std::chrono::minutes(1);
// At most this many findings of one kind are listed.
constexpr int k_max_findings = 20;

error io_error(const std::string& what) {
  return {errc::io, what + ": " + std::strerror(errno), false};
}

// A new, empty file beside `path` that nobody else can have: created with O_EXCL, 0600.
result<std::string> create_temp_beside(const std::string& path) {
  static std::atomic<int> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string name =
        path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
      return name;
    }
    if (errno != EEXIST) return tl::unexpected(io_error("cannot create " + name));
  }
  return fail(errc::io, "cannot find a free temporary name beside " + path);
}

// Removes a temporary file (and any journal SQLite left beside it) unless released.
class temp_file_guard {
 public:
  explicit temp_file_guard(std::string path) : path_(std::move(path)) {}
  temp_file_guard(const temp_file_guard&) = delete;
  temp_file_guard& operator=(const temp_file_guard&) = delete;
  ~temp_file_guard() {
    if (path_.empty()) return;
    std::error_code ec;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(path_ + suffix, ec);
  }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

result<void> fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(io_error("cannot open " + path + " to sync it"));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return tl::unexpected(io_error("cannot sync " + path));
  return {};
}

std::string parent_dir(const std::string& path) {
  auto parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// Renames `from` to `to` unless `to` exists (atomically where the file system can).
result<void> rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
  if (errno == EEXIST) return fail(errc::already_exists, to + " already exists");
  if (errno != EINVAL && errno != ENOSYS) {
    return tl::unexpected(io_error("cannot rename " + from + " to " + to));
  }
  // A file system without RENAME_NOREPLACE: link() refuses an existing name too.
  if (::link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) return fail(errc::already_exists, to + " already exists");
    return tl::unexpected(io_error("cannot link " + from + " to " + to));
  }
  ::unlink(from.c_str());
  return {};
}

struct sqlite_closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using sqlite_handle = std::unique_ptr<sqlite3, sqlite_closer>;

result<sqlite_handle> open_raw(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite_handle db(raw);
  if (rc != SQLITE_OK) return tl::unexpected(make_sqlite_error(rc, "opening " + path, raw));
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

result<void> exec_raw(sqlite3* db, const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return tl::unexpected(make_sqlite_error(rc, what, db));
  return {};
}

// The copy in `path` holds the source's header, which says WAL mode: switching it to
// rollback-journal mode makes the backup one file that opens anywhere, read-only included.
result<void> make_self_contained(const std::string& path) {
  auto db = open_raw(path);
  if (!db) return tl::unexpected(db.error());
  return exec_raw(db->get(), "PRAGMA journal_mode=DELETE", "finishing the backup file");
}

result<void> copy_pages(sqlite3* source, const std::string& dest_path,
                        const backup_options& options, backup_info& info) {
  auto dest = open_raw(dest_path);
  if (!dest) return tl::unexpected(dest.error());
  // The temporary file needs no journal: a failed copy is deleted, not rolled back.
  if (auto r = exec_raw(dest->get(), "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF",
                        "preparing the backup file");
      !r) {
    return r;
  }
  sqlite3_backup* backup = sqlite3_backup_init(dest->get(), "main", source, "main");
  if (backup == nullptr) {
    return tl::unexpected(
        make_sqlite_error(sqlite3_errcode(dest->get()), "starting the backup", dest->get()));
  }
  const int page_size = [&] {
    sqlite3_stmt* stmt = nullptr;
    int size = 4096;
    if (sqlite3_prepare_v2(source, "PRAGMA page_size", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      size = sqlite3_column_int(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return size;
  }();
  const int step_pages = options.pages_per_step < 1 ? 1 : options.pages_per_step;
  auto busy_since = std::chrono::steady_clock::time_point::max();
  while (true) {
    const int rc = sqlite3_backup_step(backup, step_pages);
    const std::int64_t total = sqlite3_backup_pagecount(backup);
    info.pages = total;
    if (options.on_progress) {
      options.on_progress({total - sqlite3_backup_remaining(backup), total, page_size});
    }
    if (rc == SQLITE_DONE) break;
    const int primary = rc & 0xff;
    if (rc != SQLITE_OK && primary != SQLITE_BUSY && primary != SQLITE_LOCKED) {
      sqlite3_backup_finish(backup);
      return tl::unexpected(make_sqlite_error(rc, "copying the database", dest->get()));
    }
    if (rc == SQLITE_OK) {
      busy_since = std::chrono::steady_clock::time_point::max();
    } else if (busy_since == std::chrono::steady_clock::time_point::max()) {
      busy_since = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - busy_since > k_max_busy) {
      sqlite3_backup_finish(backup);
      return fail(errc::busy, "the database stayed locked for a minute; no backup was written",
                  true);
    }
    if (options.should_stop && options.should_stop()) {
      sqlite3_backup_finish(backup);
      return fail(errc::cancelled, "the backup was stopped before it was complete");
    }
    if (options.pause.count() > 0) std::this_thread::sleep_for(options.pause);
  }
  if (const int rc = sqlite3_backup_finish(backup); rc != SQLITE_OK) {
    return tl::unexpected(make_sqlite_error(rc, "finishing the backup", dest->get()));
  }
  return {};
}

}  // namespace

result<backup_info> backup_database(const std::string& source, const std::string& dest,
                                    const backup_options& options) {
  const auto started = std::chrono::steady_clock::now();
  if (source.empty() || dest.empty()) {
    return fail(errc::invalid_argument, "a backup needs a source database and a destination");
  }
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dest, ec))) {
    return fail(errc::already_exists, dest + " already exists; a backup never overwrites a file");
  }
  if (!fs::exists(source, ec)) return fail(errc::not_found, "no database at " + source);
  if (fs::is_directory(source, ec)) {
    return fail(errc::invalid_argument, source + " is a directory, not a database file");
  }
  if (auto parent = fs::path(dest).parent_path(); !parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) {
      return fail(errc::io, "cannot create directory " + parent.string() + ": " + ec.message());
    }
  }
  // Shared: a restore must not replace the file under the copy. Without a usable lock file
  // (a read-only directory) nothing can restore over it either.
  auto lock = db_lock::acquire(source, db_lock::mode::shared, k_lock_wait);
  if (!lock && lock.error().code == errc::busy) return tl::unexpected(lock.error());

  auto src = connection::open(source, {.create_if_missing = false, .read_only = true});
  if (!src) return tl::unexpected(src.error());
  // One read transaction for the whole copy: the backup sees one snapshot and is never
  // restarted by the writers' commits (in WAL mode they do not wait for it).
  if (auto r = (*src)->exec("BEGIN"); !r) return tl::unexpected(r.error());
  if (auto r = (*src)->exec("SELECT count(*) FROM sqlite_schema"); !r) {
    return tl::unexpected(r.error());
  }

  auto temp = create_temp_beside(dest);
  if (!temp) return tl::unexpected(temp.error());
  temp_file_guard guard(*temp);
  backup_info info;
  if (auto r = copy_pages((*src)->handle(), *temp, options, info); !r) {
    return tl::unexpected(r.error());
  }
  (void)(*src)->exec("COMMIT");
  if (auto r = make_self_contained(*temp); !r) return tl::unexpected(r.error());
  if (auto r = fsync_path(*temp, false); !r) return tl::unexpected(r.error());
  if (auto r = rename_no_replace(*temp, dest); !r) {
    auto e = r.error();
    if (e.code == errc::already_exists) e.message += "; a backup never overwrites a file";
    return tl::unexpected(std::move(e));
  }
  guard.release();
  (void)fsync_path(parent_dir(dest), true);
  info.path = dest;
  info.bytes = static_cast<std::int64_t>(fs::file_size(dest, ec));
  info.duration = std::chrono::duration_cast<millis>(std::chrono::steady_clock::now() - started);
  return info;
}

namespace {

// Runs `sql` and hands each row to `row`; SQLite errors become one finding.
template <class Row>
void each_row(connection& conn, const std::string& sql, std::vector<std::string>& problems,
              std::string_view what, Row row) {
  auto stmt = conn.prepare(sql);
  if (!stmt) {
    problems.push_back(std::string(what) + " failed: " + stmt.error().message);
    return;
  }
  while (true) {
    auto more = stmt->step();
    if (!more) {
      problems.push_back(std::string(what) + " failed: " + more.error().message);
      return;
    }
    if (!*more) return;
    row(*stmt);
  }
}

// The tables of every GROK schema; later migrations may add more, which are counted too.
constexpr const char* k_required_tables[] = {"runs",      "steps",     "events",
                                             "queue",     "artifacts", "api_keys",
                                             "llm_calls", "documents", "schema_migrations"};

}  // namespace

result<verify_report> verify_database(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return fail(errc::not_found, "no such file: " + path);
  if (fs::is_directory(path, ec)) {
    return fail(errc::invalid_argument, path + " is a directory, not a backup file");
  }
  verify_report report;
  report.path = path;
  report.bytes = static_cast<std::int64_t>(fs::file_size(path, ec));
  report.expected_schema_version = latest_schema_version();
  // A file that is not a database, or is cut short, fails here with errc::corrupt and
  // "<path> is not a GROK database or is damaged (<SQLite's reason>)".
  auto conn = connection::open(path, {.create_if_missing = false, .read_only = true});
  if (!conn) return tl::unexpected(conn.error());
  auto& c = **conn;
  auto& problems = report.problems;

  each_row(c, "PRAGMA integrity_check(" + std::to_string(k_max_findings) + ")", problems,
           "integrity check", [&](const bound_statement& s) {
             if (auto text = s.column_text(0); text != "ok")
               problems.push_back("integrity: " + text);
           });
  each_row(c, "PRAGMA foreign_key_check", problems, "foreign key check",
           [&, n = 0](const bound_statement& s) mutable {
             if (++n > k_max_findings) return;
             problems.push_back("foreign key: " + s.column_text(0) + " row " +
                                std::to_string(s.column_int64(1)) + " refers to a missing " +
                                s.column_text(2) + " row");
           });
  auto version = read_schema_version(c);
  if (!version) {
    problems.push_back("cannot read the schema version: " + version.error().message);
  } else {
    report.schema_version = *version;
    if (*version == 0) {
      problems.push_back("not a GROK database (schema version 0: no GROK tables)");
    } else if (*version > report.expected_schema_version) {
      problems.push_back("schema version " + std::to_string(*version) +
                         " is newer than this grok binary understands (" +
                         std::to_string(report.expected_schema_version) + "); use a newer grok");
    }
  }

  // Every table but SQLite's own and the full-text index's internals (virtual tables and
  // their shadow tables).
  std::vector<std::string> names;
  each_row(c,
           "SELECT name FROM sqlite_schema s WHERE type = 'table' "
           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND NOT EXISTS (SELECT 1 FROM "
           "sqlite_schema v WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%' "
           "AND (s.name = v.name OR s.name LIKE v.name || '\\_%' ESCAPE '\\')) ORDER BY name",
           problems, "listing tables",
           [&](const bound_statement& s) { names.push_back(s.column_text(0)); });
  for (const auto& name : names) {
    std::string quoted = "\"";
    for (char ch : name) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    quoted += '"';
    each_row(c, "SELECT count(*) FROM " + quoted, problems, "counting " + name,
             [&](const bound_statement& s) {
               report.tables.push_back({name, s.column_int64(0)});
             });
  }
  const auto has = [&](std::string_view table) {
    return std::find(names.begin(), names.end(), table) != names.end();
  };
  if (report.schema_version > 0) {
    for (const char* table : k_required_tables) {
      if (!has(table)) problems.push_back(std::string("missing table: ") + table);
    }
  }
  if (has("runs") && has("events")) {
    // Events are gapless and pruned only with their run: each run's are exactly 1..last_seq.
    each_row(c,
             "SELECT r.id, r.last_seq, count(e.seq), coalesce(min(e.seq), 1), "
             "coalesce(max(e.seq), 0) FROM runs r LEFT JOIN events e ON e.run_id = r.id "
             "GROUP BY r.id HAVING count(e.seq) != r.last_seq OR coalesce(max(e.seq), 0) != "
             "r.last_seq OR coalesce(min(e.seq), 1) != 1 LIMIT " +
                 std::to_string(k_max_findings),
             problems, "checking event numbering", [&](const bound_statement& s) {
               problems.push_back("run " + s.column_text(0) + ": " +
                                  std::to_string(s.column_int64(2)) + " events, not numbered 1.." +
                                  std::to_string(s.column_int64(1)));
             });
  }
  return report;
}

namespace {

result<void> copy_file_synced(const std::string& from, const std::string& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return tl::unexpected(io_error("cannot open " + from));
  const int out = ::open(to.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (out < 0) {
    ::close(in);
    return tl::unexpected(io_error("cannot open " + to));
  }
  std::vector<char> buffer(std::size_t{1} << 20);
  result<void> outcome;
  while (outcome) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      outcome = tl::unexpected(io_error("cannot read " + from));
      break;
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        outcome = tl::unexpected(io_error("cannot write " + to));
        break;
      }
      done += w;
    }
  }
  if (outcome && ::fsync(out) != 0) outcome = tl::unexpected(io_error("cannot sync " + to));
  ::close(in);
  ::close(out);
  return outcome;
}

}  // namespace

result<restore_info> restore_database(const std::string& backup, const std::string& db,
                                      bool force) {
  std::error_code ec;
  if (fs::exists(db, ec) && fs::equivalent(backup, db, ec)) {
    return fail(errc::invalid_argument, backup + " is the database itself");
  }
  // A live database copied by hand has its latest commits in the -wal beside it; copying
  // the main file alone would lose them.
  if (fs::exists(backup + "-wal", ec) && fs::file_size(backup + "-wal", ec) > 0) {
    return fail(errc::invalid_argument,
                backup +
                    " has a write-ahead log beside it: it is a live database, not a "
                    "backup; take one with `grok backup --to PATH`");
  }
  restore_info info;
  auto verified = verify_database(backup);
  if (!verified) return tl::unexpected(verified.error());
  info.verified = std::move(*verified);
  if (info.verified.schema_version > info.verified.expected_schema_version) {
    return fail(errc::unsupported, backup + ": " + info.verified.problems.front());
  }
  if (!info.verified.ok()) {
    std::string message = backup + " failed verification:";
    for (const auto& p : info.verified.problems) message += "\n  " + p;
    return fail(errc::corrupt, std::move(message));
  }
  if (auto parent = fs::path(db).parent_path(); !parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) {
      return fail(errc::io, "cannot create directory " + parent.string() + ": " + ec.message());
    }
  }
  // Held until the new file is in place: no grok process can open the database meanwhile.
  auto lock = db_lock::acquire(db, db_lock::mode::exclusive, millis(0));
  if (!lock) {
    auto e = lock.error();
    if (e.code == errc::busy)
      e.message = "a grok process has " + db + " open; stop the server first";
    return tl::unexpected(std::move(e));
  }
  info.replaced = fs::exists(db, ec);
  if (info.replaced && !force) {
    return fail(errc::already_exists,
                "a database already exists at " + db + "; pass --force to replace it");
  }
  auto temp = create_temp_beside(db);
  if (!temp) return tl::unexpected(temp.error());
  temp_file_guard guard(*temp);
  if (info.replaced) {
    // Keep the permissions the database had (the server's user may rely on them).
    fs::permissions(*temp, fs::status(db, ec).permissions(), ec);
  }
  if (auto r = copy_file_synced(backup, *temp); !r) return tl::unexpected(r.error());
  // The old database's log and index must not be applied to the new file.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    fs::remove(db + suffix, ec);
    if (ec) return fail(errc::io, "cannot remove " + db + suffix + ": " + ec.message());
  }
  if (::rename(temp->c_str(), db.c_str()) != 0) {
    return tl::unexpected(io_error("cannot rename " + *temp + " to " + db));
  }
  guard.release();
  if (auto r = fsync_path(parent_dir(db), true); !r) return tl::unexpected(r.error());
  return info;
}

}  // namespace grok::store::sqlite
