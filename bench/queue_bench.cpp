// bench/queue: throughput of the job queue, with a raw baseline measured in the same run on
// the same schema and machine: SQLite by default, PostgreSQL with --postgres.
//
// SQLite (one process, worker threads):
//   enqueue            store.enqueue, one job per transaction
//   claim+ack 1w / 2w  store.claim (limit 1) + store.ack: two transactions per job, as the
//                      worker pool does by default; 1 and 2 threads
//   batched 1w / 2w    claim 64 jobs in one transaction, ack them in one transaction
//   raw baseline       the same UPDATE…RETURNING claim and UPDATE ack as plain autocommit
//                      statements on one connection: no queue code around them
//
// PostgreSQL (--postgres URL|auto): worker processes instead of threads, a raw libpq
// baseline with 1, 2 and 4 processes, and enqueue; see queue_bench_postgres.h.
//
// usage: queue_bench [--jobs N] [--dir PATH]                       SQLite (20000 jobs)
//        queue_bench --postgres URL|auto [--jobs N] [--repeat R]   PostgreSQL (1500, best of 3)
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "queue_bench_postgres.h"
#include "store/open_store.h"
#include "store/sqlite/sqlite_store.h"

using namespace grok;
using steady = std::chrono::steady_clock;

namespace {

struct options {
  int jobs = 20'000;
  std::string dir;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "queue_bench: %s\n", what.c_str());
  std::exit(1);
}

double seconds_since(steady::time_point start) {
  return std::chrono::duration<double>(steady::now() - start).count();
}

std::unique_ptr<store::store> fresh_store(const std::string& path) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  auto st = store::open_store({.url = "sqlite://" + path});
  if (!st) die(describe(st.error()));
  return std::move(*st);
}

// Fills the queue with `n` ready jobs, several per transaction (setup, not measured).
void fill(store::store& st, int n) {
  for (int done = 0; done < n;) {
    auto r = st.transact([&](store::transaction& tx) -> result<void> {
      for (int i = 0; i < 1000 && done < n; ++i, ++done) {
        if (auto e = tx.enqueue({.topic = "bench", .payload = R"({"n":1})"}); !e)
          return tl::unexpected(e.error());
      }
      return {};
    });
    if (!r) die(describe(r.error()));
  }
}

double bench_enqueue(const std::string& path, int n) {
  auto st = fresh_store(path);
  auto start = steady::now();
  for (int i = 0; i < n; ++i) {
    if (auto r = st->enqueue({.topic = "bench", .payload = R"({"n":1})"}); !r)
      die(describe(r.error()));
  }
  return n / seconds_since(start);
}

double bench_claim_ack(const std::string& path, int n, int workers, int batch) {
  auto st = fresh_store(path);
  fill(*st, n);
  std::atomic<int> processed{0};
  auto start = steady::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      const store::claim_request req{{"bench"}, "w" + std::to_string(w), millis(60'000), batch};
      while (true) {
        if (batch == 1) {
          auto jobs = st->claim(req);
          if (!jobs) die(describe(jobs.error()));
          if (jobs->empty()) return;
          if (auto r = st->ack((*jobs)[0].held_lease()); !r) die(describe(r.error()));
          ++processed;
          continue;
        }
        auto jobs = st->claim(req);
        if (!jobs) die(describe(jobs.error()));
        if (jobs->empty()) return;
        auto r = st->transact([&](store::transaction& tx) -> result<void> {
          for (const auto& j : *jobs) {
            if (auto a = tx.ack(j.held_lease()); !a) return a;
          }
          return {};
        });
        if (!r) die(describe(r.error()));
        processed += static_cast<int>(jobs->size());
      }
    });
  }
  for (auto& t : threads) t.join();
  if (processed != n)
    die("processed " + std::to_string(processed.load()) + " of " + std::to_string(n));
  return n / seconds_since(start);
}

