#include "store/sqlite/sqlite_store.h"

#include <malloc.h>

#include <sqlite3.h>

#include <algorithm>
#include <exception>
#include <filesystem>

#include "store/sqlite/migrations.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_transaction.h"

namespace grok::store::sqlite {

void configure_process_allocator() {
  constexpr int k_trim_threshold = 64 * 1024 * 1024;
  mallopt(M_TRIM_THRESHOLD, k_trim_threshold);
}

sqlite_store::sqlite_store(std::unique_ptr<connection> writer, sqlite_options options,
                           const clock& c)
    : options_(std::move(options)), clock_(c), writer_(std::move(writer)) {}

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const sqlite_options& options) {
  if (options.path.empty()) return fail(errc::invalid_argument, "no database path given");
  if (options.synchronous != "NORMAL" && options.synchronous != "FULL") {
    return fail(errc::invalid_argument,
                "synchronous must be NORMAL or FULL, not '" + options.synchronous + "'");
  }
  if (options.create_if_missing) {
    auto parent = std::filesystem::path(options.path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      return fail(errc::io, "cannot create directory " + parent.string() + ": " + ec.message());
    }
  }
  // The shared lock comes first: while `grok restore` replaces the file, wait for it.
  // Without a usable lock file (a read-only directory) nothing can restore over us either.
  db_lock lock;
  std::error_code exists_ec;
  if (options.path != ":memory:" && options.path.rfind("file:", 0) != 0 &&
      (options.create_if_missing || std::filesystem::exists(options.path, exists_ec))) {
    auto taken =
        db_lock::acquire(options.path, db_lock::mode::shared, millis(options.busy_timeout_ms));
    if (!taken && taken.error().code == errc::busy) return tl::unexpected(taken.error());
    if (taken) lock = std::move(*taken);
  }
  open_options conn_options;
  conn_options.create_if_missing = options.create_if_missing;
  conn_options.busy_timeout_ms = options.busy_timeout_ms;
  conn_options.synchronous = options.synchronous;
  auto writer = connection::open(options.path, conn_options);
  if (!writer) return tl::unexpected(writer.error());

  if (options.migrate) {
    if (auto r = migrate(**writer); !r) return tl::unexpected(r.error());
  } else if (auto r = check_schema_current(**writer); !r) {
    return tl::unexpected(r.error());
  }
  const clock& c = options.time_source != nullptr ? *options.time_source : system_clock::instance();
  std::unique_ptr<sqlite_store> opened(new sqlite_store(std::move(*writer), options, c));
  opened->process_lock_ = std::move(lock);
  return opened;
}

// One caller's transaction, waiting to be committed in a batch.
struct sqlite_store::pending_write {
  const std::function<result<void>(transaction&)>* work;
  result<void> outcome;
  std::exception_ptr thrown;
  bool done = false;  // guarded by batch_mutex_
};

// Group commit. Callers that arrive while a commit is in progress queue up; the first of
// them then commits everything queued as one SQLite transaction, each caller's work inside
// its own savepoint. Each work still sees the effects of those before it, and one that
// fails is rolled back alone, so every caller gets exactly the semantics of its own
// transaction, while the batch pays for one commit: writing a WAL frame for every page
// touched is most of what a transaction costs here, and concurrent transactions touch
// the same hot pages (the queue, the newest events). Alone, a caller commits at once.
result<void> sqlite_store::transact(const std::function<result<void>(transaction&)>& work) {
  pending_write me{&work, {}, nullptr};
  std::unique_lock lock(batch_mutex_);
  waiting_.push_back(&me);
  while (true) {
    batch_done_.wait(lock, [&] { return me.done || !leader_active_; });
    if (me.done) break;
    // Lead: commit the oldest waiting writers (`me` among them unless more than a batch
    // were queued ahead, in which case `me` leads again or joins a later batch).
    leader_active_ = true;
    std::vector<pending_write*> batch;
    const auto n = static_cast<std::ptrdiff_t>(std::min(waiting_.size(), k_max_batch));
    batch.assign(waiting_.begin(), waiting_.begin() + n);
    waiting_.erase(waiting_.begin(), waiting_.begin() + n);
    lock.unlock();
    commit_batch(batch);
    lock.lock();
    for (auto* p : batch) p->done = true;
    leader_active_ = false;
    batch_done_.notify_all();
  }
  if (me.thrown) std::rethrow_exception(me.thrown);
  return me.outcome;
}

