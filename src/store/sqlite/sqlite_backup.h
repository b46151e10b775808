// Backups of the SQLite database (SPEC §7): an online backup that a running server keeps
// writing through, a verify that checks a backup file, and a restore that puts one in
// place of the database while no grok process has it open (store/sqlite/db_lock.h).
//
// A backup is one self-contained file (rollback-journal mode, permissions 0600): the
// database as it was when the backup began. It is written beside its destination under a
// temporary name and renamed into place when complete, so a file at the destination is
// always a whole backup.
//
// Thread-safety: the functions share no state; each opens its own connections.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace grok::store::sqlite {

struct backup_progress {
  std::int64_t pages_done = 0;
  std::int64_t pages_total = 0;
  std::int64_t page_size = 0;  // bytes
};

struct backup_options {
  // Pages copied per step, and the pause between steps that leaves the disk to the server.
  int pages_per_step = 1024;
  millis pause{2};
  // Called after each step.
  std::function<void(const backup_progress&)> on_progress;
  // Checked after each step: true abandons the backup (errc::cancelled; nothing is left).
  std::function<bool()> should_stop;
};

struct backup_info {
  std::string path;
  std::int64_t bytes = 0;
  std::int64_t pages = 0;
  millis duration{0};
};

// Copies the database at `source` to a new file `dest` with SQLite's online backup API.
// Writers to `source` go on meanwhile (it holds one read transaction on `source` for the
// whole copy: in WAL mode that blocks no writer, and the copy is one consistent snapshot;
// the WAL grows until it ends). Parent directories of `dest` are created.
// errc::already_exists when `dest` exists (a backup never overwrites); errc::not_found when
// there is no database at `source`; errc::cancelled when should_stop said so; errc::io.
[[nodiscard]] result<backup_info> backup_database(const std::string& source,
                                                  const std::string& dest,
                                                  const backup_options& options = {});

struct table_rows {
  std::string table;
  std::int64_t rows = 0;
};

struct verify_report {
  std::string path;
  std::int64_t bytes = 0;
  int schema_version = 0;           // PRAGMA user_version
  int expected_schema_version = 0;  // the latest this binary knows
  std::vector<table_rows> tables;   // by name
  // What is wrong, one finding each: integrity_check and foreign_key_check findings,
  // missing tables, a schema that is not GROK's or newer than this binary, runs whose
  // events are not numbered 1..last_seq. Empty: the backup is sound.
  std::vector<std::string> problems;

  [[nodiscard]] bool ok() const noexcept { return problems.empty(); }
};

// Opens `path` read-only and checks it. A file that opens is always a report (its findings
// in `problems`); errc::not_found for a missing file, errc::corrupt for a file that is not
// an SQLite database at all or is cut short, errc::invalid_argument for a directory.
[[nodiscard]] result<verify_report> verify_database(const std::string& path);

struct restore_info {
  verify_report verified;  // the backup's verification
  bool replaced = false;   // a database was there before
};

// Replaces the database at `db` with the backup at `backup`: verifies the backup (errc::corrupt
// listing its problems, errc::unsupported for a newer schema), takes the database's lock
// exclusively (errc::busy: a grok process has it open), refuses an existing database unless
// `force` (errc::already_exists), then copies the backup beside `db`, syncs it, removes the
// old database's -wal and -shm files and renames the copy into place.
[[nodiscard]] result<restore_info> restore_database(const std::string& backup,
                                                    const std::string& db, bool force);

}  // namespace grok::store::sqlite
