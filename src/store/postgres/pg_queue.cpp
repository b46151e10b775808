// The queue operations of the PostgreSQL transaction. (Being written.)
#include "store/postgres/pg_transaction.h"

namespace grok::store::postgres {
namespace {
tl::unexpected<error> todo() { return fail(errc::unsupported, "not yet on PostgreSQL"); }
}  // namespace
result<enqueue_result> pg_transaction::enqueue(const job_spec&) { return todo(); }
result<std::vector<job>> pg_transaction::claim(const claim_request&) { return todo(); }
result<void> pg_transaction::ack(const lease&) { return todo(); }
result<nack_outcome> pg_transaction::nack(const nack_request&) { return todo(); }
result<void> pg_transaction::extend_lease(const lease&, millis) { return todo(); }
result<void> pg_transaction::requeue_dead(job_id) { return todo(); }
error pg_transaction::lease_lost(const lease&, std::string_view) { return todo().value(); }
}  // namespace grok::store::postgres
