#include "store/postgres/pg_store.h"

#include <exception>

#include "store/postgres/pg_listener.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_transaction.h"

namespace grok::store::postgres {
namespace {

// Serialization failures and deadlocks (errc::busy, retryable) are tried again this often.
constexpr int k_max_attempts = 5;

}  // namespace

pg_store::pg_store(pg_options options, const clock& c)
    : options_(std::move(options)),
      clock_(c),
      pool_(pool_options{options_.url, options_.pool_size, millis(10'000),
                         options_.connect_timeout}) {}

pg_store::~pg_store() {
  listener_.reset();  // stops its thread before the pool and signals go
  signal_.notify();
}

result<std::unique_ptr<pg_store>> pg_store::open(const pg_options& options) {
  if (options.url.empty()) return fail(errc::invalid_argument, "no PostgreSQL URL given");
  const clock& c = options.time_source != nullptr ? *options.time_source : system_clock::instance();
  std::unique_ptr<pg_store> opened(new pg_store(options, c));
  {
    auto conn = opened->pool_.acquire();
    if (!conn) {
      auto e = conn.error();
      e.message += " (" + redact_url(options.url) + ")";
      return tl::unexpected(std::move(e));
    }
    if (options.migrate) {
      if (auto r = migrate(**conn); !r) return tl::unexpected(r.error());
    } else if (auto r = check_schema_current(**conn); !r) {
      return tl::unexpected(r.error());
    }
  }
  auto listener = pg_listener::start(*opened);
  if (!listener) return tl::unexpected(listener.error());
  opened->listener_ = std::move(*listener);
  return opened;
}

result<void> pg_store::transact(const std::function<result<void>(transaction&)>& work) {
  for (int attempt = 1;; ++attempt) {
    auto held = pool_.acquire();
    if (!held) return tl::unexpected(held.error());
    connection& conn = **held;
    if (auto r = conn.exec_script("BEGIN"); !r) {
      // A pooled connection the server dropped while it sat idle: take another.
      if (!conn.healthy() && attempt < k_max_attempts) continue;
      return r;
    }
    pg_transaction tx(conn, clock_.now());
    result<void> outcome;
    try {
      outcome = work(tx);
    } catch (...) {
      (void)conn.exec_script("ROLLBACK");
      throw;
    }
    if (outcome) {
      // Sent inside the transaction: PostgreSQL delivers notifications only if it commits,
      // and in commit order.
      if (tx.ready_jobs() > 0) {
        outcome = conn.exec("SELECT pg_notify('grok_jobs', $1)",
                            params().add(pg_listener::jobs_payload(tx.ready_jobs())))
                      .map([](rows&&) {});
      }
      for (const auto& [run_id, range] : tx.appended()) {
        if (!outcome) break;
        outcome =
            conn.exec("SELECT pg_notify('grok_events', $1)",
                      params().add(pg_listener::events_payload(run_id, range.first, range.last)))
                .map([](rows&&) {});
      }
    }
    if (!outcome) {
      if (conn.healthy()) (void)conn.exec_script("ROLLBACK");
      const auto& e = outcome.error();
      if (e.code == errc::busy && e.retryable && attempt < k_max_attempts) continue;
      return outcome;
    }
    // Commits that appended events commit and publish one at a time, so that the feed of
    // this process's commits is in commit order (two transactions on one run, or a step
    // and the solver job it released, must not be published the other way round).
    std::unique_lock<std::mutex> ordered;
    if (!tx.appended_events().empty()) ordered = std::unique_lock(local_commit_mutex_);
    if (auto r = conn.commit(); !r) {
      const auto& e = r.error();
      if (e.code == errc::busy && e.retryable && attempt < k_max_attempts) continue;
      return r;
    }
    if (ordered.owns_lock()) {
      local_feed_.publish(tx.appended_events());
      ordered.unlock();
    }
    // Workers of this process wake at once; other processes wake on the notification.
    if (tx.ready_jobs() > 0) signal_.notify_some(tx.ready_jobs());
    return {};
  }
}

bool pg_store::listener_connected() const { return listener_ && listener_->connected(); }

result<int> pg_store::schema_version() {
  return with_connection<int>([](connection& c) { return read_schema_version(c); });
}

}  // namespace grok::store::postgres
