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
// PostgreSQL (--postgres URL, or --postgres auto for a throwaway cluster on 127.0.0.1 with
// fsync=off, as the tests start it): the workers are separate processes, each with its
// own connection, as `grok worker` processes on one database are. Each is this program
// re-executed (--child-worker MODE URL INDEX); the parent fills the queue, lets every
// worker connect, starts them at once and times until the last one has found the queue
// empty and said how many jobs it processed.
//   enqueue                 store.enqueue, one job per transaction, one process
//   raw, as the store       the store's FOR UPDATE SKIP LOCKED claim (limit 1) and its ack
//                           UPDATE through libpq (prepared), each in BEGIN … COMMIT as the
//                           store sends them: no queue code around them; 1, 2, 4 processes
//   raw, autocommit         the same two statements without BEGIN/COMMIT (one round trip
//                           each); 1, 2, 4 processes
//   claim+ack               store.claim (limit 1) + store.ack through store::open_store, as
//                           the worker pool does by default; 1, 2, 4 processes, with the
//                           percentage of the raw-as-the-store figure for as many processes
// The bench uses only jobs of topic "queue_bench", deletes them between measurements and
// refuses a database that has claimable jobs of any other topic: give it a database of
// its own (it migrates it to the current schema).
//
// usage: queue_bench [--jobs N] [--dir PATH]         SQLite (default 20000 jobs)
//        queue_bench --postgres URL|auto [--jobs N]  PostgreSQL (default 4000 jobs)
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "pg_cluster.h"
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


// ---- PostgreSQL ---------------------------------------------------------------------------

namespace pg {

constexpr const char* k_topic = "queue_bench";
constexpr const char* k_topics_array = "{\"queue_bench\"}";  // $2::text[] as the store sends it
constexpr std::int64_t k_lease_ms = 60'000;
constexpr auto k_child_timeout = std::chrono::seconds(120);

// The store's claim and ack statements (src/store/postgres/pg_queue.cpp), verbatim.
constexpr const char* k_claim_sql =
    "UPDATE queue SET state = 'leased', attempts = attempts + 1, lease_seq = lease_seq + 1, "
    "locked_by = $3, locked_at = $1, visible_after = $4, updated_at = $1 "
    "WHERE id IN (SELECT id FROM queue WHERE state IN ('ready','leased') "
    "AND visible_after <= $1 AND topic = ANY($2::text[]) ORDER BY visible_after, id "
    "LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING id, topic, payload, dedupe_key, state, attempts, "
    "max_attempts, visible_after, locked_by, lease_seq, locked_at, last_error, created_at, "
    "updated_at";
constexpr const char* k_ack_sql =
    "UPDATE queue SET state = 'done', locked_by = NULL, locked_at = NULL, updated_at = $1, "
    "finished_at = $1 WHERE id = $2 AND state = 'leased' AND locked_by = $3 AND lease_seq = $4";

// One libpq connection, closed at scope end.
class conn {
 public:
  explicit conn(const std::string& url) : c_(PQconnectdb(url.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) die(std::string("connecting: ") + PQerrorMessage(c_));
  }
  ~conn() { PQfinish(c_); }
  conn(const conn&) = delete;
  conn& operator=(const conn&) = delete;

  // A parameterless statement (or several); returns the first column of the first row.
  std::string exec(const std::string& sql) {
    return take(PQexec(c_, sql.c_str()), sql);
  }
  void prepare(const char* name, const char* sql) {
    take(PQprepare(c_, name, sql, 0, nullptr), sql);
  }
  // Runs a prepared statement with text parameters; the caller PQclears the result.
  PGresult* run(const char* name, const std::vector<std::string>& values) {
    const char* v[8];
    for (std::size_t i = 0; i < values.size(); ++i) v[i] = values[i].c_str();
    PGresult* res =
        PQexecPrepared(c_, name, static_cast<int>(values.size()), v, nullptr, nullptr, 0);
    const auto status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string message = PQresultErrorMessage(res);
      PQclear(res);
      die(std::string(name) + ": " + message);
    }
    return res;
  }

