#include "store/sqlite/db_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace grok::store::sqlite {

std::string db_lock::lock_path(const std::string& db_path) { return db_path + ".lock"; }

result<db_lock> db_lock::acquire(const std::string& db_path, mode m, millis wait) {
  const auto path = lock_path(db_path);
  // O_CLOEXEC: a child process must not keep the lock (nor the server's database) held.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return fail(errc::io, "cannot open lock file " + path + ": " + std::strerror(errno));
  }
  db_lock lock(fd);
  const int op = (m == mode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    if (::flock(fd, op) == 0) return lock;
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      return fail(errc::io, "cannot lock " + path + ": " + std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail(errc::busy,
                  m == mode::shared ? "the database " + db_path + " is being restored"
                                    : "a grok process has " + db_path + " open",
                  /*retryable=*/true);
    }
    // flock() has no timeout; the holder is another process, so there is nothing to wait on
    // but time.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

db_lock::db_lock(db_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

db_lock& db_lock::operator=(db_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

db_lock::~db_lock() {
  if (fd_ >= 0) ::close(fd_);  // closing the file releases the lock
}

}  // namespace grok::store::sqlite
