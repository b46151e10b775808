#include "store/open_store.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_store.h"

namespace grok::store {
namespace {

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

}  // namespace

result<parsed_db_url> parse_db_url(const std::string& url) {
  parsed_db_url out;
  if (url.empty()) return fail(errc::invalid_argument, "database URL is empty");
  if (starts_with(url, "postgres://") || starts_with(url, "postgresql://")) {
    out.kind = parsed_db_url::backend::postgres;
    out.conninfo = url;
    return out;
  }
  std::string rest = url;
  if (starts_with(url, "sqlite://")) {
    rest = url.substr(9);
  } else if (auto colon = url.find("://"); colon != std::string::npos) {
    return fail(errc::invalid_argument, "unknown database URL scheme '" + url.substr(0, colon) +
                                            "' (use sqlite://PATH, a file path, or postgres://…)");
  }
  if (auto q = rest.find('?'); q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    std::size_t pos = 0;
    while (pos <= query.size()) {
      auto amp = query.find('&', pos);
      std::string pair =
          query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      auto eq = pair.find('=');
      std::string key = pair.substr(0, eq);
      std::string value = eq == std::string::npos ? "" : pair.substr(eq + 1);
      if (key == "synchronous" && (upper(value) == "NORMAL" || upper(value) == "FULL")) {
        out.synchronous = upper(value);
      } else if (!pair.empty()) {
        return fail(errc::invalid_argument, "unknown or invalid database URL option '" + pair +
                                                "' (supported: synchronous=normal|full)");
      }
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
  }
  if (rest.empty()) return fail(errc::invalid_argument, "database URL '" + url + "' has no path");
  out.path = rest;
  return out;
}

std::string redact_db_url(const std::string& url) { return postgres::redact_url(url); }

result<std::unique_ptr<store>> open_store(const open_request& request) {
  auto parsed = parse_db_url(request.url);
  if (!parsed) return tl::unexpected(parsed.error());
  if (parsed->kind == parsed_db_url::backend::postgres) {
    postgres::pg_options options;
    options.url = parsed->conninfo;
    options.migrate = request.migrate;
    options.time_source = request.time_source;
    options.follow_events = request.follow_events;
    options.pool_size = request.pool_size;
    auto opened = postgres::pg_store::open(options);
    if (!opened) return tl::unexpected(opened.error());
    return std::unique_ptr<store>(std::move(*opened));
  }
  sqlite::sqlite_options options;
  options.path = parsed->path;
  options.synchronous = parsed->synchronous;
  options.create_if_missing = request.create_if_missing;
  options.migrate = request.migrate;
  options.time_source = request.time_source;
  auto opened = sqlite::sqlite_store::open(options);
  if (!opened) {
    auto e = opened.error();
    if (e.code == errc::not_found && !request.create_if_missing) {
      e.message += " (run `grok migrate` or `grok serve` to create it)";
    }
    return tl::unexpected(std::move(e));
  }
  return std::unique_ptr<store>(std::move(*opened));
}

result<int> migrate_store(const std::string& url) {
  auto parsed = parse_db_url(url);
  if (!parsed) return tl::unexpected(parsed.error());
  if (parsed->kind == parsed_db_url::backend::postgres) {
    auto conn = postgres::connection::open(parsed->conninfo, millis(5'000));
    if (!conn) return tl::unexpected(conn.error());
    return postgres::migrate(**conn);
  }
  auto parent = std::filesystem::path(parsed->path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return fail(errc::io, "cannot create directory " + parent.string() + ": " + ec.message());
  sqlite::open_options options;
  options.synchronous = parsed->synchronous;
  auto conn = sqlite::connection::open(parsed->path, options);
  if (!conn) return tl::unexpected(conn.error());
  return sqlite::migrate(**conn);
}

}  // namespace grok::store
