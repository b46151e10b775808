// The write side of the PostgreSQL store, valid while one pooled connection holds an open
// READ COMMITTED transaction. Internal to the postgres backend.
//
// Concurrency: many processes write at once, so every write that touches a run (its row,
// its steps, its events) first locks the run's row (lock_run); two transactions on one run
// then run one after the other, and a read inside the second (READ COMMITTED: each
// statement sees what committed before it) sees everything the first wrote. That is what
// keeps event sequences gapless and makes "were all steps of this run completed?" safe.
#pragma once

#include <map>
#include <set>
#include <string>

#include "store/postgres/pg_connection.h"
#include "store/queue_checks.h"
#include "store/store.h"

namespace grok::store::postgres {

class pg_transaction final : public transaction {
 public:
  pg_transaction(connection& conn, time_point now) : conn_(conn), now_(now) {}

  [[nodiscard]] time_point now() const override { return now_; }

  // queue: pg_queue.cpp
  [[nodiscard]] result<enqueue_result> enqueue(const job_spec& spec) override;
  [[nodiscard]] result<std::vector<job>> claim(const claim_request& request) override;
  [[nodiscard]] result<void> ack(const lease& held) override;
  [[nodiscard]] result<nack_outcome> nack(const nack_request& req) override;
  [[nodiscard]] result<void> extend_lease(const lease& held, millis lease_for) override;
  [[nodiscard]] result<void> requeue_dead(job_id id) override;

  // runs, steps, events, artifacts, model calls: pg_runs.cpp
  [[nodiscard]] result<void> insert_run(const run_record& run) override;
  [[nodiscard]] result<void> update_run(const run_record& run) override;
  [[nodiscard]] result<void> upsert_step(const step_record& step) override;
  [[nodiscard]] result<std::int64_t> append_event(const event_draft& event) override;
  [[nodiscard]] result<std::optional<run_record>> get_run(std::string_view id) override;
  [[nodiscard]] result<std::vector<step_record>> list_steps(std::string_view run_id) override;
  [[nodiscard]] result<void> put_artifact(const artifact_record& artifact) override;
  [[nodiscard]] result<void> record_llm_call(const llm_call_record& call) override;

  // documents: pg_documents.cpp
  [[nodiscard]] result<ingest_outcome> ingest_document(const document_input& doc) override;
  [[nodiscard]] result<void> remove_document(std::string_view source) override;

  // API keys: pg_api_keys.cpp
  [[nodiscard]] result<void> insert_api_key(const api_key_record& key) override;
  [[nodiscard]] result<void> revoke_api_key(std::string_view id) override;

  // How many jobs this transaction may have made claimable: the workers to wake (sent as a
  // NOTIFY on grok_jobs at commit).
  [[nodiscard]] std::size_t ready_jobs() const noexcept { return ready_jobs_; }
  // Per run, the first and last seq this transaction appended (sent as a NOTIFY on
  // grok_events at commit).
  struct appended_range {
    std::int64_t first = 0;
    std::int64_t last = 0;
  };
  [[nodiscard]] const std::map<std::string, appended_range, std::less<>>& appended() const {
    return appended_;
  }
  // The events appended, with their seq, for the store's feed of this process's commits.
  [[nodiscard]] std::vector<event_record>& appended_events() noexcept { return appended_events_; }

 private:
  // Locks the run's row until commit (SELECT … FOR UPDATE), once per transaction.
  // Returns false when there is no such run.
  [[nodiscard]] result<bool> lock_run(std::string_view run_id);
  // Explains why a lease-guarded update touched no row.
  [[nodiscard]] error lease_lost(const lease& held, std::string_view op);

  connection& conn_;
  time_point now_;
  std::size_t ready_jobs_ = 0;
  std::map<std::string, appended_range, std::less<>> appended_;
  std::vector<event_record> appended_events_;
  std::set<std::string, std::less<>> locked_runs_;
};

}  // namespace grok::store::postgres
