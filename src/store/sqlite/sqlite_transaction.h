// The write side of the SQLite store, valid while the store's writer connection holds an
// open IMMEDIATE transaction. Internal to the sqlite backend.
#pragma once

#include "store/queue_checks.h"
#include "store/sqlite/connection.h"
#include "store/store.h"

namespace grok::store::sqlite {

class sqlite_transaction final : public transaction {
 public:
  sqlite_transaction(connection& conn, time_point now) : conn_(conn), now_(now) {}

  [[nodiscard]] time_point now() const override { return now_; }

  [[nodiscard]] result<enqueue_result> enqueue(const job_spec& spec) override;
  [[nodiscard]] result<std::vector<job>> claim(const claim_request& request) override;
  [[nodiscard]] result<void> ack(const lease& held) override;
  [[nodiscard]] result<nack_outcome> nack(const nack_request& req) override;
  [[nodiscard]] result<void> extend_lease(const lease& held, millis lease_for) override;
  [[nodiscard]] result<void> requeue_dead(job_id id) override;

  [[nodiscard]] result<void> insert_run(const run_record& run) override;
  [[nodiscard]] result<void> update_run(const run_record& run) override;
  [[nodiscard]] result<void> upsert_step(const step_record& step) override;
  [[nodiscard]] result<std::int64_t> append_event(const event_draft& event) override;
  [[nodiscard]] result<std::optional<run_record>> get_run(std::string_view id) override;
  [[nodiscard]] result<std::vector<step_record>> list_steps(std::string_view run_id) override;
  [[nodiscard]] result<void> put_artifact(const artifact_record& artifact) override;
  [[nodiscard]] result<void> record_llm_call(const llm_call_record& call) override;

  // documents: sqlite_documents.cpp
  [[nodiscard]] result<ingest_outcome> ingest_document(const document_input& doc) override;
  [[nodiscard]] result<void> remove_document(std::string_view source) override;

  // API keys: sqlite_api_keys.cpp
  [[nodiscard]] result<void> insert_api_key(const api_key_record& key) override;
  [[nodiscard]] result<void> revoke_api_key(std::string_view id) override;

  // How many jobs a commit may have made claimable (or given a new due time): the workers
  // to wake.
  [[nodiscard]] std::size_t ready_jobs() const noexcept { return ready_jobs_; }
  // The events appended, with their seq, for the store's event feed.
  [[nodiscard]] std::vector<event_record>& appended_events() noexcept { return appended_; }

 private:
  // Explains why a lease-guarded update touched no row.
  [[nodiscard]] error lease_lost(const lease& held, std::string_view op);

  connection& conn_;
  time_point now_;
  std::size_t ready_jobs_ = 0;
  std::vector<event_record> appended_;
};

}  // namespace grok::store::sqlite
