#include "store/postgres/pg_connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "core/redact.h"

namespace grok::store::postgres {

params& params::add(double v) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  values_.emplace_back(std::string(buf, static_cast<std::size_t>(n > 0 ? n : 0)));
  return *this;
}

params& params::add(const std::vector<std::string>& items) {
  std::string literal = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) literal += ',';
    literal += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  literal += '}';
  values_.emplace_back(std::move(literal));
  return *this;
}

rows::rows(rows&& other) noexcept : res_(std::exchange(other.res_, nullptr)) {}

rows& rows::operator=(rows&& other) noexcept {
  if (this != &other) {
    if (res_ != nullptr) PQclear(res_);
    res_ = std::exchange(other.res_, nullptr);
  }
  return *this;
}

rows::~rows() {
  if (res_ != nullptr) PQclear(res_);
}

int rows::size() const { return res_ == nullptr ? 0 : PQntuples(res_); }

std::int64_t rows::affected() const {
  if (res_ == nullptr) return 0;
  const char* n = PQcmdTuples(res_);
  if (n == nullptr || *n == '\0') return 0;
  return std::strtoll(n, nullptr, 10);
}

bool rows::is_null(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }

std::string rows::text(int row, int col) const {
  return {PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col))};
}

std::optional<std::string> rows::optional_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}

std::int64_t rows::int64(int row, int col) const {
  const char* v = PQgetvalue(res_, row, col);
  std::int64_t out = 0;
  std::from_chars(v, v + PQgetlength(res_, row, col), out);
  return out;
}

std::optional<std::int64_t> rows::optional_int64(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return int64(row, col);
}

double rows::real(int row, int col) const {
  return std::strtod(PQgetvalue(res_, row, col), nullptr);
}

bool rows::boolean(int row, int col) const { return PQgetvalue(res_, row, col)[0] == 't'; }

std::optional<time_point> rows::optional_time(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return time(row, col);
}

sql_error_class classify_sqlstate(std::string_view s) {
  if (s == "23505") return {errc::already_exists};
  if (s == "23503") return {errc::not_found};
  if (s == "23514" || s.rfind("22", 0) == 0) return {errc::invalid_argument};
  if (s == "40001" || s == "40P01" || s == "55P03") return {errc::busy, true};
  if (s == "57014") return {errc::timeout, true};
  if (s.rfind("08", 0) == 0 || s == "57P01" || s == "57P02" || s == "57P03") {
    return {errc::unavailable, true, true};
  }
  if (s == "28P01" || s == "28000") return {errc::unauthenticated};
  return {errc::io};
}