void sqlite_store::commit_batch(const std::vector<pending_write*>& batch) {
  std::lock_guard lock(write_mutex_);
  const auto fail_all = [&](const error& e) {
    for (auto* p : batch) {
      if (!p->thrown) p->outcome = tl::unexpected(e);
    }
  };
  if (auto r = writer_->exec("BEGIN IMMEDIATE"); !r) return fail_all(r.error());
  const bool alone = batch.size() == 1;
  std::vector<std::unique_ptr<sqlite_transaction>> committed;
  for (auto* p : batch) {
    if (!alone) {
      if (auto r = writer_->exec("SAVEPOINT batch_item"); !r) {
        p->outcome = r;
        continue;
      }
    }
    auto tx = std::make_unique<sqlite_transaction>(*writer_, clock_.now());
    try {
      p->outcome = (*p->work)(*tx);
    } catch (...) {
      p->thrown = std::current_exception();
    }
    const bool good = p->outcome.has_value() && !p->thrown;
    if (sqlite3_get_autocommit(writer_->handle()) != 0) {
      // SQLite rolled the whole transaction back itself (an I/O error, a full disk):
      // whatever the batch had done is gone, so every caller must try again.
      for (auto* other : batch) {
        if (other != p && !other->thrown) {
          other->outcome = fail(errc::busy, "the transaction was rolled back by the database",
                                /*retryable=*/true);
        }
      }
      if (good) p->outcome = fail(errc::busy, "the transaction was rolled back", true);
      return;
    }
    if (alone) {
      if (!good) {
        (void)writer_->exec("ROLLBACK");
        return;
      }
    } else if (!good) {
      (void)writer_->exec("ROLLBACK TO batch_item");
      (void)writer_->exec("RELEASE batch_item");
      continue;
    } else if (auto r = writer_->exec("RELEASE batch_item"); !r) {
      (void)writer_->exec("ROLLBACK");  // the work of the whole batch goes with it
      fail_all(r.error());
      return;
    }
    committed.push_back(std::move(tx));
  }
  if (auto r = writer_->exec("COMMIT"); !r) {
    (void)writer_->exec("ROLLBACK");
    for (auto* p : batch) {
      if (p->outcome) p->outcome = r;
    }
    return;
  }
  // Still under the write lock: listeners see the events in commit order.
  for (auto& tx : committed) {
    signal_.notify_some(tx->ready_jobs());
    if (!tx->appended_events().empty()) {
      events_signal_.notify();
      feed_.publish(tx->appended_events());
    }
  }
}

result<sqlite_store::reader> sqlite_store::acquire_reader(bool may_use_writer) {
  if (may_use_writer) {
    std::unique_lock lock(write_mutex_, std::try_to_lock);
    if (lock.owns_lock()) return reader(*this, std::move(lock), *writer_);
  }
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader(*this, std::move(conn));
    }
  }
  open_options conn_options;
  conn_options.create_if_missing = false;
  conn_options.busy_timeout_ms = options_.busy_timeout_ms;
  conn_options.synchronous = options_.synchronous;
  auto conn = connection::open(options_.path, conn_options);
  if (!conn) return tl::unexpected(conn.error());
  return reader(*this, std::move(*conn));
}

void sqlite_store::release_reader(std::unique_ptr<connection> conn) {
  constexpr std::size_t k_max_idle_readers = 8;
  std::lock_guard lock(readers_mutex_);
  if (idle_readers_.size() < k_max_idle_readers) idle_readers_.push_back(std::move(conn));
}

