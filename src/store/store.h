// The store: the only component that talks to a database. The engine, the API and the CLI
// see runs, steps, events, the queue and artifacts through this interface; each backend
// (sqlite/, later postgres/) implements it and passes tests/conformance.
//
// Writes happen inside `transact`, so that a state change, the events that record it and
// the jobs it releases commit together or not at all. Reads outside `transact` see the
// latest committed state.
//
// Thread-safety: a store may be used from any number of threads at once. A `transaction`
// belongs to the thread running the callback and must not escape it. Do not call
// `transact` from inside a transaction callback.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/api_key_types.h"
#include "store/document_types.h"
#include "store/event_feed.h"
#include "store/job_signal.h"
#include "store/queue_types.h"
#include "store/retention_types.h"
#include "store/run_types.h"

namespace grok::store {

// The write side, valid inside one transaction. Every method reports errors as values;
// a callback that returns an error rolls the whole transaction back.
class transaction {
 public:
  virtual ~transaction() = default;

  // The time this transaction acts at (the store's clock, read once when it began).
  [[nodiscard]] virtual time_point now() const = 0;

  // --- queue ---
  // Adds a job, or returns the existing one when (topic, dedupe_key) is already known.
  // errc::invalid_argument for an empty topic or max_attempts < 1.
  [[nodiscard]] virtual result<enqueue_result> enqueue(const job_spec& spec) = 0;
  // Leases up to `limit` claimable jobs of the given topics, oldest visible first. First
  // dead-letters jobs of those topics whose final attempt's lease ran out.
  [[nodiscard]] virtual result<std::vector<job>> claim(const claim_request& request) = 0;
  // Marks a leased job done. errc::conflict if `held` is not the job's current lease.
  [[nodiscard]] virtual result<void> ack(const lease& held) = 0;
  // Gives a leased job back for a retry after `retry_delay`, or dead-letters it.
  // errc::conflict if `req.held` is not the job's current lease.
  [[nodiscard]] virtual result<nack_outcome> nack(const nack_request& req) = 0;
  // Moves the lease's end to now + `lease_for`. errc::conflict if the lease was lost.
  [[nodiscard]] virtual result<void> extend_lease(const lease& held, millis lease_for) = 0;
  // Makes a dead job ready again with its attempts reset. errc::not_found if there is no
  // such job, errc::conflict if it is not dead.
  [[nodiscard]] virtual result<void> requeue_dead(job_id id) = 0;

  // --- runs, steps, events ---
  // errc::already_exists if the id is taken.
  [[nodiscard]] virtual result<void> insert_run(const run_record& run) = 0;
  // Replaces the mutable fields of a run (status, answer, error, times, usage).
  // errc::not_found if there is no such run. Never changes last_seq.
  [[nodiscard]] virtual result<void> update_run(const run_record& run) = 0;
  // Inserts or replaces a step by id.
  [[nodiscard]] virtual result<void> upsert_step(const step_record& step) = 0;
  // Stores an event with the run's next sequence number (gapless, never reused) and
  // returns that number. errc::not_found if the run does not exist.
  [[nodiscard]] virtual result<std::int64_t> append_event(const event_draft& event) = 0;

  // Reads inside the transaction: they see its own writes, and on every backend the run
  // they read cannot change under it before commit (SQLite: one writer; PostgreSQL: the run
  // row is locked), so decisions such as "were all steps of this run completed?" are safe.
  [[nodiscard]] virtual result<std::optional<run_record>> get_run(std::string_view id) = 0;
  [[nodiscard]] virtual result<std::vector<step_record>> list_steps(std::string_view run_id) = 0;

  // --- artifacts ---
  // Stores artifact metadata. errc::already_exists if the id is taken.
  [[nodiscard]] virtual result<void> put_artifact(const artifact_record& artifact) = 0;

  // --- model calls ---
  // Records one model call. errc::already_exists if the id is taken; errc::not_found if
  // run_id names no run.
  [[nodiscard]] virtual result<void> record_llm_call(const llm_call_record& call) = 0;

  // --- documents (doc_search) ---
  // Stores a document and its chunks under `doc.source`. A known source with the same
  // sha256 is left alone (ingest_status::unchanged, nothing written); with another sha256
  // its title, content and chunks are replaced and it keeps its id. errc::invalid_argument
  // for an empty source or sha256, or input beyond the k_max_document_* limits.
  [[nodiscard]] virtual result<ingest_outcome> ingest_document(const document_input& doc) = 0;
  // Deletes a document and its chunks. errc::not_found if no document has this source.
  [[nodiscard]] virtual result<void> remove_document(std::string_view source) = 0;

  // --- API keys ---
  // errc::already_exists if the id or hash is taken; errc::invalid_argument for a scope
  // other than runs/admin, an empty or over-long name, or an empty hash.
  [[nodiscard]] virtual result<void> insert_api_key(const api_key_record& key) = 0;
  // Marks a key revoked at now(). errc::not_found for an unknown id; revoking a revoked
  // key again changes nothing.
  [[nodiscard]] virtual result<void> revoke_api_key(std::string_view id) = 0;
};

class store {
 public:
  virtual ~store() = default;

  // Runs `work` in one transaction: commits when it returns a value, rolls back when it
  // returns an error (which is then returned). Busy databases are waited for.
  [[nodiscard]] virtual result<void> transact(
      const std::function<result<void>(transaction&)>& work) = 0;

