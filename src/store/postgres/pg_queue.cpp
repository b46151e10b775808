// The queue operations of the PostgreSQL transaction: the same validation, limits, messages
// and semantics as the SQLite backend (store/sqlite/sqlite_queue.cpp). No statement here
// fails for an expected reason (a duplicate dedupe key, a lost lease): those are read from
// row counts, so the transaction stays usable for the caller.
#include <algorithm>

#include "core/utf8.h"
#include "store/postgres/pg_rows.h"
#include "store/postgres/pg_transaction.h"
#include "store/queue_checks.h"

namespace grok::store::postgres {
namespace {

// The error text as PostgreSQL can keep it (a failure's message may carry any bytes, and a
// TEXT column takes only UTF-8 without NUL: anything else would fail the statement), cut
// at a character boundary to the same limit as on SQLite.
std::string truncate_error(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), k_max_error_bytes));
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    std::size_t len = decode_utf8(text, i, cp);
    const bool good = len > 0 && cp != 0;
    if (!good) len = 1;
    const std::size_t adds = good ? len : 3;
    if (out.size() + adds > k_max_error_bytes) return out + "…[truncated]";
    if (good) {
      out.append(text.substr(i, len));
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
    }
    i += len;
  }
  return out;
}

}  // namespace

result<enqueue_result> pg_transaction::enqueue(const job_spec& spec) {
  if (auto r = check_job_spec(spec); !r) return tl::unexpected(r.error());
  auto inserted = conn_.exec(
      "INSERT INTO queue (topic, payload, dedupe_key, state, attempts, max_attempts, "
      "visible_after, created_at, updated_at) VALUES ($1, $2, $3, 'ready', 0, $4, $5, $6, $6) "
      "ON CONFLICT (topic, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id",
      params()
          .add(spec.topic)
          .add(spec.payload)
          .add(spec.dedupe_key)
          .add(spec.max_attempts)
          .add(now_ + spec.delay)
          .add(now_));
  if (!inserted) return tl::unexpected(inserted.error());
  if (!inserted->empty()) {
    ++ready_jobs_;
    return enqueue_result{inserted->int64(0, 0), true};
  }

  // The key is taken. Its holder committed before the insert looked (ON CONFLICT waits for
  // a concurrent inserter of the same key to commit or roll back), so this read finds it.
  auto existing = conn_.exec("SELECT id FROM queue WHERE topic = $1 AND dedupe_key = $2",
                             params().add(spec.topic).add(spec.dedupe_key));
  if (!existing) return tl::unexpected(existing.error());
  if (existing->empty()) return fail(errc::internal, "dedupe conflict but no job holds the key");
  return enqueue_result{existing->int64(0, 0), false};
}

result<std::vector<job>> pg_transaction::claim(const claim_request& request) {
  if (auto r = check_claim_request(request); !r) return tl::unexpected(r.error());

  // A job whose final attempt's lease ran out has failed max_attempts times: dead-letter it
  // rather than hand it out again. Rows another claimer holds are skipped, not waited for:
  // that claimer's own sweep (or the next claim) deals with them.
  auto sweep = conn_.exec(
      "UPDATE queue SET state = 'dead', locked_by = NULL, locked_at = NULL, updated_at = $1, "
      "finished_at = $1, last_error = 'lease expired on the final attempt (' || attempts || "
      "' of ' || max_attempts || ')' "
      "WHERE id IN (SELECT id FROM queue WHERE state IN ('ready','leased') "
      "AND visible_after <= $1 AND state = 'leased' AND attempts >= max_attempts "
      "AND topic = ANY($2::text[]) FOR UPDATE SKIP LOCKED)",
      params().add(now_).add(request.topics));
  if (!sweep) return tl::unexpected(sweep.error());

  // The inner SELECT locks the rows it picks and skips rows other claimers hold, so
  // concurrent workers take disjoint jobs without waiting on each other (a row that changed
  // since the statement's snapshot is checked again once locked, and left out when it no
  // longer qualifies). A final-attempt lease the sweep skipped because another transaction
  // held the row (one that then rolled back) is never handed out: the sweep of a later
  // claim dead-letters it.
  auto claimed = conn_.exec(
      std::string("UPDATE queue SET state = 'leased', attempts = attempts + 1, "
                  "lease_seq = lease_seq + 1, locked_by = $3, locked_at = $1, "
                  "visible_after = $4, updated_at = $1 "
                  "WHERE id IN (SELECT id FROM queue WHERE state IN ('ready','leased') "
                  "AND visible_after <= $1 AND topic = ANY($2::text[]) "
                  "AND (state = 'ready' OR attempts < max_attempts) "
                  "ORDER BY visible_after, id LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING ") +
          k_job_columns,
      params()
          .add(now_)
          .add(request.topics)
          .add(request.worker_id)
          .add(now_ + request.lease_for)
          .add(request.limit));
  if (!claimed) return tl::unexpected(claimed.error());
  auto jobs = collect<job>(*claimed, read_job);
  std::sort(jobs.begin(), jobs.end(), [](const job& a, const job& b) { return a.id < b.id; });
  return jobs;
}

