// bench/queue on PostgreSQL: see queue_bench_postgres.h.
#include "queue_bench_postgres.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "core/clock.h"
#include "pg_cluster.h"
#include "store/columns.h"
#include "store/open_store.h"
#include "store/postgres/pg_connection.h"

namespace grok::bench {
namespace {

using steady = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "queue_bench: %s\n", what.c_str());
  std::exit(1);
}

double seconds_since(steady::time_point start) {
  return std::chrono::duration<double>(steady::now() - start).count();
}

constexpr const char* k_topic = "queue_bench";
constexpr const char* k_topics_array = "{\"queue_bench\"}";  // $2::text[] as the store sends it
constexpr std::int64_t k_lease_ms = 60'000;
constexpr auto k_child_timeout = std::chrono::seconds(120);
// The database URL reaches the worker processes through the environment, not their
// command line, where any user's `ps` would show a password in it.
constexpr const char* k_url_variable = "GROK_QUEUE_BENCH_URL";

// The store's claim and ack statements (src/store/postgres/pg_queue.cpp), verbatim. The
// store's claim transaction also runs a sweep first (final-attempt leases that ran out go
// dead): that is queue code, left out of the baseline as on SQLite.
const std::string k_claim_sql =
    std::string(
        "UPDATE queue SET state = 'leased', attempts = attempts + 1, "
        "lease_seq = lease_seq + 1, locked_by = $3, locked_at = $1, "
        "visible_after = $4, updated_at = $1 "
        "WHERE id IN (SELECT id FROM queue WHERE state IN ('ready','leased') "
        "AND visible_after <= $1 AND topic = ANY($2::text[]) "
        "AND (state = 'ready' OR attempts < max_attempts) "
        "ORDER BY visible_after, id LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING ") +
    store::k_job_columns;
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
  std::string exec(const std::string& sql) { return take(PQexec(c_, sql.c_str()), sql); }
  void prepare(const char* name, const char* sql) {
    (void)take(PQprepare(c_, name, sql, 0, nullptr), sql);
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
        " claimable job(s) of other topics: give queue_bench a database of its own");
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

// ---- in a worker process (--child-worker MODE INDEX) ----

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
  auto st =
      store::open_store({.url = url, .migrate = false, .follow_events = false, .pool_size = 1});
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
  c.prepare("claim", k_claim_sql.c_str());
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
  setenv(k_url_variable, url.c_str(), 1);
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) die("pipe failed");
  std::vector<worker_process> workers;
  for (int i = 0; i < processes; ++i) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) die("pipe failed");
    const std::string index = std::to_string(i);
    std::vector<std::string> args{self, "--child-worker", mode, index};
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

}  // namespace

int run_queue_worker_process(const std::string& mode, const std::string& index) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the parent
  const char* from_parent = std::getenv(k_url_variable);
  if (from_parent == nullptr) die(std::string(k_url_variable) + " is not set");
  const std::string url = from_parent;
  const auto worker = "bench-" + mode + "-" + index;
  if (mode == "store") return child_store(url, worker);
  if (mode == "raw-tx") return child_raw(url, worker, true);
  if (mode == "raw-auto") return child_raw(url, worker, false);
  die("unknown worker mode " + mode);
}

int run_queue_bench_postgres(const std::string& target, int jobs, int repeat) {
  std::string url = target;
  std::string where = store::postgres::redact_url(target);
  if (target == "auto") {
    try {
      url = throwaway_database("queue_bench");
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
  reset_queue(url);  // refuses someone else's queue before anything is measured
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
      "measurement, best of %d, workers are processes with a connection each\n",
      version.c_str(), where.c_str(), fsync.c_str(), sync_commit.c_str(), jobs, repeat);
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
  auto label = [](const char* what, int n) {
    return std::string(what) + ", " + std::to_string(n) + (n == 1 ? " process" : " processes");
  };
  // Best of `repeat` rounds: on a shared machine the other load only ever slows a round.
  const int processes[] = {1, 2, 4};
  const char* modes[] = {"raw-tx", "raw-auto", "store"};
  double enqueue = 0;
  double best[3][3] = {};  // [processes][mode]
  for (int round = 0; round < repeat; ++round) {
    enqueue = std::max(enqueue, bench_enqueue(url, jobs));
    for (int p = 0; p < 3; ++p) {
      for (int m = 0; m < 3; ++m) {
        best[p][m] = std::max(best[p][m], bench_processes(self, url, modes[m], processes[p], jobs));
      }
    }
  }
  row("enqueue (1 job/transaction, 1 process)", enqueue, 0);
  for (int p = 0; p < 3; ++p) {
    row(label("raw, BEGIN/COMMIT (baseline)", processes[p]), best[p][0], 0);
    row(label("raw, autocommit", processes[p]), best[p][1], 0);
    row(label("claim+ack (1 job/txn)", processes[p]), best[p][2], best[p][0]);
  }
  reset_queue(url);
  stop_throwaway_cluster();
  return 0;
}

}  // namespace grok::bench
