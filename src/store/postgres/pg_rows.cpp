#include "store/postgres/pg_rows.h"

namespace grok::store::postgres {

job read_job(const rows& s, int row) {
  job j;
  j.id = s.int64(row, 0);
  j.topic = s.text(row, 1);
  j.payload = s.text(row, 2);
  j.dedupe_key = s.optional_text(row, 3);
  j.state = parse_job_state(s.text(row, 4)).value_or(job_state::dead);
  j.attempts = static_cast<int>(s.int64(row, 5));
  j.max_attempts = static_cast<int>(s.int64(row, 6));
  j.visible_after = s.time(row, 7);
  j.locked_by = s.optional_text(row, 8);
  j.lease_seq = s.int64(row, 9);
  j.locked_at = s.optional_time(row, 10);
  j.last_error = s.optional_text(row, 11);
  j.created_at = s.time(row, 12);
  j.updated_at = s.time(row, 13);
  return j;
}

run_record read_run(const rows& s, int row) {
  run_record r;
  r.id = s.text(row, 0);
  r.status = parse_run_status(s.text(row, 1)).value_or(run_status::failed);
  r.input = s.text(row, 2);
  r.options_json = s.text(row, 3);
  r.answer = s.optional_text(row, 4);
  r.error_code = s.optional_text(row, 5);
  r.error_message = s.optional_text(row, 6);
  r.owner_key_id = s.optional_text(row, 7);
  r.idempotency_key = s.optional_text(row, 8);
  r.request_hash = s.optional_text(row, 9);
  r.created_at = s.time(row, 10);
  r.started_at = s.optional_time(row, 11);
  r.finished_at = s.optional_time(row, 12);
  r.tokens_in = s.int64(row, 13);
  r.tokens_out = s.int64(row, 14);
  r.cost = s.real(row, 15);
  r.last_seq = s.int64(row, 16);
  r.trace_parent = s.optional_text(row, 17);
  return r;
}

step_record read_step(const rows& s, int row) {
  step_record st;
  st.id = s.text(row, 0);
  st.run_id = s.text(row, 1);
  st.name = s.text(row, 2);
  st.tool = s.optional_text(row, 3);
  st.args_json = s.text(row, 4);
  st.status = s.text(row, 5);
  st.attempts = static_cast<int>(s.int64(row, 6));
  st.output = s.optional_text(row, 7);
  st.output_artifact_id = s.optional_text(row, 8);
  st.error = s.optional_text(row, 9);
  st.started_at = s.optional_time(row, 10);
  st.finished_at = s.optional_time(row, 11);
  st.tokens_in = s.int64(row, 12);
  st.tokens_out = s.int64(row, 13);
  st.latency_ms = s.int64(row, 14);
  st.prompt_version = s.optional_text(row, 15);
  return st;
}

event_record read_event(const rows& s, int row) {
  event_record e;
  e.run_id = s.text(row, 0);
  e.seq = s.int64(row, 1);
  e.type = s.text(row, 2);
  e.step_id = s.optional_text(row, 3);
  e.name = s.optional_text(row, 4);
  e.ts = s.time(row, 5);
  e.body_json = s.text(row, 6);
  return e;
}

artifact_record read_artifact(const rows& s, int row) {
  artifact_record a;
  a.id = s.text(row, 0);
  a.kind = s.text(row, 1);
  a.uri = s.text(row, 2);
  a.sha256 = s.text(row, 3);
  a.size = s.int64(row, 4);
  a.run_id = s.optional_text(row, 5);
  a.created_at = s.time(row, 6);
  return a;
}

llm_call_record read_llm_call(const rows& s, int row) {
  llm_call_record c;
  c.id = s.text(row, 0);
  c.run_id = s.optional_text(row, 1);
  c.step_id = s.optional_text(row, 2);
  c.role = s.text(row, 3);
  c.provider = s.text(row, 4);
  c.model = s.text(row, 5);
  c.request_hash = s.text(row, 6);
  c.request_json = s.text(row, 7);
  c.response_json = s.optional_text(row, 8);
  c.error = s.optional_text(row, 9);
  c.status = s.text(row, 10);
  c.latency_ms = s.int64(row, 11);
  c.tokens_in = s.optional_int64(row, 12);
  c.tokens_out = s.optional_int64(row, 13);
  c.created_at = s.time(row, 14);
  return c;
}

api_key_record read_api_key(const rows& s, int row) {
  api_key_record k;
  k.id = s.text(row, 0);
  k.name = s.text(row, 1);
  k.scope = s.text(row, 2);
  k.prefix = s.text(row, 3);
  k.hash = s.text(row, 4);
  k.created_at = s.time(row, 5);
  k.last_used_at = s.optional_time(row, 6);
  k.revoked_at = s.optional_time(row, 7);
  return k;
}

}  // namespace grok::store::postgres
