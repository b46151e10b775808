// The PostgreSQL schema's numbered migrations (SPEC §6). The tables and their meaning are
// those of the SQLite schema (store/sqlite/migrations.cpp) at its version 4; the numbering
// is PostgreSQL's own, starting from that whole schema as migration 1.
//
// Many processes may start at once against one database: each migration runs in its own
// transaction under a transaction-scoped advisory lock, and is skipped by whoever finds it
// already applied.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/postgres/pg_connection.h"

namespace grok::store::postgres {

struct migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

const std::vector<migration>& all_migrations();
int latest_schema_version();

// The applied version (0 for an empty database).
[[nodiscard]] result<int> read_schema_version(connection& conn);
// Applies pending migrations; returns how many this call applied. errc::unsupported when
// the database is newer than this binary.
[[nodiscard]] result<int> migrate(connection& conn);
// errc::conflict when migrations are pending, errc::unsupported when the database is newer.
[[nodiscard]] result<void> check_schema_current(connection& conn);

}  // namespace grok::store::postgres
