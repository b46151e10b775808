#include "store/sqlite/rows.h"

namespace grok::store::sqlite {
namespace {

std::optional<time_point> optional_time(const bound_statement& s, int i) {
  auto v = s.column_optional_int64(i);
  if (!v) return std::nullopt;
  return from_unix_ms(*v);
}

}  // namespace

job read_job(const bound_statement& s) {
  job j;
  j.id = s.column_int64(0);
  j.topic = s.column_text(1);
  j.payload = s.column_text(2);
  j.dedupe_key = s.column_optional_text(3);
  j.state = parse_job_state(s.column_text(4)).value_or(job_state::dead);
  j.attempts = static_cast<int>(s.column_int64(5));
  j.max_attempts = static_cast<int>(s.column_int64(6));
  j.visible_after = from_unix_ms(s.column_int64(7));
  j.locked_by = s.column_optional_text(8);
  j.lease_seq = s.column_int64(9);
  j.locked_at = optional_time(s, 10);
  j.last_error = s.column_optional_text(11);
  j.created_at = from_unix_ms(s.column_int64(12));
  j.updated_at = from_unix_ms(s.column_int64(13));
  return j;
}

run_record read_run(const bound_statement& s) {
  run_record r;
  r.id = s.column_text(0);
  r.status = parse_run_status(s.column_text(1)).value_or(run_status::failed);
  r.input = s.column_text(2);
  r.options_json = s.column_text(3);
  r.answer = s.column_optional_text(4);
  r.error_code = s.column_optional_text(5);
  r.error_message = s.column_optional_text(6);
  r.owner_key_id = s.column_optional_text(7);
  r.idempotency_key = s.column_optional_text(8);
  r.request_hash = s.column_optional_text(9);
  r.created_at = from_unix_ms(s.column_int64(10));
  r.started_at = optional_time(s, 11);
  r.finished_at = optional_time(s, 12);
  r.tokens_in = s.column_int64(13);
  r.tokens_out = s.column_int64(14);
  r.cost = s.column_double(15);
  r.last_seq = s.column_int64(16);
  r.trace_parent = s.column_optional_text(17);
  return r;
}

step_record read_step(const bound_statement& s) {
  step_record st;
  st.id = s.column_text(0);
  st.run_id = s.column_text(1);
  st.name = s.column_text(2);
  st.tool = s.column_optional_text(3);
  st.args_json = s.column_text(4);
  st.status = s.column_text(5);
  st.attempts = static_cast<int>(s.column_int64(6));
  st.output = s.column_optional_text(7);
  st.output_artifact_id = s.column_optional_text(8);
  st.error = s.column_optional_text(9);
  st.started_at = optional_time(s, 10);
  st.finished_at = optional_time(s, 11);
  st.tokens_in = s.column_int64(12);
  st.tokens_out = s.column_int64(13);
  st.latency_ms = s.column_int64(14);
  st.prompt_version = s.column_optional_text(15);
  return st;
}

event_record read_event(const bound_statement& s) {
  event_record e;
  e.run_id = s.column_text(0);
  e.seq = s.column_int64(1);
  e.type = s.column_text(2);
  e.step_id = s.column_optional_text(3);
  e.name = s.column_optional_text(4);
  e.ts = from_unix_ms(s.column_int64(5));
  e.body_json = s.column_text(6);
  return e;
}

artifact_record read_artifact(const bound_statement& s) {
  artifact_record a;
  a.id = s.column_text(0);
  a.kind = s.column_text(1);
  a.uri = s.column_text(2);
  a.sha256 = s.column_text(3);
  a.size = s.column_int64(4);
  a.run_id = s.column_optional_text(5);
  a.created_at = from_unix_ms(s.column_int64(6));
  return a;
}

llm_call_record read_llm_call(const bound_statement& s) {
  llm_call_record c;
  c.id = s.column_text(0);
  c.run_id = s.column_optional_text(1);
  c.step_id = s.column_optional_text(2);
  c.role = s.column_text(3);
  c.provider = s.column_text(4);
  c.model = s.column_text(5);
  c.request_hash = s.column_text(6);
  c.request_json = s.column_text(7);
  c.response_json = s.column_optional_text(8);
  c.error = s.column_optional_text(9);
  c.status = s.column_text(10);
  c.latency_ms = s.column_int64(11);
  c.tokens_in = s.column_optional_int64(12);
  c.tokens_out = s.column_optional_int64(13);
  c.created_at = from_unix_ms(s.column_int64(14));
  return c;
}

api_key_record read_api_key(const bound_statement& s) {
  api_key_record k;
  k.id = s.column_text(0);
  k.name = s.column_text(1);
  k.scope = s.column_text(2);
  k.prefix = s.column_text(3);
  k.hash = s.column_text(4);
  k.created_at = from_unix_ms(s.column_int64(5));
  if (auto v = s.column_optional_int64(6)) k.last_used_at = from_unix_ms(*v);
  if (auto v = s.column_optional_int64(7)) k.revoked_at = from_unix_ms(*v);
  return k;
}

std::string placeholders(int first, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) out += ", ";
    out += '?';
    out += std::to_string(first + static_cast<int>(i));
  }
  return out;
}

}  // namespace grok::store::sqlite