 private:
  std::string take(PGresult* res, const std::string& what) {
    const auto status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string message = PQresultErrorMessage(res);
      PQclear(res);
      die(what.substr(0, 60) + ": " + message);
    }
    std::string first;
    if (status == PGRES_TUPLES_OK && PQntuples(res) > 0 && PQnfields(res) > 0) {
      first = PQgetvalue(res, 0, 0);
    }
    PQclear(res);
    return first;
  }
  PGconn* c_;
};

std::string now_ms() { return std::to_string(to_unix_ms(system_clock::instance().now())); }

// Removes the bench's jobs and their dead rows, so each measurement starts from an empty
// queue. Refuses a database with claimable jobs of other topics (someone else's queue).
void reset_queue(const std::string& url) {
  conn c(url);
  const auto others = c.exec(
      std::string("SELECT count(*) FROM queue WHERE state IN ('ready','leased') AND topic <> '") +
      k_topic + "'");
  if (others != "0") {
    die("the database's queue has " + others +
        " claimable jobs of other topics: give queue_bench a database of its own");
  }
  c.exec(std::string("DELETE FROM queue WHERE topic = '") + k_topic + "'");
  c.exec("VACUUM ANALYZE queue");
}

// Fills the queue with `n` ready jobs in one statement, as n enqueues would leave them
// (setup, not measured), then updates the planner's statistics.
void fill(const std::string& url, int n) {
  reset_queue(url);
  conn c(url);
  const auto now = now_ms();
  c.exec(std::string("INSERT INTO queue (topic, payload, state, attempts, max_attempts, "
                     "visible_after, created_at, updated_at) SELECT '") +
         k_topic + "', '{\"n\":1}', 'ready', 0, 5, " + now + ", " + now + ", " + now +
         " FROM generate_series(1, " + std::to_string(n) + ")");
  c.exec("VACUUM ANALYZE queue");
}

// ---- in a worker process (--child-worker MODE URL INDEX) ----

// Tells the parent we are connected, then waits for the start: EOF on stdin, which the
// parent gives every worker at once by closing the pipe's only write end.
void await_start() {
  std::printf("ready\n");
  std::fflush(stdout);
  char buf[64];
  while (true) {
    const auto got = read(STDIN_FILENO, buf, sizeof buf);
    if (got == 0) return;
    if (got < 0 && errno != EINTR) die("reading the start signal failed");
  }
}

int child_store(const std::string& url, const std::string& worker) {
  auto st = store::open_store(
      {.url = url, .migrate = false, .follow_events = false, .pool_size = 1});
  if (!st) die(describe(st.error()));
  const store::claim_request req{{k_topic}, worker, millis(k_lease_ms), 1};
  await_start();
  long processed = 0;
  while (true) {
    auto jobs = (*st)->claim(req);
    if (!jobs) die(describe(jobs.error()));
    if (jobs->empty()) break;
    if (auto r = (*st)->ack((*jobs)[0].held_lease()); !r) die(describe(r.error()));
    ++processed;
  }
  std::printf("done %ld\n", processed);
  std::fflush(stdout);
  return 0;
}

int child_raw(const std::string& url, const std::string& worker, bool in_transactions) {
  conn c(url);
  c.prepare("claim", k_claim_sql);
  c.prepare("ack", k_ack_sql);
  await_start();
  long processed = 0;
  while (true) {
    const auto now = now_ms();
    const auto until = std::to_string(std::stoll(now) + k_lease_ms);
    if (in_transactions) c.exec("BEGIN");
    PGresult* claimed = c.run("claim", {now, k_topics_array, worker, until, "1"});
    const int rows = PQntuples(claimed);
    std::string id;
    std::string seq;
    if (rows == 1) {
      id = PQgetvalue(claimed, 0, PQfnumber(claimed, "id"));
      seq = PQgetvalue(claimed, 0, PQfnumber(claimed, "lease_seq"));
    }
    PQclear(claimed);
    if (in_transactions) c.exec("COMMIT");
    if (rows == 0) break;
    if (in_transactions) c.exec("BEGIN");
    PGresult* acked = c.run("ack", {now, id, worker, seq});
    const bool ok = std::string(PQcmdTuples(acked)) == "1";
    PQclear(acked);
    if (!ok) die("raw ack of job " + id + " touched no row");
    if (in_transactions) c.exec("COMMIT");
    ++processed;
  }
  std::printf("done %ld\n", processed);
  std::fflush(stdout);
  return 0;
}

