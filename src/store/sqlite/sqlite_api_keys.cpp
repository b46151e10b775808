// API key writes on SQLite: the `api_keys` table of migration 1 (reads: sqlite_store.cpp).
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_transaction.h"

namespace grok::store::sqlite {

result<void> sqlite_transaction::insert_api_key(const api_key_record& key) {
  if (key.scope != "runs" && key.scope != "admin") {
    return fail(errc::invalid_argument, "a key's scope is runs or admin");
  }
  if (key.name.empty() || key.name.size() > k_max_api_key_name_bytes) {
    return fail(errc::invalid_argument, "a key's name must be 1 to 200 bytes");
  }
  if (key.id.empty() || key.hash.empty()) {
    return fail(errc::invalid_argument, "a key needs an id and a hash");
  }
  auto stmt = conn_.prepare(std::string("INSERT INTO api_keys (") + k_api_key_columns +
                            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, key.id)
      .bind(2, key.name)
      .bind(3, key.scope)
      .bind(4, key.prefix)
      .bind(5, key.hash)
      .bind(6, to_unix_ms(key.created_at));
  if (key.last_used_at) {
    stmt->bind(7, to_unix_ms(*key.last_used_at));
  } else {
    stmt->bind(7, nullptr);
  }
  if (key.revoked_at) {
    stmt->bind(8, to_unix_ms(*key.revoked_at));
  } else {
    stmt->bind(8, nullptr);
  }
  auto done = stmt->run();
  if (!done && done.error().code == errc::already_exists) {
    return fail(errc::already_exists, "an API key with this id or hash exists");
  }
  return done;
}

result<void> sqlite_transaction::revoke_api_key(std::string_view id) {
  auto stmt = conn_.prepare(
      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1 RETURNING id");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, id).bind(2, to_unix_ms(now_));
  auto row = stmt->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(errc::not_found, "no API key " + std::string(id.substr(0, 64)));
  if (auto r = stmt->run(); !r) return r;
  return {};
}

}  // namespace grok::store::sqlite
