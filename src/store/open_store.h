// Opens the store named by a database URL (SPEC §2: GROK_DB):
//   sqlite://PATH[?synchronous=normal|full]   (PATH may be relative: sqlite://./grok-data/grok.db)
//   a plain file path                          (SQLite)
//   postgres://… / postgresql://…               (PostgreSQL, libpq URL syntax)
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace grok::store {

struct open_request {
  std::string url;
  bool create_if_missing = true;
  bool migrate = true;  // apply pending migrations; when false, an old schema is an error
  const clock* time_source = nullptr;
  // PostgreSQL: whether this process follows events other processes commit (API processes
  // do; `grok worker` needs only job wake-ups), and its connection pool's size.
  bool follow_events = true;
  std::size_t pool_size = 8;
};

struct parsed_db_url {
  enum class backend { sqlite, postgres } kind = backend::sqlite;
  std::string path;                    // SQLite file path
  std::string synchronous = "NORMAL";  // SQLite
  std::string conninfo;                // PostgreSQL
};

// Parses a database URL. errc::invalid_argument names what is wrong with it.
[[nodiscard]] result<parsed_db_url> parse_db_url(const std::string& url);

// The URL with any password replaced by "***", for logs and messages.
[[nodiscard]] std::string redact_db_url(const std::string& url);

[[nodiscard]] result<std::unique_ptr<store>> open_store(const open_request& request);

// Applies pending migrations; returns how many were applied.
[[nodiscard]] result<int> migrate_store(const std::string& url);

}  // namespace grok::store
