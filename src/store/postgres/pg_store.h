// The PostgreSQL backend of the store (SPEC §6), for many API and worker processes on one
// database.
//
// - Writes: each transact() runs on a pooled connection in one READ COMMITTED transaction;
//   writes to a run lock its row first (pg_transaction.h). Serialization failures and
//   deadlocks are retried a few times; any other error rolls back and is returned.
// - Claims use FOR UPDATE SKIP LOCKED, so workers in any number of processes never wait
//   on each other's rows.
// - Wake-ups: a commit that made jobs claimable sends NOTIFY grok_jobs; a commit that
//   appended events sends NOTIFY grok_events with "<run id> <first seq> <last seq>" per
//   run. Every process LISTENs on its own connection (pg_listener.h): job notifications
//   wake its workers; event notifications make it read the new events from the table and
//   publish them, gapless and in order per run, to its event feed, which is how an SSE
//   client on any API process sees the events of runs that other processes execute.
//   local_events_feed() carries only this process's commits (for metrics, traces, audit).
// - Connections: a pool per process, reconnecting with backoff when the database restarts
//   (pg_pool.h); the listener reconnects too and then catches up from the tables, so no
//   event and no wake-up is lost across the restart. `listener_connected()` feeds /readyz.
//
// Thread-safety: all public methods may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/postgres/pg_pool.h"
#include "store/store.h"

namespace grok::store::postgres {

class pg_listener;

struct pg_options {
  std::string url;  // postgres://… or postgresql://…
  // Apply pending migrations at open; when false, an out-of-date schema is an error.
  bool migrate = true;
  std::size_t pool_size = 8;
  // Whether this process follows the events other processes commit (API processes do;
  // worker-only processes need only job wake-ups).
  bool follow_events = true;
  millis connect_timeout{5'000};
  const clock* time_source = nullptr;  // defaults to the system clock
};

class pg_store final : public store {
 public:
  // Connects, migrates (or checks the schema) and starts listening. errc::unavailable when
  // the server cannot be reached, errc::unsupported for a schema newer than this binary.
  [[nodiscard]] static result<std::unique_ptr<pg_store>> open(const pg_options& options);
  ~pg_store() override;
  pg_store(const pg_store&) = delete;
  pg_store& operator=(const pg_store&) = delete;

  [[nodiscard]] result<void> transact(
      const std::function<result<void>(transaction&)>& work) override;

  // reads: pg_reads.cpp
  [[nodiscard]] result<std::optional<job>> get_job(job_id id) override;
  [[nodiscard]] result<std::vector<job>> list_jobs(const job_page_request& req) override;
  [[nodiscard]] result<queue_stats> get_queue_stats() override;
  [[nodiscard]] result<std::optional<time_point>> next_visible_at(
      const std::vector<std::string>& topics) override;
  [[nodiscard]] result<std::optional<run_record>> get_run(std::string_view id) override;
  [[nodiscard]] result<std::vector<run_record>> list_runs(const run_page_request& req) override;
  [[nodiscard]] result<std::optional<run_record>> find_run_by_idempotency_key(
      std::string_view owner_key_id, std::string_view key) override;
  [[nodiscard]] result<std::vector<step_record>> list_steps(std::string_view run_id) override;
  [[nodiscard]] result<std::vector<event_record>> events_after(std::string_view run_id,
                                                               std::int64_t after,
                                                               int limit) override;
  [[nodiscard]] result<std::optional<artifact_record>> get_artifact(std::string_view id) override;
  [[nodiscard]] result<std::optional<llm_call_record>> find_llm_call(
      std::string_view request_hash, std::optional<std::string_view> run_id) override;
  [[nodiscard]] result<std::vector<llm_call_record>> list_llm_calls(
      std::string_view run_id) override;

  // documents: pg_documents.cpp
  [[nodiscard]] result<std::vector<document_hit>> search_documents(std::string_view query,
                                                                   int k) override;
  [[nodiscard]] result<std::vector<document_summary>> list_documents() override;

  // API keys: pg_api_keys.cpp
  [[nodiscard]] result<std::vector<api_key_record>> list_api_keys() override;
  [[nodiscard]] result<std::optional<api_key_record>> find_api_key(std::string_view hash) override;

  // retention: pg_maintenance.cpp
  [[nodiscard]] result<prune_batch> prune_runs(time_point cutoff, int limit) override;
  [[nodiscard]] result<job_prune_batch> prune_jobs(time_point cutoff, job_id after,
                                                   int limit) override;
  [[nodiscard]] result<prune_counts> count_prunable(time_point cutoff) override;

  job_signal& jobs_signal() override { return signal_; }
  job_signal& events_signal() override { return events_signal_; }
  event_feed& events_feed() override { return feed_; }
  event_feed& local_events_feed() override { return local_feed_; }
  [[nodiscard]] const clock& store_clock() const override { return clock_; }

  // Whether the LISTEN connection is up (false while the database is away: wake-ups and
  // other processes' events are not arriving). For /readyz.
  [[nodiscard]] bool listener_connected() const;
  [[nodiscard]] result<int> schema_version();

  // Runs `read` on a pooled connection; a read that failed because the connection was lost
  // is tried once more on a fresh one (reads are safe to repeat).
  template <class T, class Read>
  result<T> with_connection(Read read) {
    for (int attempt = 0;; ++attempt) {
      auto conn = pool_.acquire();
      if (!conn) return tl::unexpected(conn.error());
      result<T> out = read(**conn);
      if (out || attempt > 0 || (*conn)->healthy()) return out;
    }
  }

 private:
  friend class pg_listener;
  pg_store(pg_options options, const clock& c);

  pg_options options_;
  const clock& clock_;
  pool pool_;
  job_signal signal_;
  job_signal events_signal_;
  event_feed feed_;
  // This process's commits, published in commit order: commits that appended events take
  // local_commit_mutex_ around COMMIT and the publish (transact).
  event_feed local_feed_;
  std::mutex local_commit_mutex_;
  std::unique_ptr<pg_listener> listener_;
};

}  // namespace grok::store::postgres
