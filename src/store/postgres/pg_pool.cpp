#include "store/postgres/pg_pool.h"

#include <algorithm>
#include <random>

namespace grok::store::postgres {
namespace {

constexpr millis k_first_backoff{50};
constexpr millis k_max_backoff{2'000};

millis jittered(millis base) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_int_distribution<long long> half(0, base.count() / 2);
  return millis(base.count() / 2 + half(rng) + base.count() / 4);
}

}  // namespace

pool::pool(pool_options options) : options_(std::move(options)) {
  options_.max_connections = std::max<std::size_t>(options_.max_connections, 1);
}

pool::~pool() = default;

result<pool::handle> pool::acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  while (true) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return handle(*this, std::move(conn));
    }
    if (open_ < options_.max_connections) {
      const auto now = std::chrono::steady_clock::now();
      if (now < next_connect_) {
        const auto wait = std::chrono::duration_cast<millis>(next_connect_ - now).count();
        return fail(errc::unavailable,
                    "PostgreSQL is unreachable; reconnecting in " + std::to_string(wait) + " ms",
                    /*retryable=*/true);
      }
      ++open_;
      lock.unlock();
      auto conn = connection::open(options_.url, options_.connect_timeout);
      lock.lock();
      if (!conn) {
        --open_;
        reachable_ = false;
        backoff_ = std::min(k_max_backoff, backoff_.count() == 0 ? k_first_backoff : backoff_ * 2);
        next_connect_ = std::chrono::steady_clock::now() + jittered(backoff_);
        returned_.notify_one();
        return tl::unexpected(conn.error());
      }
      reachable_ = true;
      backoff_ = millis(0);
      next_connect_ = {};
      return handle(*this, std::move(*conn));
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.max_connections) {
      return fail(errc::timeout,
                  "every PostgreSQL connection of this process stayed busy for " +
                      std::to_string(options_.acquire_timeout.count()) + " ms",
                  /*retryable=*/true);
    }
  }
}

void pool::release(std::unique_ptr<connection> conn) {
  std::lock_guard lock(mutex_);
  if (conn->healthy()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
    reachable_ = false;
    conn.reset();
  }
  returned_.notify_one();
}

bool pool::reachable() const {
  std::lock_guard lock(mutex_);
  return reachable_;
}

}  // namespace grok::store::postgres