namespace {

std::string trim_message(const char* msg) {
  std::string out = msg == nullptr ? "" : msg;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

result<std::unique_ptr<connection>> connection::open(const std::string& conninfo,
                                                     millis connect_timeout) {
  // Options from the URL are parsed first so that a malformed one is an invalid argument,
  // not a connection failure.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string why = trim_message(parse_error);
    if (parse_error != nullptr) PQfreemem(parse_error);
    return fail(errc::invalid_argument, "invalid PostgreSQL URL: " + why);
  }
  PQconninfoFree(parsed);

  const auto timeout_s = std::max<long long>(1, (connect_timeout.count() + 999) / 1000);
  const std::string timeout_value = std::to_string(timeout_s);
  const char* keys[] = {"dbname", "connect_timeout", "fallback_application_name", nullptr};
  const char* values[] = {conninfo.c_str(), timeout_value.c_str(), "grok", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return fail(errc::internal, "libpq could not allocate a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = trim_message(PQerrorMessage(conn));
    PQfinish(conn);
    const bool auth = why.find("password authentication failed") != std::string::npos ||
                      why.find("no pg_hba.conf entry") != std::string::npos;
    if (auth) return fail(errc::unauthenticated, "PostgreSQL refused the connection: " + why);
    return fail(errc::unavailable, "cannot connect to PostgreSQL: " + why, /*retryable=*/true);
  }
  std::unique_ptr<connection> out(new connection(conn));
  // Every session speaks UTC and fails a statement stuck on a lock for too long instead of
  // hanging a worker: a lock held that long means something is wrong.
  if (auto r = out->exec_script("SET TIME ZONE 'UTC'; SET lock_timeout = '30s'"); !r) {
    return tl::unexpected(r.error());
  }
  return out;
}

connection::~connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

result<void> connection::commit() {
  if (broken_) return fail(errc::unavailable, "the PostgreSQL connection was lost", true);
  PGresult* res = PQexec(conn_, "COMMIT");
  if (res == nullptr || PQresultStatus(res) != PGRES_COMMAND_OK) {
    auto e = failure(res, "commit");
    if (res != nullptr) PQclear(res);
    return tl::unexpected(e);
  }
  const std::string_view tag = PQcmdStatus(res);
  const bool rolled_back = tag == "ROLLBACK";
  PQclear(res);
  if (rolled_back) {
    return fail(errc::internal,
                "the transaction was rolled back: a statement in it failed and the error was "
                "not returned");
  }
  return {};
}

bool connection::healthy() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }

int connection::backend_pid() const { return PQbackendPID(conn_); }

error connection::failure(pg_result* res, std::string_view what) {
  std::string state;
  std::string message;
  if (res != nullptr) {
    const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (s != nullptr) state = s;
    message = trim_message(PQresultErrorMessage(res));
  }
  if (message.empty()) message = trim_message(PQerrorMessage(conn_));
  auto cls = classify_sqlstate(state);
  if (PQstatus(conn_) != CONNECTION_OK || (state.empty() && res == nullptr)) {
    cls = {errc::unavailable, true, true};
  }
  if (cls.connection_lost) broken_ = true;
  std::string text = std::string(what) + ": " + message;
  if (!state.empty()) text += " [" + state + "]";
  return {cls.code, std::move(text), cls.retryable};
}

result<rows> connection::exec(std::string_view sql, const params& p) {
  if (broken_) return fail(errc::unavailable, "the PostgreSQL connection was lost", true);
  std::string key(sql);
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    std::string name = "grok_s" + std::to_string(prepared_.size() + 1);
    PGresult* prep = PQprepare(conn_, name.c_str(), key.c_str(), 0, nullptr);
    if (prep == nullptr || PQresultStatus(prep) != PGRES_COMMAND_OK) {
      auto e = failure(prep, "prepare");
      if (prep != nullptr) PQclear(prep);
      return tl::unexpected(e);
    }
    PQclear(prep);
    it = prepared_.emplace(std::move(key), std::move(name)).first;
  }
  const auto& values = p.values();
  // Text parameters travel as C strings: a NUL byte would silently cut the value short.
  // PostgreSQL cannot store one in text at all, so it is refused, never truncated.
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] && values[i]->find('\0') != std::string::npos) {
      return fail(errc::invalid_argument,
                  "value " + std::to_string(i + 1) +
                      " contains a NUL byte, which PostgreSQL cannot store in text");
    }
  }
  std::vector<const char*> ptrs;
  std::vector<int> lengths;
  ptrs.reserve(values.size());
  lengths.reserve(values.size());
  for (const auto& v : values) {
    ptrs.push_back(v ? v->c_str() : nullptr);
    lengths.push_back(v ? static_cast<int>(v->size()) : 0);
  }
  PGresult* res = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()),
                                 ptrs.data(), lengths.data(), nullptr, 0);
  const auto status = res == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    auto e = failure(res, "query");
    if (res != nullptr) PQclear(res);
    return tl::unexpected(e);
  }
  return rows(res);
}

result<void> connection::exec_script(std::string_view sql) {
  if (broken_) return fail(errc::unavailable, "the PostgreSQL connection was lost", true);
  std::string text(sql);
  PGresult* res = PQexec(conn_, text.c_str());
  const auto status = res == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    auto e = failure(res, "statement");
    if (res != nullptr) PQclear(res);
    return tl::unexpected(e);
  }
  PQclear(res);
  return {};
}

std::string redact_url(const std::string& url) { return redact_url_password(url); }

}  // namespace grok::store::postgres
