// Retention on PostgreSQL (store.h, "retention"): batches of old runs and finished jobs
// deleted in short transactions, and the dry-run count, with the semantics of the SQLite
// backend (store/sqlite/sqlite_maintenance.cpp).
//
// Children are deleted explicitly rather than left to ON DELETE CASCADE, so that each
// table's count is known. A job's run is the "run_id" of its payload, read here with a JSON
// parser rather than in SQL: PostgreSQL 15 has no cast from text to JSON that does not fail
// the whole statement on a payload that is not JSON, and such payloads are allowed.
#include <nlohmann/json.hpp>

#include <set>

#include "store/postgres/pg_store.h"

namespace grok::store::postgres {
namespace {

// Serialization failures and deadlocks (errc::busy, retryable) are tried again this often.
constexpr int k_max_attempts = 5;
// count_prunable reads finished jobs in pages of this many.
constexpr int k_count_page = 1000;

// A run that may go at cutoff $1 (SQLite's condition): ended (or, with no end recorded,
// created) before it. `created_at < $1` lets the runs_created index narrow the search.
constexpr const char* k_prunable_run =
    "created_at < $1 AND status IN ('completed','failed','cancelled') "
    "AND coalesce(finished_at, created_at) < $1";

// The queue rows a job decision needs: id, whether it is done (else dead), whether it holds
// a dedupe key, and its payload when the payload might name a run. A payload without the
// text "run_id" and without a backslash (which an escaped key would need) cannot have a
// "run_id" member, so it is not sent over the wire at all.
constexpr const char* k_job_candidate_columns =
    "id, state = 'done', dedupe_key IS NOT NULL, "
    "CASE WHEN strpos(payload, 'run_id') > 0 OR strpos(payload, '\\') > 0 THEN payload END";
// A job that may go, whatever its run: finished before cutoff $1.
constexpr const char* k_finished_job =
    "state IN ('done','dead') AND coalesce(finished_at, updated_at) < $1";

// The payload's top-level "run_id", as SQLite's json_extract(payload, '$.run_id') reads it
// for a valid JSON payload: a string as it is, another value as its JSON text, null or
// missing (or a payload that is not JSON) as no run.
std::optional<std::string> payload_run_id(const std::optional<std::string>& payload) {
  if (!payload) return std::nullopt;
  const auto doc = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  const auto it = doc.find("run_id");
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

// Which of the candidate jobs in `r` (rows of k_job_candidate_columns) may go at `cutoff`:
// one whose run no longer exists or is prunable; one without a run only when it is done and
// holds no dedupe key (dedupe keys are forever). Dead jobs of live runs stay.
result<std::vector<std::string>> prunable_job_ids(connection& c, const rows& r, time_point cutoff) {
  struct candidate {
    std::int64_t id;
    bool done;
    bool deduped;
    std::optional<std::string> run_id;
  };
  std::vector<candidate> jobs;
  jobs.reserve(static_cast<std::size_t>(r.size()));
  std::set<std::string, std::less<>> runs;
  for (int i = 0; i < r.size(); ++i) {
    candidate j{r.int64(i, 0), r.boolean(i, 1), r.boolean(i, 2),
                payload_run_id(r.optional_text(i, 3))};
    // A run id with a NUL (an escaped one in the JSON) names no run; it could not be sent.
    if (j.run_id && j.run_id->find('\0') == std::string::npos) runs.insert(*j.run_id);
    jobs.push_back(std::move(j));
  }
  std::set<std::string, std::less<>> live;
  if (!runs.empty()) {
    auto found =
        c.exec(std::string("SELECT id FROM runs WHERE id = ANY($2::text[]) AND NOT (") +
                   k_prunable_run + ")",
               params().add(cutoff).add(std::vector<std::string>(runs.begin(), runs.end())));
    if (!found) return tl::unexpected(found.error());
    for (int i = 0; i < found->size(); ++i) live.insert(found->text(i, 0));
  }
  std::vector<std::string> out;
  for (const auto& j : jobs) {
    const bool goes = j.run_id ? live.count(*j.run_id) == 0 : j.done && !j.deduped;
    if (goes) out.push_back(std::to_string(j.id));
  }
  return out;
}

// Runs `work` on a pooled connection inside `begin` … COMMIT, rolled back when it returns an
// error; serialization failures and deadlocks are tried again.
template <class Work>
result<void> in_transaction(pool& from, std::string_view begin, Work work) {
  for (int attempt = 1;; ++attempt) {
    auto held = from.acquire();
    if (!held) return tl::unexpected(held.error());
    connection& conn = **held;
    if (auto r = conn.exec_script(begin); !r) {
      // A pooled connection the server dropped while it sat idle: take another.
      if (!conn.healthy() && attempt < k_max_attempts) continue;
      return r;
    }
    result<void> outcome;
    try {
      outcome = work(conn);
    } catch (...) {
      (void)conn.exec_script("ROLLBACK");
      throw;
    }
    if (outcome) {
      outcome = conn.commit();
    } else if (conn.healthy()) {
      (void)conn.exec_script("ROLLBACK");
    }
    if (!outcome && outcome.error().code == errc::busy && outcome.error().retryable &&
        attempt < k_max_attempts) {
      continue;
    }
    return outcome;
  }
}

}  // namespace

result<prune_batch> pg_store::prune_runs(time_point cutoff, int limit) {
  if (limit < 1) return fail(errc::invalid_argument, "prune limit must be at least 1");
  prune_batch out;
  auto done = in_transaction(pool_, "BEGIN", [&](connection& c) -> result<void> {
    out = {};
    // The chosen runs are locked until commit, so no transaction writes to them meanwhile
    // (writers lock a run's row first: pg_transaction.h) and the counts below are exact. A
    // run some transaction holds right now is passed over, to go in a later batch, rather
    // than waited for.
    auto picked = c.exec(std::string("SELECT id FROM runs WHERE ") + k_prunable_run +
                             " ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
                         params().add(cutoff).add(limit));
    if (!picked) return tl::unexpected(picked.error());
    std::vector<std::string> ids;
    ids.reserve(static_cast<std::size_t>(picked->size()));
    for (int i = 0; i < picked->size(); ++i) ids.push_back(picked->text(i, 0));
    out.removed.runs = static_cast<std::int64_t>(ids.size());
    if (ids.empty()) return {};
    const auto chosen = params().add(ids);

    const std::pair<std::int64_t*, const char*> children[] = {
        {&out.removed.events, "DELETE FROM events WHERE run_id = ANY($1::text[])"},
        {&out.removed.llm_calls, "DELETE FROM llm_calls WHERE run_id = ANY($1::text[])"},
        {&out.removed.steps, "DELETE FROM steps WHERE run_id = ANY($1::text[])"},
    };
    for (const auto& [count, sql] : children) {
      auto r = c.exec(sql, chosen);
      if (!r) return tl::unexpected(r.error());
      *count = r->affected();
    }

    // Artifacts a step of another run still references stay, without their run (the steps
    // of the chosen runs are gone by now).
    auto artifacts = c.exec(
        "DELETE FROM artifacts a WHERE a.run_id = ANY($1::text[]) "
        "AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.output_artifact_id = a.id) "
        "RETURNING a.uri, a.sha256",
        chosen);
    if (!artifacts) return tl::unexpected(artifacts.error());
    out.removed.artifacts = artifacts->size();
    if (auto r =
            c.exec("UPDATE artifacts SET run_id = NULL WHERE run_id = ANY($1::text[])", chosen);
        !r) {
      return tl::unexpected(r.error());
    }
    auto runs = c.exec("DELETE FROM runs WHERE id = ANY($1::text[])", chosen);
    if (!runs) return tl::unexpected(runs.error());
    if (runs->affected() != out.removed.runs) {
      return fail(errc::internal, "prune chose " + std::to_string(out.removed.runs) +
                                      " runs but deleted " + std::to_string(runs->affected()));
    }

    // A file may back several rows (same content): it is orphaned only when none is left.
    if (artifacts->empty()) return {};
    std::vector<std::string> uris;
    std::vector<std::string> digests;
    for (int i = 0; i < artifacts->size(); ++i) {
      uris.push_back(artifacts->text(i, 0));
      digests.push_back(artifacts->text(i, 1));
    }
    auto orphaned = c.exec(
        "SELECT d.uri FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS d(uri, sha256, n) "
        "WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.sha256 = d.sha256 AND a.uri = d.uri) "
        "GROUP BY d.uri ORDER BY min(d.n)",
        params().add(uris).add(digests));
    if (!orphaned) return tl::unexpected(orphaned.error());
    for (int i = 0; i < orphaned->size(); ++i) out.orphaned_uris.push_back(orphaned->text(i, 0));
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return out;
}

result<job_prune_batch> pg_store::prune_jobs(time_point cutoff, job_id after, int limit) {
  if (limit < 1) return fail(errc::invalid_argument, "prune limit must be at least 1");
  job_prune_batch out;
  auto done = in_transaction(pool_, "BEGIN", [&](connection& c) -> result<void> {
    out = {};
    // The window: the next `limit` jobs by id, never the newest (ids must not be reused).
    auto extent = c.exec(
        "SELECT count(*), max(id), min(created_at) FROM (SELECT id, created_at FROM queue "
        "WHERE id > $1 AND id < (SELECT max(id) FROM queue) ORDER BY id LIMIT $2) AS w",
        params().add(after).add(limit));
    if (!extent) return tl::unexpected(extent.error());
    const auto seen = extent->int64(0, 0);
    if (seen == 0) {
      out.scanned_to = after;
      out.finished = true;
      return {};
    }
    out.scanned_to = extent->int64(0, 1);
    // Ids grow with time: once a window starts at jobs created after the cutoff, no later
    // job can have finished before it.
    const bool all_new = extent->int64(0, 2) >= to_unix_ms(cutoff);
    out.finished = seen < limit || all_new;
    if (all_new) return {};

    auto candidates =
        c.exec(std::string("SELECT ") + k_job_candidate_columns +
                   " FROM queue WHERE id > $2 AND id <= $3 AND " + k_finished_job + " ORDER BY id",
               params().add(cutoff).add(after).add(out.scanned_to));
    if (!candidates) return tl::unexpected(candidates.error());
    auto ids = prunable_job_ids(c, *candidates, cutoff);
    if (!ids) return tl::unexpected(ids.error());
    if (ids->empty()) return {};
    // The state is checked again: a dead job requeued since it was read stays.
    auto erased =
        c.exec(std::string("DELETE FROM queue WHERE id = ANY($2::bigint[]) AND ") + k_finished_job,
               params().add(cutoff).add(*ids));
    if (!erased) return tl::unexpected(erased.error());
    out.deleted = erased->affected();
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return out;
}

result<prune_counts> pg_store::count_prunable(time_point cutoff) {
  prune_counts out;
  // One snapshot for every count, so that they agree with each other.
  auto done = in_transaction(
      pool_, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [&](connection& c) -> result<void> {
        out = {};
        const std::string runs = std::string("(SELECT id FROM runs WHERE ") + k_prunable_run + ")";
        const std::pair<std::int64_t*, std::string> queries[] = {
            {&out.runs, std::string("SELECT count(*) FROM runs WHERE ") + k_prunable_run},
            {&out.steps, "SELECT count(*) FROM steps WHERE run_id IN " + runs},
            {&out.events, "SELECT count(*) FROM events WHERE run_id IN " + runs},
            {&out.llm_calls, "SELECT count(*) FROM llm_calls WHERE run_id IN " + runs},
            {&out.artifacts,
             "SELECT count(*) FROM artifacts a WHERE a.run_id IN " + runs +
                 " AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.output_artifact_id = a.id AND "
                 "s.run_id NOT IN " +
                 runs + ")"},
        };
        for (const auto& [target, sql] : queries) {
          auto n = c.exec(sql, params().add(cutoff));
          if (!n) return tl::unexpected(n.error());
          *target = n->int64(0, 0);
        }
        // Jobs: every finished one but the newest, a page at a time.
        std::int64_t after = 0;
        while (true) {
          auto page = c.exec(std::string("SELECT ") + k_job_candidate_columns +
                                 " FROM queue WHERE id > $2 AND id < (SELECT max(id) FROM queue) "
                                 "AND " +
                                 k_finished_job + " ORDER BY id LIMIT $3",
                             params().add(cutoff).add(after).add(k_count_page));
          if (!page) return tl::unexpected(page.error());
          if (page->empty()) return {};
          auto ids = prunable_job_ids(c, *page, cutoff);
          if (!ids) return tl::unexpected(ids.error());
          out.jobs += static_cast<std::int64_t>(ids->size());
          if (page->size() < k_count_page) return {};
          after = page->int64(page->size() - 1, 0);
        }
      });
  if (!done) return tl::unexpected(done.error());
  return out;
}

}  // namespace grok::store::postgres
