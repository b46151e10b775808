// Runs, steps, events, artifacts and model calls in the PostgreSQL transaction. (Being written.)
#include "store/postgres/pg_transaction.h"

namespace grok::store::postgres {
namespace {
tl::unexpected<error> todo() { return fail(errc::unsupported, "not yet on PostgreSQL"); }
}  // namespace
result<bool> pg_transaction::lock_run(std::string_view) { return todo(); }
result<void> pg_transaction::insert_run(const run_record&) { return todo(); }
result<void> pg_transaction::update_run(const run_record&) { return todo(); }
result<void> pg_transaction::upsert_step(const step_record&) { return todo(); }
result<std::int64_t> pg_transaction::append_event(const event_draft&) { return todo(); }
result<std::optional<run_record>> pg_transaction::get_run(std::string_view) { return todo(); }
result<std::vector<step_record>> pg_transaction::list_steps(std::string_view) { return todo(); }
result<void> pg_transaction::put_artifact(const artifact_record&) { return todo(); }
result<void> pg_transaction::record_llm_call(const llm_call_record&) { return todo(); }
}  // namespace grok::store::postgres
