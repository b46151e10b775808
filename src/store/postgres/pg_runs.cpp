// Runs, steps, events, artifacts and model calls in the PostgreSQL transaction: the
// semantics of the SQLite backend (store/sqlite/sqlite_runs.cpp), with two rules of its own
// (pg_transaction.h):
// - every write touching a run locks the run's row first (lock_run), so that writers of
//   one run take turns and what one transaction reads of its run holds until it commits;
// - no statement fails for an expected reason (a taken id, a missing run): those are found
//   by a lock or a row count and returned as errors, because a failed statement would abort
//   the caller's whole transaction.
#include "store/postgres/pg_rows.h"
#include "store/postgres/pg_transaction.h"

namespace grok::store::postgres {
namespace {

error already_exists(const std::string& what) {
  return {errc::already_exists, what + " already exists", false};
}

error refers_to_missing(const std::string& what) {
  return {errc::not_found, what + " refers to a run or artifact that does not exist", false};
}

}  // namespace

result<bool> pg_transaction::lock_run(std::string_view run_id) {
  if (locked_runs_.find(run_id) != locked_runs_.end()) return true;
  auto r = conn_.exec("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", params().add(run_id));
  if (!r) return tl::unexpected(r.error());
  if (r->empty()) return false;
  locked_runs_.emplace(run_id);
  return true;
}

result<void> pg_transaction::insert_run(const run_record& run) {
  if (run.id.empty()) return fail(errc::invalid_argument, "a run needs an id");
  auto exists = lock_run(run.id);
  if (!exists) return tl::unexpected(exists.error());
  if (*exists) return tl::unexpected(already_exists("run " + run.id));
  // Without a conflict target, DO NOTHING covers the id and the (owner, idempotency key)
  // pair alike; a concurrent insert of either waits here for the other to commit.
  auto r = conn_.exec(
      "INSERT INTO runs (id, status, input, options, answer, error_code, error_message, "
      "owner_key_id, idempotency_key, request_hash, created_at, started_at, finished_at, "
      "tokens_in, tokens_out, cost, last_seq, trace_parent) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 0, $17) "
      "ON CONFLICT DO NOTHING",
      params()
          .add(run.id)
          .add(to_string(run.status))
          .add(run.input)
          .add(run.options_json)
          .add(run.answer)
          .add(run.error_code)
          .add(run.error_message)
          .add(run.owner_key_id)
          .add(run.idempotency_key)
          .add(run.request_hash)
          .add(run.created_at)
          .add(run.started_at)
          .add(run.finished_at)
          .add(run.tokens_in)
          .add(run.tokens_out)
          .add(run.cost)
          .add(run.trace_parent));
  if (!r) return tl::unexpected(r.error());
  if (r->affected() == 0) return tl::unexpected(already_exists("run " + run.id));
  // A row this transaction inserted is locked against other writers until it commits.
  locked_runs_.emplace(run.id);
  return {};
}

result<void> pg_transaction::update_run(const run_record& run) {
  auto exists = lock_run(run.id);
  if (!exists) return tl::unexpected(exists.error());
  if (!*exists) return fail(errc::not_found, "no run " + run.id);
  auto r = conn_.exec(
      "UPDATE runs SET status = $2, answer = $3, error_code = $4, error_message = $5, "
      "started_at = $6, finished_at = $7, tokens_in = $8, tokens_out = $9, cost = $10 "
      "WHERE id = $1",
      params()
          .add(run.id)
          .add(to_string(run.status))
          .add(run.answer)
          .add(run.error_code)
          .add(run.error_message)
          .add(run.started_at)
          .add(run.finished_at)
          .add(run.tokens_in)
          .add(run.tokens_out)
          .add(run.cost));
  if (!r) return tl::unexpected(r.error());
  if (r->affected() == 0) return fail(errc::not_found, "no run " + run.id);
  return {};
}

result<void> pg_transaction::upsert_step(const step_record& step) {
  if (step.id.empty() || step.run_id.empty()) {
    return fail(errc::invalid_argument, "a step needs an id and a run id");
  }
  auto exists = lock_run(step.run_id);
  if (!exists) return tl::unexpected(exists.error());
  if (!*exists) return tl::unexpected(refers_to_missing("step " + step.id));
  if (step.output_artifact_id) {
    // The lock the foreign key check would take, taken first: the artifact cannot go
    // before this transaction commits, and a missing one is an answer, not a failed insert.
    auto art = conn_.exec("SELECT 1 FROM artifacts WHERE id = $1 FOR KEY SHARE",
                          params().add(*step.output_artifact_id));
    if (!art) return tl::unexpected(art.error());
    if (art->empty()) return tl::unexpected(refers_to_missing("step " + step.id));
  }
  auto r = conn_.exec(
      "INSERT INTO steps (id, run_id, name, tool, args, status, attempts, output, "
      "output_artifact_id, error, started_at, finished_at, tokens_in, tokens_out, latency_ms, "
      "prompt_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
      "$15, $16) ON CONFLICT (id) DO UPDATE SET name = excluded.name, tool = excluded.tool, "
      "args = excluded.args, status = excluded.status, attempts = excluded.attempts, "
      "output = excluded.output, output_artifact_id = excluded.output_artifact_id, "
      "error = excluded.error, started_at = excluded.started_at, "
      "finished_at = excluded.finished_at, tokens_in = excluded.tokens_in, "
      "tokens_out = excluded.tokens_out, latency_ms = excluded.latency_ms, "
      "prompt_version = excluded.prompt_version WHERE steps.run_id = excluded.run_id",
      params()
          .add(step.id)
          .add(step.run_id)
          .add(step.name)
          .add(step.tool)
          .add(step.args_json)
          .add(step.status)
          .add(step.attempts)
          .add(step.output)
          .add(step.output_artifact_id)
          .add(step.error)
          .add(step.started_at)
          .add(step.finished_at)
          .add(step.tokens_in)
          .add(step.tokens_out)
          .add(step.latency_ms)
          .add(step.prompt_version));
  if (!r) return tl::unexpected(r.error());
  if (r->affected() == 0)
    return fail(errc::conflict, "step " + step.id + " belongs to another run");
  return {};
}

result<std::int64_t> pg_transaction::append_event(const event_draft& event) {
  if (event.type.empty()) return fail(errc::invalid_argument, "an event needs a type");
  auto exists = lock_run(event.run_id);
  if (!exists) return tl::unexpected(exists.error());
  if (!*exists) return fail(errc::not_found, "no run " + event.run_id);
  // The sequence counter lives on the run row, which this transaction holds locked: numbers
  // are handed out one writer at a time, never reused, and commit with the event.
  auto next = conn_.exec("UPDATE runs SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
                         params().add(event.run_id));
  if (!next) return tl::unexpected(next.error());
  if (next->empty()) return fail(errc::not_found, "no run " + event.run_id);
  const auto seq = next->int64(0, 0);
  auto insert = conn_.exec(
      "INSERT INTO events (run_id, seq, type, step_id, name, ts, body) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      params()
          .add(event.run_id)
          .add(seq)
          .add(event.type)
          .add(event.step_id)
          .add(event.name)
          .add(event.ts)
          .add(event.body_json));
  if (!insert) return tl::unexpected(insert.error());
  auto [it, added] = appended_.try_emplace(event.run_id, appended_range{seq, seq});
  if (!added) {
    it->second.first = std::min(it->second.first, seq);
    it->second.last = std::max(it->second.last, seq);
  }
  appended_events_.push_back(
      {event.run_id, seq, event.type, event.step_id, event.name, event.ts, event.body_json});
  return seq;
}

result<std::optional<run_record>> pg_transaction::get_run(std::string_view id) {
  // Locks the row as it reads it: what the caller decides from it holds until commit.
  const bool locked = locked_runs_.find(id) != locked_runs_.end();
  auto r = conn_.exec(std::string("SELECT ") + k_run_columns + " FROM runs WHERE id = $1" +
                          (locked ? "" : " FOR UPDATE"),
                      params().add(id));
  if (!r) return tl::unexpected(r.error());
  if (r->empty()) return std::optional<run_record>{};
  if (!locked) locked_runs_.emplace(id);
  return std::optional<run_record>{read_run(*r, 0)};
}

result<std::vector<step_record>> pg_transaction::list_steps(std::string_view run_id) {
  // Steps change only under their run's lock: holding it keeps this list true until commit.
  auto exists = lock_run(run_id);
  if (!exists) return tl::unexpected(exists.error());
  if (!*exists) return std::vector<step_record>{};
  auto r = conn_.exec(
      std::string("SELECT ") + k_step_columns + " FROM steps WHERE run_id = $1 ORDER BY id",
      params().add(run_id));
  if (!r) return tl::unexpected(r.error());
  return collect<step_record>(*r, read_step);
}

result<void> pg_transaction::put_artifact(const artifact_record& artifact) {
  if (artifact.id.empty()) return fail(errc::invalid_argument, "an artifact needs an id");
  if (artifact.run_id) {
    auto exists = lock_run(*artifact.run_id);
    if (!exists) return tl::unexpected(exists.error());
    if (!*exists) return tl::unexpected(refers_to_missing("artifact " + artifact.id));
  }
  auto r = conn_.exec(
      "INSERT INTO artifacts (id, kind, uri, sha256, size, run_id, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
      params()
          .add(artifact.id)
          .add(artifact.kind)
          .add(artifact.uri)
          .add(artifact.sha256)
          .add(artifact.size)
          .add(artifact.run_id)
          .add(artifact.created_at));
  if (!r) return tl::unexpected(r.error());
  if (r->affected() == 0) return tl::unexpected(already_exists("artifact " + artifact.id));
  return {};
}

result<void> pg_transaction::record_llm_call(const llm_call_record& call) {
  if (call.id.empty() || call.request_hash.empty()) {
    return fail(errc::invalid_argument, "a model call record needs an id and a request hash");
  }
  if (call.run_id) {
    auto exists = lock_run(*call.run_id);
    if (!exists) return tl::unexpected(exists.error());
    if (!*exists) return tl::unexpected(refers_to_missing("model call " + call.id));
  }
  auto r = conn_.exec(
      "INSERT INTO llm_calls (id, run_id, step_id, role, provider, model, request_hash, request, "
      "response, error, status, latency_ms, tokens_in, tokens_out, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
      "ON CONFLICT (id) DO NOTHING",
      params()
          .add(call.id)
          .add(call.run_id)
          .add(call.step_id)
          .add(call.role)
          .add(call.provider)
          .add(call.model)
          .add(call.request_hash)
          .add(call.request_json)
          .add(call.response_json)
          .add(call.error)
          .add(call.status)
          .add(call.latency_ms)
          .add(call.tokens_in)
          .add(call.tokens_out)
          .add(call.created_at));
  if (!r) return tl::unexpected(r.error());
  if (r->affected() == 0) return tl::unexpected(already_exists("model call " + call.id));
  return {};
}

}  // namespace grok::store::postgres