error pg_transaction::lease_lost(const lease& held, std::string_view op) {
  auto r = conn_.exec("SELECT state, locked_by, lease_seq FROM queue WHERE id = $1",
                      params().add(held.id));
  if (!r) return r.error();
  if (r->empty()) return {errc::not_found, "no job " + std::to_string(held.id), false};
  return {errc::conflict,
          std::string("cannot ") + std::string(op) + " job " + std::to_string(held.id) +
              ": worker " + held.worker_id + " no longer holds its lease (state " + r->text(0, 0) +
              ", lease " + std::to_string(r->int64(0, 2)) + ")",
          false};
}

result<void> pg_transaction::ack(const lease& held) {
  if (auto r = check_lease_shape(held); !r) return r;
  auto r = conn_.exec(
      "UPDATE queue SET state = 'done', locked_by = NULL, locked_at = NULL, updated_at = $1, "
      "finished_at = $1 WHERE id = $2 AND state = 'leased' AND locked_by = $3 AND lease_seq = $4",
      params().add(now_).add(held.id).add(held.worker_id).add(held.seq));
  if (!r) return tl::unexpected(r.error());
  if (r->affected() == 0) return tl::unexpected(lease_lost(held, "ack"));
  return {};
}

result<nack_outcome> pg_transaction::nack(const nack_request& req) {
  if (auto r = check_lease_shape(req.held); !r) return tl::unexpected(r.error());
  if (req.retry_delay.count() < 0) return fail(errc::invalid_argument, "retry delay is negative");
  auto r = conn_.exec(
      "UPDATE queue SET "
      "state = CASE WHEN $5::boolean OR attempts >= max_attempts THEN 'dead' ELSE 'ready' END, "
      "finished_at = CASE WHEN $5::boolean OR attempts >= max_attempts THEN $1::bigint "
      "ELSE NULL END, "
      "visible_after = $6, last_error = $7, locked_by = NULL, locked_at = NULL, updated_at = $1 "
      "WHERE id = $2 AND state = 'leased' AND locked_by = $3 AND lease_seq = $4 RETURNING state",
      params()
          .add(now_)
          .add(req.held.id)
          .add(req.held.worker_id)
          .add(req.held.seq)
          .add(req.permanent)
          .add(now_ + req.retry_delay)
          .add(truncate_error(req.error)));
  if (!r) return tl::unexpected(r.error());
  if (r->empty()) return tl::unexpected(lease_lost(req.held, "nack"));
  const auto outcome = r->text(0, 0) == "dead" ? nack_outcome::dead : nack_outcome::retry_scheduled;
  if (outcome == nack_outcome::retry_scheduled) ++ready_jobs_;
  return outcome;
}

result<void> pg_transaction::extend_lease(const lease& held, millis lease_for) {
  if (auto r = check_lease_shape(held); !r) return r;
  if (lease_for.count() <= 0) return fail(errc::invalid_argument, "lease must be positive");
  auto r = conn_.exec(
      "UPDATE queue SET visible_after = $1, updated_at = $2 "
      "WHERE id = $3 AND state = 'leased' AND locked_by = $4 AND lease_seq = $5",
      params().add(now_ + lease_for).add(now_).add(held.id).add(held.worker_id).add(held.seq));
  if (!r) return tl::unexpected(r.error());
  if (r->affected() == 0) return tl::unexpected(lease_lost(held, "extend"));
  return {};
}

result<void> pg_transaction::requeue_dead(job_id id) {
  auto r = conn_.exec(
      "UPDATE queue SET state = 'ready', attempts = 0, visible_after = $1, updated_at = $1, "
      "finished_at = NULL, locked_by = NULL, locked_at = NULL WHERE id = $2 AND state = 'dead'",
      params().add(now_).add(id));
  if (!r) return tl::unexpected(r.error());
  if (r->affected() == 0) {
    auto state = conn_.exec("SELECT state FROM queue WHERE id = $1", params().add(id));
    if (!state) return tl::unexpected(state.error());
    if (state->empty()) return fail(errc::not_found, "no job " + std::to_string(id));
    return fail(errc::conflict, "job " + std::to_string(id) + " is " + state->text(0, 0) +
                                    ", not dead; only dead jobs can be requeued");
  }
  ++ready_jobs_;
  return {};
}

}  // namespace grok::store::postgres
