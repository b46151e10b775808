// A pool of PostgreSQL connections for one process. Connections are opened on demand up to
// `max_connections` and kept; one found broken (the server restarted, the network dropped)
// is dropped instead of returned, and the next acquire opens a fresh one.
//
// While the server is unreachable, connecting is retried with exponential backoff (50 ms
// doubling to 2 s, with jitter): an acquire inside the backoff window fails at once with
// errc::unavailable (retryable) instead of every caller hammering a server that is coming
// back up. The first successful connect resets it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/postgres/pg_connection.h"

namespace grok::store::postgres {

struct pool_options {
  std::string url;
  std::size_t max_connections = 8;
  millis acquire_timeout{10'000};  // waiting for a connection another thread holds
  millis connect_timeout{5'000};
};

class pool {
 public:
  explicit pool(pool_options options);
  ~pool();
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;

  // A connection on loan; goes back to the pool (or is closed, when broken) on destruction.
  class handle {
   public:
    handle(pool& owner, std::unique_ptr<connection> conn)
        : owner_(&owner), conn_(std::move(conn)) {}
    handle(handle&&) noexcept = default;
    handle& operator=(handle&&) = delete;
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    ~handle() {
      if (conn_) owner_->release(std::move(conn_));
    }
    connection* operator->() const { return conn_.get(); }
    connection& operator*() const { return *conn_; }

   private:
    pool* owner_;
    std::unique_ptr<connection> conn_;
  };

  // errc::unavailable (retryable) when no connection can be made now; errc::timeout when
  // every connection stayed busy for acquire_timeout.
  [[nodiscard]] result<handle> acquire();

  // Whether the last attempt to reach the server (a connect, or a statement on a pooled
  // connection) succeeded.
  [[nodiscard]] bool reachable() const;
  [[nodiscard]] const pool_options& options() const { return options_; }

 private:
  void release(std::unique_ptr<connection> conn);
  result<std::unique_ptr<connection>> connect_with_backoff();

  pool_options options_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<connection>> idle_;         // guarded by mutex_
  std::size_t open_ = 0;                                  // guarded by mutex_ (idle + on loan)
  bool reachable_ = true;                                 // guarded by mutex_
  std::chrono::steady_clock::time_point next_connect_{};  // guarded by mutex_
  millis backoff_{0};                                     // guarded by mutex_
};

}  // namespace grok::store::postgres