// The baseline: the claim and ack statements alone, autocommit, one connection.
double bench_raw(const std::string& path, int n) {
  {
    auto st = fresh_store(path);  // same schema and indexes
    fill(*st, n);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) die("open failed");
  sqlite3_busy_timeout(db, 10'000);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr, nullptr,
               nullptr);
  const char* claim_sql =
      "UPDATE queue SET state = 'leased', attempts = attempts + 1, lease_seq = lease_seq + 1, "
      "locked_by = ?3, locked_at = ?1, "
      "visible_after = ?4, updated_at = ?1 WHERE id IN (SELECT id FROM queue INDEXED BY "
      "queue_visible WHERE state IN ('ready','leased') "
      "AND visible_after <= ?1 AND topic IN (?2) ORDER BY visible_after, id LIMIT 1) RETURNING id, "
      "lease_seq";
  const char* ack_sql =
      "UPDATE queue SET state = 'done', locked_by = NULL, locked_at = NULL, updated_at = ?1, "
      "finished_at = ?1 "
      "WHERE id = ?2 AND state = 'leased' AND locked_by = ?3 AND lease_seq = ?4";
  sqlite3_stmt* claim = nullptr;
  sqlite3_stmt* ack = nullptr;
  if (sqlite3_prepare_v2(db, claim_sql, -1, &claim, nullptr) != SQLITE_OK) die(sqlite3_errmsg(db));
  if (sqlite3_prepare_v2(db, ack_sql, -1, &ack, nullptr) != SQLITE_OK) die(sqlite3_errmsg(db));
  int processed = 0;
  auto start = steady::now();
  while (true) {
    const auto now = to_unix_ms(system_clock::instance().now());
    sqlite3_bind_int64(claim, 1, now);
    sqlite3_bind_text(claim, 2, "bench", -1, SQLITE_STATIC);
    sqlite3_bind_text(claim, 3, "raw", -1, SQLITE_STATIC);
    sqlite3_bind_int64(claim, 4, now + 60'000);
    int rc = sqlite3_step(claim);
    if (rc == SQLITE_DONE) {
      sqlite3_reset(claim);
      break;
    }
    if (rc != SQLITE_ROW) die(sqlite3_errmsg(db));
    const auto id = sqlite3_column_int64(claim, 0);
    const auto seq = sqlite3_column_int64(claim, 1);
    while (sqlite3_step(claim) == SQLITE_ROW) {
    }
    sqlite3_reset(claim);
    sqlite3_bind_int64(ack, 1, now);
    sqlite3_bind_int64(ack, 2, id);
    sqlite3_bind_text(ack, 3, "raw", -1, SQLITE_STATIC);
    sqlite3_bind_int64(ack, 4, seq);
    if (sqlite3_step(ack) != SQLITE_DONE) die(sqlite3_errmsg(db));
    sqlite3_reset(ack);
    ++processed;
  }
  const double rate = processed / seconds_since(start);
  sqlite3_finalize(claim);
  sqlite3_finalize(ack);
  sqlite3_close(db);
  if (processed != n)
    die("raw processed " + std::to_string(processed) + " of " + std::to_string(n));
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--child-worker") == 0) {
    return bench::run_queue_worker_process(argv[2], argv[3]);
  }
  store::sqlite::configure_process_allocator();  // as grok's main does
  options opt;
  std::string postgres;
  int repeat = 3;
  bool jobs_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--jobs" && i + 1 < argc) {
      opt.jobs = std::atoi(argv[++i]);
      jobs_given = true;
    } else if (a == "--dir" && i + 1 < argc) {
      opt.dir = argv[++i];
    } else if (a == "--postgres" && i + 1 < argc) {
      postgres = argv[++i];
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: queue_bench [--jobs N] [--dir PATH]                      SQLite "
                   "(20000 jobs)\n"
                   "       queue_bench --postgres URL|auto [--jobs N] [--repeat R]  PostgreSQL "
                   "(1500 jobs, best of 3)\n"
                   "--postgres auto starts a throwaway cluster on 127.0.0.1; a URL names a\n"
                   "database of the bench's own (it is migrated; jobs of topic queue_bench\n"
                   "are deleted between measurements)\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (!postgres.empty()) {
    if (!jobs_given) opt.jobs = 1'500;
    if (opt.jobs < 100 || opt.jobs > 10'000'000) die("--jobs must be 100 to 10000000");
    if (repeat < 1 || repeat > 100) die("--repeat must be 1 to 100");
    return bench::run_queue_bench_postgres(postgres, opt.jobs, repeat);
  }
  if (opt.jobs < 100 || opt.jobs > 10'000'000) die("--jobs must be 100 to 10000000");
  std::string dir = opt.dir;
  if (dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "grok-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) die("mkdtemp failed");
    dir = pattern;
  }
  const auto path = (std::filesystem::path(dir) / "queue.db").string();

  std::printf("bench/queue: SQLite %s, WAL, synchronous=NORMAL, %d jobs per measurement\n",
              sqlite3_libversion(), opt.jobs);
  std::fflush(stdout);
  const double raw = bench_raw(path, opt.jobs);
  const double enqueue = bench_enqueue(path, opt.jobs);
  const double one = bench_claim_ack(path, opt.jobs, 1, 1);
  const double two = bench_claim_ack(path, opt.jobs, 2, 1);
  const double batched_one = bench_claim_ack(path, opt.jobs, 1, 64);
  const double batched_two = bench_claim_ack(path, opt.jobs, 2, 64);

  auto row = [&](const char* name, double rate, bool vs_baseline) {
    if (vs_baseline) {
      std::printf("  %-36s %10.0f jobs/s   %5.1f%% of baseline\n", name, rate, 100.0 * rate / raw);
    } else {
      std::printf("  %-36s %10.0f jobs/s\n", name, rate);
    }
  };
  row("raw SQLite claim+ack (baseline)", raw, false);
  row("enqueue (1 job/transaction)", enqueue, false);
  row("claim+ack, 1 worker (1 job/txn)", one, true);
  row("claim+ack, 2 workers (1 job/txn)", two, true);
  row("claim+ack, 1 worker, batches of 64", batched_one, true);
  row("claim+ack, 2 workers, batches of 64", batched_two, true);

  if (opt.dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}
