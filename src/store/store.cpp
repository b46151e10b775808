#include "store/store.h"

namespace grok::store {
namespace {

// Runs one transaction operation and carries its value out of the callback.
template <class T, class Op>
result<T> run_one(store& s, Op op) {
  std::optional<T> out;
  auto done = s.transact([&](transaction& tx) -> result<void> {
    auto r = op(tx);
    if (!r) return tl::unexpected(r.error());
    out = std::move(*r);
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return std::move(*out);
}

}  // namespace

result<enqueue_result> store::enqueue(const job_spec& spec) {
  return run_one<enqueue_result>(*this, [&](transaction& tx) { return tx.enqueue(spec); });
}

result<std::vector<job>> store::claim(const claim_request& request) {
  return run_one<std::vector<job>>(*this, [&](transaction& tx) { return tx.claim(request); });
}

result<void> store::ack(const lease& held) {
  return transact([&](transaction& tx) { return tx.ack(held); });
}

result<nack_outcome> store::nack(const nack_request& req) {
  return run_one<nack_outcome>(*this, [&](transaction& tx) { return tx.nack(req); });
}

result<void> store::extend_lease(const lease& held, millis lease_for) {
  return transact([&](transaction& tx) { return tx.extend_lease(held, lease_for); });
}

result<void> store::requeue_dead(job_id id) {
  return transact([&](transaction& tx) { return tx.requeue_dead(id); });
}

}  // namespace grok::store
