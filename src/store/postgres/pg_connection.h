// A thin RAII layer over one libpq connection: parameterized statements (prepared once per
// connection and reused), results read by row and column, and SQLSTATEs mapped to errc.
//
// Written over the C API rather than a packaged wrapper: Debian 12's libpqxx is a C++17
// library that reports failures by exceptions, where the store reports them as `result`
// values; what the store needs is a few dozen lines over libpq.
//
// Every value travels in libpq's text format. Times are BIGINT unix milliseconds, as on
// SQLite, stamped by the store's clock (so a manual clock drives both backends alike).
//
// Thread-safety: a connection belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

struct pg_conn;
struct pg_result;

namespace grok::store::postgres {

// Statement parameters ($1, $2, … in order of add()). nullopt is SQL NULL.
class params {
 public:
  params& add(std::string_view text) {
    values_.emplace_back(std::string(text));
    return *this;
  }
  params& add(const std::string& text) { return add(std::string_view(text)); }
  params& add(const char* text) { return add(std::string_view(text)); }
  params& add(std::int64_t v) {
    values_.emplace_back(std::to_string(v));
    return *this;
  }
  params& add(int v) { return add(static_cast<std::int64_t>(v)); }
  params& add(double v);
  params& add(bool v) {
    values_.emplace_back(v ? "true" : "false");
    return *this;
  }
  params& add(time_point t) { return add(to_unix_ms(t)); }
  params& add(std::nullopt_t) {
    values_.emplace_back(std::nullopt);
    return *this;
  }
  params& add(const std::optional<std::string>& v) {
    values_.push_back(v);
    return *this;
  }
  params& add(const std::optional<std::int64_t>& v) { return v ? add(*v) : add(std::nullopt); }
  params& add(const std::optional<time_point>& v) { return v ? add(*v) : add(std::nullopt); }
  // A text[] parameter, in array-literal form ({"a","b\"c"}); the statement casts it:
  // `= ANY($n::text[])`. One prepared statement then serves any number of items.
  params& add(const std::vector<std::string>& items);

  [[nodiscard]] const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string>> values_;
};

// The rows of one statement's result. Column accessors take a 0-based row and column.
class rows {
 public:
  rows() = default;
  explicit rows(pg_result* res) noexcept : res_(res) {}
  rows(rows&& other) noexcept;
  rows& operator=(rows&& other) noexcept;
  rows(const rows&) = delete;
  rows& operator=(const rows&) = delete;
  ~rows();

  [[nodiscard]] int size() const;
  [[nodiscard]] bool empty() const { return size() == 0; }
  // Rows changed by an INSERT/UPDATE/DELETE (0 for other statements).
  [[nodiscard]] std::int64_t affected() const;

  [[nodiscard]] bool is_null(int row, int col) const;
  [[nodiscard]] std::string text(int row, int col) const;
  [[nodiscard]] std::optional<std::string> optional_text(int row, int col) const;
  [[nodiscard]] std::int64_t int64(int row, int col) const;
  [[nodiscard]] std::optional<std::int64_t> optional_int64(int row, int col) const;
  [[nodiscard]] double real(int row, int col) const;
  [[nodiscard]] bool boolean(int row, int col) const;  // 't' / 'f'
  [[nodiscard]] time_point time(int row, int col) const { return from_unix_ms(int64(row, col)); }
  [[nodiscard]] std::optional<time_point> optional_time(int row, int col) const;

 private:
  pg_result* res_ = nullptr;
};

// Why a statement failed, from its SQLSTATE: 23505 → already_exists, 23503 → not_found,
// 22xxx/23514 → invalid_argument, 40001/40P01/55P03 → busy (retryable), 57014 → timeout,
// 08xxx/57P0x or a lost connection → unavailable (retryable); anything else → io.
struct sql_error_class {
  errc code = errc::io;
  bool retryable = false;
  bool connection_lost = false;
};
[[nodiscard]] sql_error_class classify_sqlstate(std::string_view sqlstate);

class connection {
 public:
  // Connects (blocking, at most `connect_timeout`). errc::unavailable (retryable) when the
  // server cannot be reached, errc::invalid_argument for a malformed conninfo/URL,
  // errc::unauthenticated when the server refuses the credentials.
  [[nodiscard]] static result<std::unique_ptr<connection>> open(const std::string& conninfo,
                                                                millis connect_timeout);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  connection(connection&&) = delete;
  connection& operator=(connection&&) = delete;

  // Runs one statement with parameters, prepared on first use and reused after.
  [[nodiscard]] result<rows> exec(std::string_view sql, const params& p = {});
  // Runs a script of several statements without parameters (migrations, BEGIN, COMMIT).
  [[nodiscard]] result<void> exec_script(std::string_view sql);

  // COMMIT. An error when the transaction had failed (PostgreSQL then answers COMMIT with
  // a rollback) or the commit itself failed.
  [[nodiscard]] result<void> commit();

  // False once the connection is known broken (the server went away, a protocol error):
  // the pool then drops it instead of reusing it.
  [[nodiscard]] bool healthy() const;
  // The server's process id for this session (for pg_terminate_backend in tests).
  [[nodiscard]] int backend_pid() const;
  [[nodiscard]] pg_conn* handle() const noexcept { return conn_; }

 private:
  explicit connection(pg_conn* conn) noexcept : conn_(conn) {}
  [[nodiscard]] error failure(pg_result* res, std::string_view what);

  pg_conn* conn_;
  bool broken_ = false;
  std::unordered_map<std::string, std::string> prepared_;  // sql → statement name
};

// A URL with its password replaced by "***", for messages and logs.
[[nodiscard]] std::string redact_url(const std::string& url);

}  // namespace grok::store::postgres