int child_main(const std::string& mode, const std::string& url, const std::string& index) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the parent
  const auto worker = "bench-" + mode + "-" + index;
  if (mode == "store") return child_store(url, worker);
  if (mode == "raw-tx") return child_raw(url, worker, true);
  if (mode == "raw-auto") return child_raw(url, worker, false);
  die("unknown worker mode " + mode);
}

// ---- in the parent ----

struct worker_process {
  pid_t pid = -1;
  int out = -1;     // its stdout
  std::string buf;  // read from it, not yet a whole line
};

// Reads from the workers until each has written a line starting with `word`; returns the
// rest of each one's line. Dies if a worker exits first or the timeout passes.
std::vector<std::string> await_lines(std::vector<worker_process>& workers,
                                     const std::string& word) {
  std::vector<std::string> rest(workers.size());
  std::vector<bool> have(workers.size(), false);
  std::size_t missing = workers.size();
  const auto deadline = steady::now() + k_child_timeout;
  while (missing > 0) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      if (have[i]) continue;
      fds.push_back({workers[i].out, POLLIN, 0});
      which.push_back(i);
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    if (left <= 0) die("a worker process did not say '" + word + "' in time");
    if (poll(fds.data(), fds.size(), static_cast<int>(left)) < 0 && errno != EINTR) {
      die("poll failed");
    }
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      auto& w = workers[which[k]];
      char chunk[256];
      const auto got = read(w.out, chunk, sizeof chunk);
      if (got <= 0) die("worker process " + std::to_string(w.pid) + " exited early");
      w.buf.append(chunk, static_cast<std::size_t>(got));
      const auto nl = w.buf.find('\n');
      if (nl == std::string::npos) continue;
      const auto line = w.buf.substr(0, nl);
      w.buf.erase(0, nl + 1);
      if (line.rfind(word, 0) != 0) die("worker process said '" + line + "'");
      rest[which[k]] = line.substr(word.size());
      have[which[k]] = true;
      --missing;
    }
  }
  return rest;
}

