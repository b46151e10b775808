// Retention on PostgreSQL. (Being written.)
#include "store/postgres/pg_store.h"

namespace grok::store::postgres {
namespace {
tl::unexpected<error> todo() { return fail(errc::unsupported, "not yet on PostgreSQL"); }
}  // namespace
result<prune_batch> pg_store::prune_runs(time_point, int) { return todo(); }
result<job_prune_batch> pg_store::prune_jobs(time_point, job_id, int) { return todo(); }
result<prune_counts> pg_store::count_prunable(time_point) { return todo(); }
}  // namespace grok::store::postgres