namespace {

// Runs a prepared query and collects every row with `read`.
template <class T, class Read>
result<std::vector<T>> collect(bound_statement& stmt, Read read) {
  std::vector<T> out;
  while (true) {
    auto row = stmt.step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    out.push_back(read(stmt));
  }
}

template <class T, class Read>
result<std::optional<T>> first(bound_statement& stmt, Read read) {
  auto row = stmt.step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<T>{};
  return std::optional<T>{read(stmt)};
}

int clamp_limit(int limit, int max) { return limit < 1 ? 1 : (limit > max ? max : limit); }

}  // namespace

result<std::optional<job>> sqlite_store::get_job(job_id id) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare(std::string("SELECT ") + k_job_columns + " FROM queue WHERE id = ?1");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, id);
  return first<job>(*stmt, read_job);
}

result<std::vector<job>> sqlite_store::list_jobs(const job_page_request& req) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare(std::string("SELECT ") + k_job_columns +
                            " FROM queue WHERE (?1 IS NULL OR state = ?1) AND id > ?2 "
                            "ORDER BY id LIMIT ?3");
  if (!stmt) return tl::unexpected(stmt.error());
  if (req.state) {
    stmt->bind(1, to_string(*req.state));
  } else {
    stmt->bind(1, nullptr);
  }
  stmt->bind(2, req.after).bind(3, clamp_limit(req.limit, 1000));
  return collect<job>(*stmt, read_job);
}

result<queue_stats> sqlite_store::get_queue_stats() {
  auto r = acquire_reader(false);
  if (!r) return tl::unexpected(r.error());
  queue_stats stats;
  auto depth = (*r)->prepare(
      "SELECT topic, state, COUNT(*) FROM queue GROUP BY topic, state ORDER BY topic, state");
  if (!depth) return tl::unexpected(depth.error());
  auto rows = collect<queue_depth>(*depth, [](const bound_statement& s) {
    return queue_depth{s.column_text(0),
                       parse_job_state(s.column_text(1)).value_or(job_state::dead),
                       s.column_int64(2)};
  });
  if (!rows) return tl::unexpected(rows.error());
  stats.depth = std::move(*rows);

  const auto now = clock_.now();
  auto visible = (*r)->prepare(
      "SELECT COUNT(*), MIN(visible_after) FROM queue "
      "WHERE state IN ('ready','leased') AND visible_after <= ?1");
  if (!visible) return tl::unexpected(visible.error());
  visible->bind(1, to_unix_ms(now));
  auto row = visible->step();
  if (!row) return tl::unexpected(row.error());
  stats.visible = visible->column_int64(0);
  if (auto oldest = visible->column_optional_int64(1)) {
    stats.oldest_visible_lag = now - from_unix_ms(*oldest);
  }
  return stats;
}

result<std::optional<time_point>> sqlite_store::next_visible_at(
    const std::vector<std::string>& topics) {
  if (topics.empty()) return std::optional<time_point>{};
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare(
      "SELECT MIN(visible_after) FROM queue INDEXED BY queue_visible "
      "WHERE state IN ('ready','leased') AND topic IN (" +
      placeholders(1, topics.size()) + ")");
  if (!stmt) return tl::unexpected(stmt.error());
  for (std::size_t i = 0; i < topics.size(); ++i) stmt->bind(static_cast<int>(i) + 1, topics[i]);
  auto row = stmt->step();
  if (!row) return tl::unexpected(row.error());
  auto v = stmt->column_optional_int64(0);
  if (!v) return std::optional<time_point>{};
  return std::optional<time_point>{from_unix_ms(*v)};
}

result<std::optional<run_record>> sqlite_store::get_run(std::string_view id) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare(std::string("SELECT ") + k_run_columns + " FROM runs WHERE id = ?1");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, id);
  return first<run_record>(*stmt, read_run);
}

result<std::vector<run_record>> sqlite_store::list_runs(const run_page_request& req) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare(std::string("SELECT ") + k_run_columns +
                            " FROM runs WHERE (?1 IS NULL OR status = ?1) "
                            "AND (?2 IS NULL OR owner_key_id = ?2) AND (?3 IS NULL OR id < ?3) "
                            "ORDER BY id DESC LIMIT ?4");
  if (!stmt) return tl::unexpected(stmt.error());
  if (req.status) {
    stmt->bind(1, to_string(*req.status));
  } else {
    stmt->bind(1, nullptr);
  }
  stmt->bind(2, req.owner_key_id).bind(3, req.before_id).bind(4, clamp_limit(req.limit, 1000));
  return collect<run_record>(*stmt, read_run);
}

