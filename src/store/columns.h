// The column lists every backend selects, in the order its row readers expect them
// (store/sqlite/rows.h, store/postgres/pg_rows.h): the tables are alike on every backend.
#pragma once

namespace grok::store {

inline constexpr const char* k_job_columns =
    "id, topic, payload, dedupe_key, state, attempts, max_attempts, visible_after, locked_by, "
    "lease_seq, "
    "locked_at, last_error, created_at, updated_at";
inline constexpr const char* k_run_columns =
    "id, status, input, options, answer, error_code, error_message, owner_key_id, "
    "idempotency_key, request_hash, created_at, started_at, finished_at, tokens_in, tokens_out, "
    "cost, last_seq, trace_parent";
inline constexpr const char* k_step_columns =
    "id, run_id, name, tool, args, status, attempts, output, output_artifact_id, error, "
    "started_at, finished_at, tokens_in, tokens_out, latency_ms, prompt_version";
inline constexpr const char* k_event_columns = "run_id, seq, type, step_id, name, ts, body";
inline constexpr const char* k_artifact_columns = "id, kind, uri, sha256, size, run_id, created_at";
inline constexpr const char* k_llm_call_columns =
    "id, run_id, step_id, role, provider, model, request_hash, request, response, error, status, "
    "latency_ms, tokens_in, tokens_out, created_at";
inline constexpr const char* k_api_key_columns =
    "id, name, scope, prefix, hash, created_at, last_used_at, revoked_at";

}  // namespace grok::store
