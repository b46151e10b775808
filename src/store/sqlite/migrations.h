// Numbered schema migrations for the SQLite backend.
//
// The schema version lives in `PRAGMA user_version`; each migration runs in its own
// IMMEDIATE transaction that re-reads the version, so two processes migrating at once
// apply each step exactly once. A database whose version is newer than the last
// migration this binary knows is refused (errc::unsupported) rather than touched.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/sqlite/connection.h"

namespace grok::store::sqlite {

struct migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// All migrations, in version order (1, 2, …).
const std::vector<migration>& all_migrations();
int latest_schema_version();

// Reads the database's schema version.
[[nodiscard]] result<int> read_schema_version(connection& conn);

// Applies every migration newer than the database's version; returns the number applied.
[[nodiscard]] result<int> migrate(connection& conn);

// Succeeds when the database is exactly at the latest version; otherwise explains what to
// do (errc::unsupported for a newer database, errc::conflict for an older one).
[[nodiscard]] result<void> check_schema_current(connection& conn);

}  // namespace grok::store::sqlite
