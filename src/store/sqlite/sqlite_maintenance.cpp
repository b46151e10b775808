// Retention for the SQLite store (store.h, "retention"): batches of old runs and finished
// jobs deleted in short transactions, and the dry-run count.
//
// Children are deleted explicitly rather than left to ON DELETE CASCADE, so that each
// table's count is known and nothing depends on the connection's foreign_keys setting
// (connection.cpp turns it on; with it on, the explicit deletes simply leave the cascades
// nothing to do).
#include <sqlite3.h>

#include <algorithm>

#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"

namespace grok::store::sqlite {
namespace {

// A run that may go at cutoff ?1: ended (or, with no end recorded, created) before it.
// Searched through runs_created (k_runs_by_age): a run that ended before the cutoff was
// created before it, so only runs older than the cutoff are read, oldest first, and a
// batch stops at its limit. (Left to itself the planner picks runs_status, which reads
// every finished run and sorts them, for every batch.)
constexpr const char* k_runs_by_age = "runs INDEXED BY runs_created";
constexpr const char* k_prunable_run =
    "created_at < ?1 AND status IN ('completed','failed','cancelled') "
    "AND coalesce(finished_at, created_at) < ?1";

// The same, for a run aliased `r` (no index hint needed: it is looked up by id).
constexpr const char* k_prunable_run_r =
    "r.status IN ('completed','failed','cancelled') AND coalesce(r.finished_at, r.created_at) < ?1";

// A finished job row `w` (with its payload's run_id as w.run_id) that may go at cutoff ?1.
std::string prunable_job_condition() {
  return std::string(
             "w.state IN ('done','dead') AND coalesce(w.finished_at, w.updated_at) < ?1 AND "
             "CASE WHEN w.run_id IS NULL THEN w.state = 'done' AND w.dedupe_key IS NULL "
             "ELSE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = w.run_id AND NOT (") +
         k_prunable_run_r + ")) END";
}

// The columns a job condition reads; the payload is parsed only when it is valid JSON
// (CASE evaluates one branch), so a job with a non-JSON payload simply has no run.
constexpr const char* k_job_window_columns =
    "id, state, dedupe_key, finished_at, updated_at, created_at, "
    "CASE WHEN json_valid(payload) THEN json_extract(payload, '$.run_id') END AS run_id";

// Runs a statement without parameters; returns the rows it changed.
result<std::int64_t> run_counted(connection& conn, const std::string& sql) {
  auto stmt = conn.prepare(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  if (auto r = stmt->run(); !r) return tl::unexpected(r.error());
  return static_cast<std::int64_t>(sqlite3_changes64(conn.handle()));
}

result<std::int64_t> count_one(connection& conn, const std::string& sql, time_point cutoff) {
  auto stmt = conn.prepare(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, to_unix_ms(cutoff));
  auto row = stmt->step();
  if (!row) return tl::unexpected(row.error());
  return *row ? stmt->column_int64(0) : 0;
}

}  // namespace

result<prune_batch> sqlite_store::prune_runs(time_point cutoff, int limit) {
  if (limit < 1) return fail(errc::invalid_argument, "prune limit must be at least 1");
  prune_batch out;
  auto done = transact([&](transaction&) -> result<void> {
    out = {};
    // Inside transact's callback this thread holds write_mutex_ and the writer's open
    // transaction, so the writer connection is ours to use directly.
    connection& conn = *writer_;
    if (auto r = conn.exec("CREATE TEMP TABLE IF NOT EXISTS prune_runs (id TEXT PRIMARY KEY)");
        !r) {
      return r;
    }
    if (auto r = conn.exec("DELETE FROM temp.prune_runs"); !r) return r;
    auto pick =
        conn.prepare(std::string("INSERT INTO temp.prune_runs (id) SELECT id FROM ") +
                     k_runs_by_age + " WHERE " + k_prunable_run + " ORDER BY created_at LIMIT ?2");
    if (!pick) return tl::unexpected(pick.error());
    pick->bind(1, to_unix_ms(cutoff)).bind(2, limit);
    if (auto r = pick->run(); !r) return r;
    out.removed.runs = static_cast<std::int64_t>(sqlite3_changes64(conn.handle()));
    if (out.removed.runs == 0) return {};

    const std::string chosen = " IN (SELECT id FROM temp.prune_runs)";
    auto events = run_counted(conn, "DELETE FROM events WHERE run_id" + chosen);
    if (!events) return tl::unexpected(events.error());
    out.removed.events = *events;
    auto calls = run_counted(conn, "DELETE FROM llm_calls WHERE run_id" + chosen);
    if (!calls) return tl::unexpected(calls.error());
    out.removed.llm_calls = *calls;
    auto steps = run_counted(conn, "DELETE FROM steps WHERE run_id" + chosen);
    if (!steps) return tl::unexpected(steps.error());
    out.removed.steps = *steps;

    // Artifacts a step of another run still references stay, without their run.
    auto artifacts = conn.prepare(
        "DELETE FROM artifacts WHERE run_id" + chosen +
        " AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.output_artifact_id = artifacts.id) "
        "RETURNING uri, sha256");
    if (!artifacts) return tl::unexpected(artifacts.error());
    std::vector<std::pair<std::string, std::string>> deleted;
    while (true) {
      auto row = artifacts->step();
      if (!row) return tl::unexpected(row.error());
      if (!*row) break;
      deleted.emplace_back(artifacts->column_text(0), artifacts->column_text(1));
    }
    out.removed.artifacts = static_cast<std::int64_t>(deleted.size());
    if (auto r = run_counted(conn, "UPDATE artifacts SET run_id = NULL WHERE run_id" + chosen);
        !r) {
      return tl::unexpected(r.error());
    }
    auto runs = run_counted(conn, "DELETE FROM runs WHERE id" + chosen);
    if (!runs) return tl::unexpected(runs.error());
    if (*runs != out.removed.runs) {
      return fail(errc::internal, "prune chose " + std::to_string(out.removed.runs) +
                                      " runs but deleted " + std::to_string(*runs));
    }

    // A file may back several rows (same content): it is orphaned only when none is left.
    for (auto& [uri, sha] : deleted) {
      auto used = conn.prepare("SELECT 1 FROM artifacts WHERE sha256 = ?1 AND uri = ?2 LIMIT 1");
      if (!used) return tl::unexpected(used.error());
      used->bind(1, sha).bind(2, uri);
      auto row = used->step();
      if (!row) return tl::unexpected(row.error());
      if (!*row && std::find(out.orphaned_uris.begin(), out.orphaned_uris.end(), uri) ==
                       out.orphaned_uris.end()) {
        out.orphaned_uris.push_back(std::move(uri));
      }
    }
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return out;
}

result<job_prune_batch> sqlite_store::prune_jobs(time_point cutoff, job_id after, int limit) {
  if (limit < 1) return fail(errc::invalid_argument, "prune limit must be at least 1");
  job_prune_batch out;
  auto done = transact([&](transaction&) -> result<void> {
    out = {};
    connection& conn = *writer_;  // see prune_runs
    // The window: the next `limit` jobs by id, never the newest (ids must not be reused).
    const std::string window = std::string("SELECT ") + k_job_window_columns +
                               " FROM queue WHERE id > ?2 AND id < (SELECT max(id) FROM queue) "
                               "ORDER BY id LIMIT ?3";
    auto extent = conn.prepare("SELECT count(*), max(id), min(created_at) FROM (" + window + ")");
    if (!extent) return tl::unexpected(extent.error());
    extent->bind(1, to_unix_ms(cutoff)).bind(2, after).bind(3, limit);
    auto row = extent->step();
    if (!row) return tl::unexpected(row.error());
    const auto seen = extent->column_int64(0);
    out.scanned_to = seen > 0 ? extent->column_int64(1) : after;
    // Ids grow with time: once a window starts at jobs created after the cutoff, no later
    // job can have finished before it.
    const bool all_new = seen > 0 && extent->column_int64(2) >= to_unix_ms(cutoff);
    out.finished = seen < limit || all_new;
    if (seen == 0 || all_new) return {};

    auto erase = conn.prepare("DELETE FROM queue WHERE id IN (SELECT w.id FROM (" + window +
                              ") w WHERE " + prunable_job_condition() + ")");
    if (!erase) return tl::unexpected(erase.error());
    erase->bind(1, to_unix_ms(cutoff)).bind(2, after).bind(3, limit);
    if (auto r = erase->run(); !r) return r;
    out.deleted = static_cast<std::int64_t>(sqlite3_changes64(conn.handle()));
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return out;
}

result<prune_counts> sqlite_store::count_prunable(time_point cutoff) {
  auto r = acquire_reader(false);
  if (!r) return tl::unexpected(r.error());
  connection& conn = *r->operator->();
  // One read transaction, so that the counts agree with each other.
  if (auto b = conn.exec("BEGIN"); !b) return tl::unexpected(b.error());
  const auto counts = [&]() -> result<prune_counts> {
    prune_counts c;
    const std::string runs =
        std::string("(SELECT id FROM ") + k_runs_by_age + " WHERE " + k_prunable_run + ")";
    const std::pair<std::int64_t*, std::string> queries[] = {
        {&c.runs,
         std::string("SELECT count(*) FROM ") + k_runs_by_age + " WHERE " + k_prunable_run},
        {&c.steps, "SELECT count(*) FROM steps WHERE run_id IN " + runs},
        {&c.events, "SELECT count(*) FROM events WHERE run_id IN " + runs},
        {&c.llm_calls, "SELECT count(*) FROM llm_calls WHERE run_id IN " + runs},
        {&c.artifacts,
         "SELECT count(*) FROM artifacts a WHERE a.run_id IN " + runs +
             " AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.output_artifact_id = a.id AND "
             "s.run_id NOT IN " +
             runs + ")"},
        {&c.jobs, std::string("SELECT count(*) FROM (SELECT ") + k_job_window_columns +
                      " FROM queue WHERE id < (SELECT max(id) FROM queue)) w WHERE " +
                      prunable_job_condition()},
    };
    for (const auto& [target, sql] : queries) {
      auto n = count_one(conn, sql, cutoff);
      if (!n) return tl::unexpected(n.error());
      *target = *n;
    }
    return c;
  }();
  (void)conn.exec("COMMIT");
  return counts;
}

}  // namespace grok::store::sqlite