result<std::optional<run_record>> sqlite_store::find_run_by_idempotency_key(
    std::string_view owner_key_id, std::string_view key) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  // The conditions match the partial index runs_idempotency, so the lookup uses it.
  auto stmt = (*r)->prepare(std::string("SELECT ") + k_run_columns +
                            " FROM runs WHERE owner_key_id = ?1 AND idempotency_key = ?2 "
                            "AND idempotency_key IS NOT NULL");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, owner_key_id).bind(2, key);
  return first<run_record>(*stmt, read_run);
}

result<std::vector<step_record>> sqlite_store::list_steps(std::string_view run_id) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare(std::string("SELECT ") + k_step_columns +
                            " FROM steps WHERE run_id = ?1 ORDER BY id");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, run_id);
  return collect<step_record>(*stmt, read_step);
}

result<std::vector<event_record>> sqlite_store::events_after(std::string_view run_id,
                                                             std::int64_t after, int limit) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare(std::string("SELECT ") + k_event_columns +
                            " FROM events WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, run_id).bind(2, after).bind(3, clamp_limit(limit, 10'000));
  return collect<event_record>(*stmt, read_event);
}

result<std::optional<artifact_record>> sqlite_store::get_artifact(std::string_view id) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt =
      (*r)->prepare(std::string("SELECT ") + k_artifact_columns + " FROM artifacts WHERE id = ?1");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, id);
  return first<artifact_record>(*stmt, read_artifact);
}

result<std::optional<llm_call_record>> sqlite_store::find_llm_call(
    std::string_view request_hash, std::optional<std::string_view> run_id) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  // Two statements, so that each uses its index (llm_calls_run_request, llm_calls_request).
  auto stmt = (*r)->prepare(std::string("SELECT ") + k_llm_call_columns +
                            " FROM llm_calls WHERE request_hash = ?1 " +
                            (run_id ? "AND run_id = ?2 " : "") +
                            "AND status = 'ok' ORDER BY created_at DESC, id DESC LIMIT 1");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, request_hash);
  if (run_id) stmt->bind(2, *run_id);
  return first<llm_call_record>(*stmt, read_llm_call);
}

result<std::vector<llm_call_record>> sqlite_store::list_llm_calls(std::string_view run_id) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare(std::string("SELECT ") + k_llm_call_columns +
                            " FROM llm_calls WHERE run_id = ?1 ORDER BY created_at, id");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, run_id);
  return collect<llm_call_record>(*stmt, read_llm_call);
}

result<std::vector<api_key_record>> sqlite_store::list_api_keys() {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare(std::string("SELECT ") + k_api_key_columns +
                            " FROM api_keys ORDER BY created_at, id");
  if (!stmt) return tl::unexpected(stmt.error());
  return collect<api_key_record>(*stmt, read_api_key);
}

result<std::optional<api_key_record>> sqlite_store::find_api_key(std::string_view hash) {
  auto r = acquire_reader();
  if (!r) return tl::unexpected(r.error());
  auto stmt =
      (*r)->prepare(std::string("SELECT ") + k_api_key_columns + " FROM api_keys WHERE hash = ?1");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, hash);
  return first<api_key_record>(*stmt, read_api_key);
}

result<std::vector<std::string>> sqlite_store::integrity_check() {
  auto r = acquire_reader(false);
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare("PRAGMA integrity_check");
  if (!stmt) return tl::unexpected(stmt.error());
  auto rows =
      collect<std::string>(*stmt, [](const bound_statement& s) { return s.column_text(0); });
  if (!rows) return tl::unexpected(rows.error());
  if (rows->size() == 1 && (*rows)[0] == "ok") rows->clear();
  return rows;
}

result<int> sqlite_store::schema_version() {
  std::lock_guard lock(write_mutex_);
  return read_schema_version(*writer_);
}

}  // namespace grok::store::sqlite
