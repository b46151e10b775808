// The run, step, event and artifact writes of the SQLite transaction.
#include <sqlite3.h>

#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_transaction.h"

namespace grok::store::sqlite {
namespace {

std::optional<std::int64_t> optional_ms(const std::optional<time_point>& t) {
  if (!t) return std::nullopt;
  return to_unix_ms(*t);
}

void bind_optional(bound_statement& s, int index, const std::optional<std::int64_t>& v) {
  if (v) {
    s.bind(index, *v);
  } else {
    s.bind(index, nullptr);
  }
}

// Rewrites constraint failures in the caller's terms, naming `what`.
error explain(error e, const std::string& what) {
  if (e.code == errc::already_exists)
    return {errc::already_exists, what + " already exists", false};
  if (e.code == errc::not_found) {
    return {errc::not_found, what + " refers to a run or artifact that does not exist", false};
  }
  return e;
}

}  // namespace

result<void> sqlite_transaction::insert_run(const run_record& run) {
  if (run.id.empty()) return fail(errc::invalid_argument, "a run needs an id");
  auto stmt = conn_.prepare(
      "INSERT INTO runs (id, status, input, options, answer, error_code, error_message, "
      "owner_key_id, idempotency_key, request_hash, created_at, started_at, finished_at, "
      "tokens_in, tokens_out, cost, last_seq, trace_parent) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 0, ?17)");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, run.id)
      .bind(2, to_string(run.status))
      .bind(3, run.input)
      .bind(4, run.options_json)
      .bind(5, run.answer)
      .bind(6, run.error_code)
      .bind(7, run.error_message)
      .bind(8, run.owner_key_id)
      .bind(9, run.idempotency_key)
      .bind(10, run.request_hash)
      .bind(11, to_unix_ms(run.created_at));
  bind_optional(*stmt, 12, optional_ms(run.started_at));
  bind_optional(*stmt, 13, optional_ms(run.finished_at));
  stmt->bind(14, run.tokens_in).bind(15, run.tokens_out).bind(16, run.cost);
  stmt->bind(17, run.trace_parent);
  if (auto r = stmt->run(); !r) return tl::unexpected(explain(r.error(), "run " + run.id));
  return {};
}

result<void> sqlite_transaction::update_run(const run_record& run) {
  auto stmt = conn_.prepare(
      "UPDATE runs SET status = ?2, answer = ?3, error_code = ?4, error_message = ?5, "
      "started_at = ?6, finished_at = ?7, tokens_in = ?8, tokens_out = ?9, cost = ?10 "
      "WHERE id = ?1");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, run.id)
      .bind(2, to_string(run.status))
      .bind(3, run.answer)
      .bind(4, run.error_code)
      .bind(5, run.error_message);
  bind_optional(*stmt, 6, optional_ms(run.started_at));
  bind_optional(*stmt, 7, optional_ms(run.finished_at));
  stmt->bind(8, run.tokens_in).bind(9, run.tokens_out).bind(10, run.cost);
  if (auto r = stmt->run(); !r) return r;
  if (sqlite3_changes(conn_.handle()) == 0) return fail(errc::not_found, "no run " + run.id);
  return {};
}

result<void> sqlite_transaction::upsert_step(const step_record& step) {
  if (step.id.empty() || step.run_id.empty()) {
    return fail(errc::invalid_argument, "a step needs an id and a run id");
  }
  auto stmt = conn_.prepare(
      "INSERT INTO steps (id, run_id, name, tool, args, status, attempts, output, "
      "output_artifact_id, error, started_at, finished_at, tokens_in, tokens_out, latency_ms, "
      "prompt_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
      "?15, ?16) ON CONFLICT (id) DO UPDATE SET name = excluded.name, tool = excluded.tool, "
      "args = excluded.args, status = excluded.status, attempts = excluded.attempts, "
      "output = excluded.output, output_artifact_id = excluded.output_artifact_id, "
      "error = excluded.error, started_at = excluded.started_at, "
      "finished_at = excluded.finished_at, tokens_in = excluded.tokens_in, "
      "tokens_out = excluded.tokens_out, latency_ms = excluded.latency_ms, "
      "prompt_version = excluded.prompt_version WHERE steps.run_id = excluded.run_id");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, step.id)
      .bind(2, step.run_id)
      .bind(3, step.name)
      .bind(4, step.tool)
      .bind(5, step.args_json)
      .bind(6, step.status)
      .bind(7, step.attempts)
      .bind(8, step.output)
      .bind(9, step.output_artifact_id)
      .bind(10, step.error);
  bind_optional(*stmt, 11, optional_ms(step.started_at));
  bind_optional(*stmt, 12, optional_ms(step.finished_at));
  stmt->bind(13, step.tokens_in)
      .bind(14, step.tokens_out)
      .bind(15, step.latency_ms)
      .bind(16, step.prompt_version);
  if (auto r = stmt->run(); !r) return tl::unexpected(explain(r.error(), "step " + step.id));
  if (sqlite3_changes(conn_.handle()) == 0) {
    return fail(errc::conflict, "step " + step.id + " belongs to another run");
  }
  return {};
}

