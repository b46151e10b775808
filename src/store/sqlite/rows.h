// Column lists and row readers shared by the SQLite store's read and write paths.
#pragma once

#include "store/api_key_types.h"
#include "store/queue_types.h"
#include "store/run_types.h"
#include "store/sqlite/connection.h"

namespace grok::store::sqlite {

inline constexpr const char* k_job_columns =
    "id, topic, payload, dedupe_key, state, attempts, max_attempts, visible_after, locked_by, "
    "lease_seq, "
    "locked_at, last_error, created_at, updated_at";
job read_job(const bound_statement& s);

inline constexpr const char* k_run_columns =
    "id, status, input, options, answer, error_code, error_message, owner_key_id, "
    "idempotency_key, request_hash, created_at, started_at, finished_at, tokens_in, tokens_out, "
    "cost, last_seq, trace_parent";
run_record read_run(const bound_statement& s);

inline constexpr const char* k_step_columns =
    "id, run_id, name, tool, args, status, attempts, output, output_artifact_id, error, "
    "started_at, finished_at, tokens_in, tokens_out, latency_ms, prompt_version";
step_record read_step(const bound_statement& s);

inline constexpr const char* k_event_columns = "run_id, seq, type, step_id, name, ts, body";
event_record read_event(const bound_statement& s);

inline constexpr const char* k_artifact_columns = "id, kind, uri, sha256, size, run_id, created_at";
artifact_record read_artifact(const bound_statement& s);

inline constexpr const char* k_llm_call_columns =
    "id, run_id, step_id, role, provider, model, request_hash, request, response, error, status, "
    "latency_ms, tokens_in, tokens_out, created_at";
llm_call_record read_llm_call(const bound_statement& s);

inline constexpr const char* k_api_key_columns =
    "id, name, scope, prefix, hash, created_at, last_used_at, revoked_at";
api_key_record read_api_key(const bound_statement& s);

// "?first, ?first+1, …" for an IN list of `count` parameters.
std::string placeholders(int first, std::size_t count);

}  // namespace grok::store::sqlite
