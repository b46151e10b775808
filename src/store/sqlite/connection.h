// A thin RAII layer over one SQLite connection and its prepared statements.
//
// Written by hand rather than using a packaged wrapper (SQLiteCpp) because the store
// reports failures as `result` values, not exceptions, and needs persistent prepared
// statements that are reset when a use ends; both are a few lines over the C API.
//
// Thread-safety: a connection and its statements belong to one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace grok::store::sqlite {

// Maps an SQLite result code to an error; `what` says what was being done.
error make_sqlite_error(int code, std::string_view what, sqlite3* db);

class statement;

// A statement in use: resets and clears its bindings when destroyed, so a cached
// statement never holds a read transaction open.
class bound_statement {
 public:
  explicit bound_statement(sqlite3_stmt* stmt, sqlite3* db) noexcept : stmt_(stmt), db_(db) {}
  bound_statement(bound_statement&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_) {}
  bound_statement(const bound_statement&) = delete;
  bound_statement& operator=(const bound_statement&) = delete;
  bound_statement& operator=(bound_statement&&) = delete;
  ~bound_statement();

  // Binds by 1-based index. Returns *this for chaining.
  bound_statement& bind(int index, std::int64_t value);
  bound_statement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
  bound_statement& bind(int index, double value);
  bound_statement& bind(int index, std::string_view text);
  bound_statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  bound_statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  bound_statement& bind(int index, const std::optional<std::string>& text);
  bound_statement& bind(int index, std::nullptr_t);

  // Advances: true when a row is available, false when done.
  [[nodiscard]] result<bool> step();
  // Steps until done, ignoring rows.
  [[nodiscard]] result<void> run();

  [[nodiscard]] std::int64_t column_int64(int index) const;
  [[nodiscard]] double column_double(int index) const;
  [[nodiscard]] std::string column_text(int index) const;
  [[nodiscard]] std::optional<std::string> column_optional_text(int index) const;
  [[nodiscard]] std::optional<std::int64_t> column_optional_int64(int index) const;
  [[nodiscard]] bool column_is_null(int index) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  // The first binding error, reported by the next step() (binding is chained).
  std::optional<error> bind_error_;
  void check_bind(int rc, int index);
};

struct open_options {
  bool create_if_missing = true;
  bool read_only = false;
  int busy_timeout_ms = 10'000;
  std::string synchronous = "NORMAL";  // NORMAL or FULL
};

class connection {
 public:
  // Opens `path` in WAL mode with foreign keys on. errc::not_found when the file does not
  // exist and create_if_missing is false; errc::corrupt when it is not an SQLite database.
  [[nodiscard]] static result<std::unique_ptr<connection>> open(const std::string& path,
                                                                const open_options& options);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Runs one or more statements that return no rows.
  [[nodiscard]] result<void> exec(std::string_view sql);
  // Returns a cached prepared statement for `sql`, ready to bind.
  [[nodiscard]] result<bound_statement> prepare(const std::string& sql);

  [[nodiscard]] sqlite3* handle() const noexcept { return db_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

}  // namespace grok::store::sqlite
