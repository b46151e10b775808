// API keys on PostgreSQL: the `api_keys` table of migration 1, with the validation, errors
// and orders of the SQLite backend (store/sqlite/sqlite_api_keys.cpp, sqlite_store.cpp).
// A taken id or hash is found by ON CONFLICT DO NOTHING rather than by a failing statement,
// so the caller's transaction stays usable.
#include "core/utf8.h"
#include "store/postgres/pg_rows.h"
#include "store/postgres/pg_store.h"
#include "store/postgres/pg_transaction.h"

namespace grok::store::postgres {
namespace {

// What a TEXT column takes: UTF-8 without NUL (anything else would fail the statement).
bool is_storable_text(std::string_view text) {
  return is_valid_utf8(text) && text.find('\0') == std::string_view::npos;
}

}  // namespace

result<void> pg_transaction::insert_api_key(const api_key_record& key) {
  if (key.scope != "runs" && key.scope != "admin") {
    return fail(errc::invalid_argument, "a key's scope is runs or admin");
  }
  if (key.name.empty() || key.name.size() > k_max_api_key_name_bytes) {
    return fail(errc::invalid_argument, "a key's name must be 1 to 200 bytes");
  }
  if (key.id.empty() || key.hash.empty()) {
    return fail(errc::invalid_argument, "a key needs an id and a hash");
  }
  if (!is_storable_text(key.id) || !is_storable_text(key.name) || !is_storable_text(key.prefix) ||
      !is_storable_text(key.hash)) {
    return fail(errc::invalid_argument, "a key's fields must be UTF-8 without NUL bytes");
  }
  auto inserted = conn_.exec(std::string("INSERT INTO api_keys (") + k_api_key_columns +
                                 ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                                 "ON CONFLICT DO NOTHING RETURNING id",
                             params()
                                 .add(key.id)
                                 .add(key.name)
                                 .add(key.scope)
                                 .add(key.prefix)
                                 .add(key.hash)
                                 .add(key.created_at)
                                 .add(key.last_used_at)
                                 .add(key.revoked_at));
  if (!inserted) return tl::unexpected(inserted.error());
  if (inserted->empty())
    return fail(errc::already_exists, "an API key with this id or hash exists");
  return {};
}

result<void> pg_transaction::revoke_api_key(std::string_view id) {
  const auto not_found = [&] {
    return fail(errc::not_found, "no API key " + std::string(id.substr(0, 64)));
  };
  if (!is_storable_text(id)) return not_found();
  auto updated = conn_.exec(
      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING id",
      params().add(id).add(now_));
  if (!updated) return tl::unexpected(updated.error());
  if (updated->empty()) return not_found();
  return {};
}

result<std::vector<api_key_record>> pg_store::list_api_keys() {
  return with_connection<std::vector<api_key_record>>(
      [](connection& c) -> result<std::vector<api_key_record>> {
        auto r = c.exec(std::string("SELECT ") + k_api_key_columns +
                        " FROM api_keys ORDER BY created_at, id COLLATE \"C\"");
        if (!r) return tl::unexpected(r.error());
        return collect<api_key_record>(*r, read_api_key);
      });
}

result<std::optional<api_key_record>> pg_store::find_api_key(std::string_view hash) {
  // A hash PostgreSQL could not even compare is no stored key's.
  if (!is_storable_text(hash)) return std::optional<api_key_record>{};
  return with_connection<std::optional<api_key_record>>(
      [hash](connection& c) -> result<std::optional<api_key_record>> {
        auto r =
            c.exec(std::string("SELECT ") + k_api_key_columns + " FROM api_keys WHERE hash = $1",
                   params().add(hash));
        if (!r) return tl::unexpected(r.error());
        return first<api_key_record>(*r, read_api_key);
      });
}

}  // namespace grok::store::postgres
