// The PostgreSQL store's reads outside transactions. (Being written.)
#include "store/postgres/pg_store.h"

namespace grok::store::postgres {
namespace {
tl::unexpected<error> todo() { return fail(errc::unsupported, "not yet on PostgreSQL"); }
}  // namespace
result<std::optional<job>> pg_store::get_job(job_id) { return todo(); }
result<std::vector<job>> pg_store::list_jobs(const job_page_request&) { return todo(); }
result<queue_stats> pg_store::get_queue_stats() { return todo(); }
result<std::optional<time_point>> pg_store::next_visible_at(const std::vector<std::string>&) { return todo(); }
result<std::optional<run_record>> pg_store::get_run(std::string_view) { return todo(); }
result<std::vector<run_record>> pg_store::list_runs(const run_page_request&) { return todo(); }
result<std::optional<run_record>> pg_store::find_run_by_idempotency_key(std::string_view, std::string_view) { return todo(); }
result<std::vector<step_record>> pg_store::list_steps(std::string_view) { return todo(); }
result<std::vector<event_record>> pg_store::events_after(std::string_view, std::int64_t, int) { return todo(); }
result<std::optional<artifact_record>> pg_store::get_artifact(std::string_view) { return todo(); }
result<std::optional<llm_call_record>> pg_store::find_llm_call(std::string_view, std::optional<std::string_view>) { return todo(); }
result<std::vector<llm_call_record>> pg_store::list_llm_calls(std::string_view) { return todo(); }
}  // namespace grok::store::postgres