// Starts `processes` workers of `mode` on a queue of `jobs` ready jobs; returns jobs/s from
// the start signal to the last worker finding the queue empty.
double bench_processes(const std::string& self, const std::string& url, const std::string& mode,
                       int processes, int jobs) {
  fill(url, jobs);
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) die("pipe failed");
  std::vector<worker_process> workers;
  for (int i = 0; i < processes; ++i) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) die("pipe failed");
    const std::string index = std::to_string(i);
    std::vector<std::string> args{self, "--child-worker", mode, url, index};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
      // dup2 clears close-on-exec on the copies: the worker keeps only these two.
      if (dup2(go[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0) _exit(126);
      execv(self.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    workers.push_back({pid, out[0], {}});
  }
  close(go[0]);
  (void)await_lines(workers, "ready");
  const auto start = steady::now();
  close(go[1]);  // every worker reads EOF: go
  const auto counts = await_lines(workers, "done ");
  const double secs = seconds_since(start);
  long processed = 0;
  for (const auto& c : counts) processed += std::stol(c);
  for (auto& w : workers) {
    int status = 0;
    if (waitpid(w.pid, &status, 0) != w.pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      die("worker process " + std::to_string(w.pid) + " failed");
    }
    close(w.out);
  }
  if (processed != jobs) {
    die(mode + ": processed " + std::to_string(processed) + " of " + std::to_string(jobs));
  }
  return jobs / secs;
}

double bench_enqueue(const std::string& url, int n) {
  reset_queue(url);
  auto st = store::open_store({.url = url, .migrate = false, .follow_events = false});
  if (!st) die(describe(st.error()));
  auto start = steady::now();
  for (int i = 0; i < n; ++i) {
    if (auto r = (*st)->enqueue({.topic = k_topic, .payload = R"({"n":1})"}); !r) {
      die(describe(r.error()));
    }
  }
  return n / seconds_since(start);
}

int run(const std::string& target, int jobs) {
  std::string url = target;
  std::string where = "at the given URL";
  if (target == "auto") {
    try {
      url = bench::throwaway_database("queue_bench");
    } catch (const std::exception& e) {
      die(e.what());
    }
    where = "throwaway cluster on 127.0.0.1";
  }
  {
    // Creates the schema (or brings it up to date) once; the workers only check it.
    auto st = store::open_store({.url = url, .follow_events = false});
    if (!st) die(describe(st.error()));
  }
  std::string version;
  std::string fsync;
  std::string sync_commit;
  {
    conn c(url);
    version = c.exec("SHOW server_version");
    fsync = c.exec("SHOW fsync");
    sync_commit = c.exec("SHOW synchronous_commit");
  }
  char self_buf[4096];
  const auto len = readlink("/proc/self/exe", self_buf, sizeof self_buf - 1);
  if (len <= 0) die("cannot find this program's path");
  const std::string self(self_buf, static_cast<std::size_t>(len));

  std::printf(
      "bench/queue: PostgreSQL %s (%s; fsync=%s, synchronous_commit=%s), %d jobs per "
      "measurement, workers are processes with a connection each\n",
      version.c_str(), where.c_str(), fsync.c_str(), sync_commit.c_str(), jobs);
  std::fflush(stdout);
  auto row = [](const std::string& name, double rate, double baseline) {
    if (baseline > 0) {
      std::printf("  %-48s %10.0f jobs/s   %5.1f%% of baseline\n", name.c_str(), rate,
                  100.0 * rate / baseline);
    } else {
      std::printf("  %-48s %10.0f jobs/s\n", name.c_str(), rate);
    }
    std::fflush(stdout);
  };
  const int counts[] = {1, 2, 4};
  auto label = [](const char* what, int n) {
    return std::string(what) + ", " + std::to_string(n) + (n == 1 ? " process" : " processes");
  };
  double raw_tx[3] = {};
  for (int i = 0; i < 3; ++i) {
    raw_tx[i] = bench_processes(self, url, "raw-tx", counts[i], jobs);
    row(label("raw claim+ack, BEGIN/COMMIT (baseline)", counts[i]), raw_tx[i], 0);
  }
  for (int i = 0; i < 3; ++i) {
    row(label("raw claim+ack, autocommit", counts[i]),
        bench_processes(self, url, "raw-auto", counts[i], jobs), 0);
  }
  row("enqueue (1 job/transaction, 1 process)", bench_enqueue(url, jobs), 0);
  for (int i = 0; i < 3; ++i) {
    row(label("claim+ack (1 job/txn)", counts[i]),
        bench_processes(self, url, "store", counts[i], jobs), raw_tx[i]);
  }
  reset_queue(url);
  bench::stop_throwaway_cluster();
  return 0;
}

}  // namespace pg

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--child-worker") == 0) {
    return pg::child_main(argv[2], argv[3], argv[4]);
  }
  store::sqlite::configure_process_allocator();  // as grok's main does
  options opt;
  std::string postgres;
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
    } else {
      std::fprintf(stderr,
                   "usage: queue_bench [--jobs N] [--dir PATH]          SQLite (20000 jobs)\n"
                   "       queue_bench --postgres URL|auto [--jobs N]   PostgreSQL (4000 jobs)\n"
                   "--postgres auto starts a throwaway cluster on 127.0.0.1; a URL names a\n"
                   "database of the bench's own (it is migrated; jobs of topic queue_bench\n"
                   "are deleted between measurements)\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (!postgres.empty()) {
    if (!jobs_given) opt.jobs = 4'000;
    if (opt.jobs < 100 || opt.jobs > 10'000'000) die("--jobs must be 100 to 10000000");
    return pg::run(postgres, opt.jobs);
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
