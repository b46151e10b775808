#include "store/sqlite/connection.h"

#include <sqlite3.h>

#include <filesystem>
#include <utility>

namespace grok::store::sqlite {

error make_sqlite_error(int code, std::string_view what, sqlite3* db) {
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  switch (code) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return {errc::already_exists, std::move(message), false};
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return {errc::not_found, std::move(message), false};
    default:
      break;
  }
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return {errc::busy, std::move(message), true};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return {errc::corrupt, std::move(message), false};
    case SQLITE_CONSTRAINT:  // CHECK, NOT NULL
      return {errc::invalid_argument, std::move(message), false};
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return {errc::io, std::move(message), false};
    default:
      return {errc::internal, std::move(message), false};
  }
}

bound_statement::~bound_statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void bound_statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK && !bind_error_) {
    bind_error_ = make_sqlite_error(rc, "binding parameter " + std::to_string(index), db_);
  }
}

bound_statement& bound_statement::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

bound_statement& bound_statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

bound_statement& bound_statement::bind(int index, std::string_view text) {
  check_bind(
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
  return *this;
}

bound_statement& bound_statement::bind(int index, const std::optional<std::string>& text) {
  if (text) return bind(index, std::string_view(*text));
  return bind(index, nullptr);
}

bound_statement& bound_statement::bind(int index, std::nullptr_t) {
  check_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

result<bool> bound_statement::step() {
  if (bind_error_) return tl::unexpected(*bind_error_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return tl::unexpected(make_sqlite_error(rc, "executing statement", db_));
}

result<void> bound_statement::run() {
  while (true) {
    auto row = step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return {};
  }
}

std::int64_t bound_statement::column_int64(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

double bound_statement::column_double(int index) const {
  return sqlite3_column_double(stmt_, index);
}

std::string bound_statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index))};
}

std::optional<std::string> bound_statement::column_optional_text(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_text(index);
}

std::optional<std::int64_t> bound_statement::column_optional_int64(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_int64(index);
}

bool bound_statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

result<std::unique_ptr<connection>> connection::open(const std::string& path,
                                                     const open_options& options) {
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (!exists && !options.create_if_missing) {
    return fail(errc::not_found, "no database at " + path);
  }
  if (exists && std::filesystem::is_directory(path, ec)) {
    return fail(errc::invalid_argument, path + " is a directory, not a database file");
  }
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  flags |= options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (options.create_if_missing && !options.read_only) flags |= SQLITE_OPEN_CREATE;

  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<connection> conn(new connection(raw, path));
  if (rc != SQLITE_OK) {
    return tl::unexpected(make_sqlite_error(rc, "opening " + path, raw));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);

  // The first statement reads the header, so a file that is not a database fails here.
  // Checkpoints every 8,000 WAL pages (32 MiB) rather than SQLite's 1,000: a checkpoint
  // copies each page once however often it was rewritten meanwhile, and the hot pages (the
  // queue, the newest events) are rewritten by nearly every transaction, so rarer
  // checkpoints copy far less (bench/engine: about 1.3x the runs/s).
  std::string setup =
      "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=8000; PRAGMA synchronous=" +
      options.synchronous + ";";
  if (!options.read_only) setup = "PRAGMA journal_mode=WAL; " + setup;
  if (auto r = conn->exec(setup); !r) {
    auto e = r.error();
    if (e.code == errc::corrupt) {
      e.message = path + " is not a GROK database or is damaged (" + e.message + ")";
    }
    return tl::unexpected(std::move(e));
  }
  return conn;
}

connection::~connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

result<void> connection::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    auto e = make_sqlite_error(rc, "executing SQL", nullptr);
    e.message = "executing SQL: " + detail;
    return tl::unexpected(std::move(e));
  }
  return {};
}

result<bound_statement> connection::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return tl::unexpected(make_sqlite_error(rc, "preparing statement", db_));
    }
    it = cache_.emplace(sql, stmt).first;
  }
  return bound_statement(it->second, db_);
}

}  // namespace grok::store::sqlite