result<std::int64_t> sqlite_transaction::append_event(const event_draft& event) {
  if (event.type.empty()) return fail(errc::invalid_argument, "an event needs a type");
  // The sequence counter lives on the run row, so numbers are never reused even if events
  // are deleted, and the increment commits with the event and the change it records.
  auto next =
      conn_.prepare("UPDATE runs SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq");
  if (!next) return tl::unexpected(next.error());
  next->bind(1, event.run_id);
  auto row = next->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return fail(errc::not_found, "no run " + event.run_id);
  const auto seq = next->column_int64(0);
  if (auto r = next->run(); !r) return tl::unexpected(r.error());

  auto insert = conn_.prepare(
      "INSERT INTO events (run_id, seq, type, step_id, name, ts, body) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!insert) return tl::unexpected(insert.error());
  insert->bind(1, event.run_id)
      .bind(2, seq)
      .bind(3, event.type)
      .bind(4, event.step_id)
      .bind(5, event.name)
      .bind(6, to_unix_ms(event.ts))
      .bind(7, event.body_json);
  if (auto r = insert->run(); !r) return tl::unexpected(r.error());
  appended_.push_back(
      {event.run_id, seq, event.type, event.step_id, event.name, event.ts, event.body_json});
  return seq;
}

result<std::optional<run_record>> sqlite_transaction::get_run(std::string_view id) {
  auto stmt = conn_.prepare(std::string("SELECT ") + k_run_columns + " FROM runs WHERE id = ?1");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, id);
  auto row = stmt->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<run_record>{};
  return std::optional<run_record>{read_run(*stmt)};
}

result<std::vector<step_record>> sqlite_transaction::list_steps(std::string_view run_id) {
  auto stmt = conn_.prepare(std::string("SELECT ") + k_step_columns +
                            " FROM steps WHERE run_id = ?1 ORDER BY id");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, run_id);
  std::vector<step_record> out;
  while (true) {
    auto row = stmt->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    out.push_back(read_step(*stmt));
  }
}

result<void> sqlite_transaction::put_artifact(const artifact_record& artifact) {
  if (artifact.id.empty()) return fail(errc::invalid_argument, "an artifact needs an id");
  auto stmt = conn_.prepare(
      "INSERT INTO artifacts (id, kind, uri, sha256, size, run_id, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, artifact.id)
      .bind(2, artifact.kind)
      .bind(3, artifact.uri)
      .bind(4, artifact.sha256)
      .bind(5, artifact.size)
      .bind(6, artifact.run_id)
      .bind(7, to_unix_ms(artifact.created_at));
  if (auto r = stmt->run(); !r) {
    return tl::unexpected(explain(r.error(), "artifact " + artifact.id));
  }
  return {};
}

result<void> sqlite_transaction::record_llm_call(const llm_call_record& call) {
  if (call.id.empty() || call.request_hash.empty()) {
    return fail(errc::invalid_argument, "a model call record needs an id and a request hash");
  }
  auto stmt = conn_.prepare(
      "INSERT INTO llm_calls (id, run_id, step_id, role, provider, model, request_hash, request, "
      "response, error, status, latency_ms, tokens_in, tokens_out, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, call.id)
      .bind(2, call.run_id)
      .bind(3, call.step_id)
      .bind(4, call.role)
      .bind(5, call.provider)
      .bind(6, call.model)
      .bind(7, call.request_hash)
      .bind(8, call.request_json)
      .bind(9, call.response_json)
      .bind(10, call.error)
      .bind(11, call.status)
      .bind(12, call.latency_ms);
  bind_optional(*stmt, 13, call.tokens_in);
  bind_optional(*stmt, 14, call.tokens_out);
  stmt->bind(15, to_unix_ms(call.created_at));
  if (auto r = stmt->run(); !r) return tl::unexpected(explain(r.error(), "model call " + call.id));
  return {};
}

}  // namespace grok::store::sqlite
