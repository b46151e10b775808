// The PostgreSQL store's reads outside transactions: each one statement on a pooled
// connection (autocommit, so it sees the latest committed state), with the same filters,
// orders and limits as the SQLite backend (store/sqlite/sqlite_store.cpp).
#include "store/postgres/pg_rows.h"
#include "store/postgres/pg_store.h"

namespace grok::store::postgres {
namespace {

int clamp_limit(int limit, int max) { return limit < 1 ? 1 : (limit > max ? max : limit); }

// Runs one query and reads every row of its result with `read`.
template <class T, class Read>
auto read_all(std::string sql, params p, Read read) {
  return [sql = std::move(sql), p = std::move(p), read](connection& c) -> result<std::vector<T>> {
    auto r = c.exec(sql, p);
    if (!r) return tl::unexpected(r.error());
    return collect<T>(*r, read);
  };
}

// Runs one query and reads its first row, if any, with `read`.
template <class T, class Read>
auto read_first(std::string sql, params p, Read read) {
  return [sql = std::move(sql), p = std::move(p), read](connection& c) -> result<std::optional<T>> {
    auto r = c.exec(sql, p);
    if (!r) return tl::unexpected(r.error());
    return first<T>(*r, read);
  };
}

std::string select(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + rest;
}

}  // namespace

result<std::optional<job>> pg_store::get_job(job_id id) {
  return with_connection<std::optional<job>>(read_first<job>(
      select(k_job_columns, " FROM queue WHERE id = $1"), params().add(id), read_job));
}

result<std::vector<job>> pg_store::list_jobs(const job_page_request& req) {
  params p;
  if (req.state) {
    p.add(to_string(*req.state));
  } else {
    p.add(std::nullopt);
  }
  p.add(req.after).add(clamp_limit(req.limit, 1000));
  return with_connection<std::vector<job>>(
      read_all<job>(select(k_job_columns,
                           " FROM queue WHERE ($1::text IS NULL OR state = $1::text) AND id > $2 "
                           "ORDER BY id LIMIT $3"),
                    std::move(p), read_job));
}

result<queue_stats> pg_store::get_queue_stats() {
  const auto now = clock_.now();
  return with_connection<queue_stats>([&](connection& c) -> result<queue_stats> {
    queue_stats stats;
    auto depth = c.exec(
        "SELECT topic, state, COUNT(*) FROM queue GROUP BY topic, state ORDER BY topic, state");
    if (!depth) return tl::unexpected(depth.error());
    stats.depth = collect<queue_depth>(*depth, [](const rows& r, int i) {
      return queue_depth{r.text(i, 0), parse_job_state(r.text(i, 1)).value_or(job_state::dead),
                         r.int64(i, 2)};
    });
    auto visible = c.exec(
        "SELECT COUNT(*), MIN(visible_after) FROM queue "
        "WHERE state IN ('ready','leased') AND visible_after <= $1",
        params().add(now));
    if (!visible) return tl::unexpected(visible.error());
    stats.visible = visible->int64(0, 0);
    if (auto oldest = visible->optional_int64(0, 1)) {
      stats.oldest_visible_lag = now - from_unix_ms(*oldest);
    }
    return stats;
  });
}

result<std::optional<time_point>> pg_store::next_visible_at(
    const std::vector<std::string>& topics) {
  if (topics.empty()) return std::optional<time_point>{};
  return with_connection<std::optional<time_point>>(
      [&](connection& c) -> result<std::optional<time_point>> {
        auto r = c.exec(
            "SELECT MIN(visible_after) FROM queue "
            "WHERE state IN ('ready','leased') AND topic = ANY($1::text[])",
            params().add(topics));
        if (!r) return tl::unexpected(r.error());
        return r->optional_time(0, 0);
      });
}

result<std::optional<run_record>> pg_store::get_run(std::string_view id) {
  return with_connection<std::optional<run_record>>(read_first<run_record>(
      select(k_run_columns, " FROM runs WHERE id = $1"), params().add(id), read_run));
}

result<std::vector<run_record>> pg_store::list_runs(const run_page_request& req) {
  params p;
  if (req.status) {
    p.add(to_string(*req.status));
  } else {
    p.add(std::nullopt);
  }
  p.add(req.owner_key_id).add(req.before_id).add(clamp_limit(req.limit, 1000));
  return with_connection<std::vector<run_record>>(read_all<run_record>(
      select(k_run_columns,
             " FROM runs WHERE ($1::text IS NULL OR status = $1::text) "
             "AND ($2::text IS NULL OR owner_key_id = $2::text) "
             "AND ($3::text IS NULL OR id < $3::text) ORDER BY id DESC LIMIT $4"),
      std::move(p), read_run));
}

result<std::optional<run_record>> pg_store::find_run_by_idempotency_key(
    std::string_view owner_key_id, std::string_view key) {
  // The conditions match the partial index runs_idempotency, so the lookup uses it.
  return with_connection<std::optional<run_record>>(
      read_first<run_record>(select(k_run_columns,
                                    " FROM runs WHERE owner_key_id = $1 AND idempotency_key = $2 "
                                    "AND idempotency_key IS NOT NULL"),
                             params().add(owner_key_id).add(key), read_run));
}

result<std::vector<step_record>> pg_store::list_steps(std::string_view run_id) {
  return with_connection<std::vector<step_record>>(
      read_all<step_record>(select(k_step_columns, " FROM steps WHERE run_id = $1 ORDER BY id"),
                            params().add(run_id), read_step));
}

result<std::vector<event_record>> pg_store::events_after(std::string_view run_id,
                                                         std::int64_t after, int limit) {
  return with_connection<std::vector<event_record>>(read_all<event_record>(
      select(k_event_columns, " FROM events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
      params().add(run_id).add(after).add(clamp_limit(limit, 10'000)), read_event));
}

result<std::optional<artifact_record>> pg_store::get_artifact(std::string_view id) {
  return with_connection<std::optional<artifact_record>>(
      read_first<artifact_record>(select(k_artifact_columns, " FROM artifacts WHERE id = $1"),
                                  params().add(id), read_artifact));
}

result<std::optional<llm_call_record>> pg_store::find_llm_call(
    std::string_view request_hash, std::optional<std::string_view> run_id) {
  // Two statements, so that each uses its index (llm_calls_run_request, llm_calls_request).
  params p;
  p.add(request_hash);
  if (run_id) p.add(*run_id);
  return with_connection<std::optional<llm_call_record>>(read_first<llm_call_record>(
      select(k_llm_call_columns, run_id ? " FROM llm_calls WHERE request_hash = $1 "
                                          "AND run_id = $2 AND status = 'ok' "
                                          "ORDER BY created_at DESC, id DESC LIMIT 1"
                                        : " FROM llm_calls WHERE request_hash = $1 "
                                          "AND status = 'ok' "
                                          "ORDER BY created_at DESC, id DESC LIMIT 1"),
      std::move(p), read_llm_call));
}

result<std::vector<llm_call_record>> pg_store::list_llm_calls(std::string_view run_id) {
  return with_connection<std::vector<llm_call_record>>(read_all<llm_call_record>(
      select(k_llm_call_columns, " FROM llm_calls WHERE run_id = $1 ORDER BY created_at, id"),
      params().add(run_id), read_llm_call));
}

}  // namespace grok::store::postgres
