#include "store/queue_checks.h"

namespace grok::store {

result<void> check_job_spec(const job_spec& spec) {
  if (spec.topic.empty() || spec.topic.size() > k_max_topic_bytes) {
    return fail(errc::invalid_argument, "job topic must be 1 to 200 bytes");
  }
  if (spec.payload.size() > k_max_payload_bytes) {
    return fail(errc::invalid_argument, "job payload is larger than 8 MiB");
  }
  if (spec.dedupe_key &&
      (spec.dedupe_key->empty() || spec.dedupe_key->size() > k_max_dedupe_key_bytes)) {
    return fail(errc::invalid_argument, "dedupe key must be 1 to 512 bytes");
  }
  if (spec.max_attempts < 1) return fail(errc::invalid_argument, "max_attempts must be at least 1");
  if (spec.delay.count() < 0) return fail(errc::invalid_argument, "delay must not be negative");
  return {};
}

result<void> check_claim_request(const claim_request& request) {
  if (request.topics.empty() || request.topics.size() > k_max_claim_topics) {
    return fail(errc::invalid_argument, "claim needs 1 to 64 topics");
  }
  if (request.worker_id.empty()) return fail(errc::invalid_argument, "claim needs a worker id");
  if (request.limit < 1 || request.limit > k_max_claim_batch) {
    return fail(errc::invalid_argument, "claim limit must be 1 to 1000");
  }
  if (request.lease_for.count() <= 0) return fail(errc::invalid_argument, "lease must be positive");
  return {};
}

result<void> check_lease_shape(const lease& held) {
  if (held.id <= 0 || held.worker_id.empty() || held.seq < 1) {
    return fail(errc::invalid_argument, "a lease needs a job id, a worker id and a lease number");
  }
  return {};
}

}  // namespace grok::store