  // --- reads ---
  [[nodiscard]] virtual result<std::optional<job>> get_job(job_id id) = 0;
  [[nodiscard]] virtual result<std::vector<job>> list_jobs(const job_page_request& req) = 0;
  [[nodiscard]] virtual result<queue_stats> get_queue_stats() = 0;
  // The earliest time a job of these topics becomes claimable (may be in the past);
  // empty when no such job is ready or leased.
  [[nodiscard]] virtual result<std::optional<time_point>> next_visible_at(
      const std::vector<std::string>& topics) = 0;

  [[nodiscard]] virtual result<std::optional<run_record>> get_run(std::string_view id) = 0;
  [[nodiscard]] virtual result<std::vector<run_record>> list_runs(const run_page_request& req) = 0;
  // The run that API key `owner_key_id` created with Idempotency-Key `key`, if any (the pair
  // is unique: a second insert_run with it is errc::already_exists).
  [[nodiscard]] virtual result<std::optional<run_record>> find_run_by_idempotency_key(
      std::string_view owner_key_id, std::string_view key) = 0;
  [[nodiscard]] virtual result<std::vector<step_record>> list_steps(std::string_view run_id) = 0;
  // Events of a run with seq > after, in order, at most `limit`.
  [[nodiscard]] virtual result<std::vector<event_record>> events_after(std::string_view run_id,
                                                                       std::int64_t after,
                                                                       int limit) = 0;
  [[nodiscard]] virtual result<std::optional<artifact_record>> get_artifact(
      std::string_view id) = 0;

  // The most recent successful call with this request hash, limited to one run when
  // `run_id` is given.
  [[nodiscard]] virtual result<std::optional<llm_call_record>> find_llm_call(
      std::string_view request_hash, std::optional<std::string_view> run_id) = 0;
  // A run's model calls in the order they were made.
  [[nodiscard]] virtual result<std::vector<llm_call_record>> list_llm_calls(
      std::string_view run_id) = 0;

  // Notified after every commit that may have made a job claimable.
  virtual job_signal& jobs_signal() = 0;
  // Notified after every commit that appended events (for live streaming without polling).
  virtual job_signal& events_signal() = 0;
  // The events of every commit, as they commit (store/event_feed.h). On PostgreSQL this
  // includes other processes' commits (the streams of any API process see every run).
  virtual event_feed& events_feed() = 0;
  // The events of commits made by this process only, in this process's commit order.
  // Metrics, traces and the audit log follow this feed, so that with many processes on
  // one database each event is counted, traced and audited once (by the process that
  // committed it). On SQLite every commit a store sees is its own: the same feed.
  virtual event_feed& local_events_feed() { return events_feed(); }
  // The clock this store stamps rows with.
  [[nodiscard]] virtual const clock& store_clock() const = 0;

  // --- one-transaction conveniences over transact() ---
  [[nodiscard]] result<enqueue_result> enqueue(const job_spec& spec);
  [[nodiscard]] result<std::vector<job>> claim(const claim_request& request);
  [[nodiscard]] result<void> ack(const lease& held);
  [[nodiscard]] result<nack_outcome> nack(const nack_request& req);
  [[nodiscard]] result<void> extend_lease(const lease& held, millis lease_for);
  [[nodiscard]] result<void> requeue_dead(job_id id);

  // --- documents (doc_search) ---
  // The chunks that best match `query`, best first (BM25), at most `k` (clamped to
  // 1..k_max_document_hits). `query` is free text: its words are searched for, any
  // search-syntax characters in it are ignored, and a query with no words (empty, only
  // punctuation, invalid UTF-8) matches nothing. Never errc::invalid_argument for text.
  [[nodiscard]] virtual result<std::vector<document_hit>> search_documents(std::string_view query,
                                                                           int k) = 0;
  // Every document, by source.
  [[nodiscard]] virtual result<std::vector<document_summary>> list_documents() = 0;

  // --- API keys ---
  // Every key, revoked ones included, oldest first.
  [[nodiscard]] virtual result<std::vector<api_key_record>> list_api_keys() = 0;
  // The key with this hash, revoked or not (the caller decides what a revoked key means).
  [[nodiscard]] virtual result<std::optional<api_key_record>> find_api_key(
      std::string_view hash) = 0;

  // --- retention (SPEC §7; store/retention.h runs these in batches for `grok prune` and
  // the schedule in `grok serve`) ---
  // A run is prunable at `cutoff` when it is completed, failed or cancelled and ended
  // (finished_at; created_at when it has none) before `cutoff`. Queued, running and
  // awaiting_input runs are never prunable, whatever their age. Each call below is one
  // short transaction. The defaults return errc::unsupported (test doubles need not prune).
  //
  // Deletes up to `limit` prunable runs, oldest first, with their steps, events, model
  // calls and artifacts (an artifact a step of another run still references loses its
  // run_id instead). errc::invalid_argument for limit < 1. Fewer than `limit` runs in the
  // result: none is left.
  [[nodiscard]] virtual result<prune_batch> prune_runs(time_point cutoff, int limit);
  // Looks at the next `limit` jobs after id `after` and deletes those that are done or dead,
  // finished before `cutoff`, and whose run (the payload's "run_id") no longer exists or is
  // prunable; a job without a run goes only when it is done and holds no dedupe key (dedupe
  // keys are forever). Dead jobs of live runs stay, visible for requeue. The newest job is
  // never deleted, so that ids are never reused.
  [[nodiscard]] virtual result<job_prune_batch> prune_jobs(time_point cutoff, job_id after,
                                                           int limit);
  // What prune_runs and prune_jobs would delete at `cutoff`, counted in one read (dry run).
  [[nodiscard]] virtual result<prune_counts> count_prunable(time_point cutoff);
};

}  // namespace grok::store
