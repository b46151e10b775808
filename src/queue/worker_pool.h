// N worker threads that claim jobs from the store and hand each to the handler registered
// for its topic, then ack it, or nack it with backoff (dead-lettered after max_attempts).
//
// Idle workers sleep on the store's job_signal until an enqueue commits, the next delayed
// job or expired lease falls due, or `idle_recheck` passes (the last only matters for jobs
// enqueued by another process): no busy polling.
//
// While a handler runs, the pool extends its job's lease every third of the lease time (one
// keeper thread for all jobs), so a slow tool or model call never lets another worker claim
// the job meanwhile; only a worker that stopped (killed, hung machine) loses its leases.
//
// Shutdown (stop()) is a graceful drain: no new claims, handlers see their stop_token, and
// every job already claimed is finished and acked or nacked before the threads exit.
//
// Thread-safety: register handlers before start(); start() and stop() from one thread.
// Handlers run concurrently on the worker threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/backoff.h"
#include "core/config.h"
#include "store/store.h"

namespace grok::queue {

// What a handler reports about one job.
struct job_outcome {
  enum class kind { done, retry, fail } what = kind::done;
  std::string error;                  // for retry and fail
  std::optional<millis> retry_after;  // overrides the backoff policy (e.g. Retry-After)

  static job_outcome success() { return {}; }
  static job_outcome retry_later(std::string why, std::optional<millis> after = std::nullopt) {
    return {kind::retry, std::move(why), after};
  }
  // Dead-letter now: retrying cannot help (bad payload, unknown topic).
  static job_outcome fail_permanently(std::string why) { return {kind::fail, std::move(why), {}}; }
};

struct job_context {
  const store::job& job;
  std::stop_token stop;  // requested when the pool is shutting down
  store::store& store;
  millis lease_for;
  // Pushes the lease's end out by lease_for; returns errc::conflict if it was already lost.
  [[nodiscard]] result<void> extend_lease() const {
    return store.extend_lease(job.held_lease(), lease_for);
  }
  // Acks the job inside the handler's own transaction, so that the job's effects and its
  // completion commit together (one transaction instead of two). Call mark_acked() after
  // that transaction committed; the pool then does not ack again.
  [[nodiscard]] result<void> ack_in(store::transaction& tx) const {
    return tx.ack(job.held_lease());
  }
  void mark_acked() const noexcept { acked = true; }
  mutable bool acked = false;
};

using job_handler = std::function<job_outcome(const job_context&)>;

struct worker_pool_options {
  int workers = 4;
  int claim_batch = 1;        // jobs claimed per transaction by one worker
  std::string worker_prefix;  // default: "<hostname>:<pid>"
  millis lease{30'000};
  backoff_policy backoff;
  millis idle_recheck{2'000};

  static worker_pool_options from_config(const config& c);
};

struct worker_pool_counters {
  std::uint64_t succeeded = 0;
  std::uint64_t retried = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t lost_leases = 0;  // ack/nack refused because the lease had expired
  std::uint64_t store_errors = 0;
};

class worker_pool {
 public:
  worker_pool(store::store& s, worker_pool_options options);
  ~worker_pool();  // stops and drains
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // Routes jobs of `topic` to `handler`. Only before start().
  void register_handler(std::string topic, job_handler handler);
  // Starts the worker threads (idle when no handler is registered).
  void start();
  // Stops claiming, lets claimed jobs finish, joins the threads. Idempotent.
  void stop();

  [[nodiscard]] worker_pool_counters counters() const;
  [[nodiscard]] bool running() const noexcept { return !threads_.empty(); }

 private:
  void run_worker(const std::stop_token& stop, const std::string& worker_id);
  void process(const store::job& j, const std::stop_token& stop);
  void idle_wait(std::uint64_t seen_generation);
  void keep_leases(const std::stop_token& stop);

  store::store& store_;
  worker_pool_options options_;
  std::map<std::string, job_handler, std::less<>> handlers_;  // fixed after start()
  std::vector<std::string> topics_;                           // fixed after start()
  std::vector<std::jthread> threads_;
  std::jthread keeper_;

  std::mutex held_mutex_;
  std::condition_variable_any keeper_wake_;
  std::map<store::job_id, store::lease> held_;  // guarded by held_mutex_: jobs being handled
  std::atomic<bool> stopping_{false};

  std::atomic<std::uint64_t> succeeded_{0};
  std::atomic<std::uint64_t> retried_{0};
  std::atomic<std::uint64_t> dead_lettered_{0};
  std::atomic<std::uint64_t> lost_leases_{0};
  std::atomic<std::uint64_t> store_errors_{0};
};

}  // namespace grok::queue
