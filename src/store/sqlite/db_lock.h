// How `grok restore` knows that no grok process has the database open: every process that
// opens the SQLite store holds a shared flock() on "<database>.lock" for as long as the
// store is open, and restore takes it exclusively, without waiting. The lock is advisory
// (other SQLite programs do not take it) and released by the kernel when the process dies,
// so a crashed server never leaves a stale lock behind.
//
// Thread-safety: a db_lock is owned by one object; distinct db_lock objects on the same
// file conflict with each other even inside one process (flock locks open files, not
// processes).
#pragma once

#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace grok::store::sqlite {

class db_lock {
 public:
  enum class mode { shared, exclusive };

  // The lock file of the database at `db_path`.
  [[nodiscard]] static std::string lock_path(const std::string& db_path);

  // Takes the lock, retrying for up to `wait` (0: one try). Creates the lock file (0600)
  // when it does not exist. errc::busy when another holder keeps it for all of `wait`;
  // errc::io when the lock file cannot be opened or locked.
  [[nodiscard]] static result<db_lock> acquire(const std::string& db_path, mode m, millis wait);

  db_lock() = default;  // holds nothing
  db_lock(db_lock&& other) noexcept;
  db_lock& operator=(db_lock&& other) noexcept;
  db_lock(const db_lock&) = delete;
  db_lock& operator=(const db_lock&) = delete;
  ~db_lock();

  [[nodiscard]] bool held() const noexcept { return fd_ >= 0; }

 private:
  explicit db_lock(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace grok::store::sqlite
