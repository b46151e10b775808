// bench/engine: whole runs per second through the engine, durable on SQLite (or on
// PostgreSQL) with every event stored, with a zero-latency model in the same process (no
// HTTP), so the figure is the engine's own cost: jobs, transactions, events, model-call
// records, tool calls.
//
// Each run: plan (one model call) → three calculator steps, the last two using #E1 → solve
// (one model call). Measured sequentially (one run at a time) and with 16 runs in flight,
// on 4 worker threads. Peak RSS is the process's high-water mark at the end.
//
// On PostgreSQL the store is opened as `grok serve` opens it (it follows its own events
// through LISTEN/NOTIFY, which is how the bench learns that runs ended), so the figures
// include the notification round trip.
//
// usage: engine_bench [--runs N] [--dir PATH] [--workers N] [--keep]       SQLite
//        engine_bench --db postgres://… | --postgres URL|auto [--runs N] [--workers N]
// --keep leaves the database of the second measurement in --dir for inspection.
// --postgres auto runs each measurement in a new database on a throwaway cluster on
// 127.0.0.1 (fsync=off), as the tests start it; with a URL, both measurements run in that
// database (migrated first) and their runs are left in it: give it a database of its own,
// with no `grok serve` or `grok worker` attached.
#include <libpq-fe.h>
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/events.h"
#include "engine/models.h"
#include "pg_cluster.h"
#include "store/open_store.h"
#include "store/postgres/pg_connection.h"
#include "store/sqlite/sqlite_store.h"
#include "tools/calculator.h"

using namespace grok;
using steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "engine_bench: %s\n", what.c_str());
  std::exit(1);
}

// Answers the planner with a fixed three-step plan and the solver with a fixed answer,
// with usage reports, at once.
class instant_model final : public llm::chat_model {
 public:
  llm::llm_result<llm::chat_response> complete(const llm::chat_request& request,
                                               const llm::call_options& options) override {
    llm::chat_response r;
    r.id = "instant";
    r.model = request.model;
    r.finish_reason = "stop";
    r.usage = llm::token_usage{120, 40};
    if (request.json_schema) {
      r.content = R"({"steps":[{"id":"E1","tool":"calculator","args":{"expression":"6*7"}},)"
                  R"({"id":"E2","tool":"calculator","args":{"expression":"#E1 + 1"}},)"
                  R"({"id":"E3","tool":"calculator","args":{"expression":"#E1 * 2"}}]})";
    } else {
      r.content = "The answers are 43 and 84.";
      if (options.on_delta) options.on_delta(r.content);
    }
    return r;
  }
};

struct setup {
  std::unique_ptr<store::store> st;
  std::unique_ptr<tools::tool_registry> tools;
  instant_model model;
  std::unique_ptr<engine::single_model> models;
  std::unique_ptr<engine::engine> eng;
  std::unique_ptr<queue::worker_pool> pool;
};

// `target`: a SQLite file (removed first) or a postgres:// URL.
std::unique_ptr<setup> make_setup(const std::string& target, int workers) {
  const bool postgres = target.rfind("postgres", 0) == 0;
  if (!postgres) {
    for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(target + suffix);
  }
  auto s = std::make_unique<setup>();
  auto st = store::open_store({.url = postgres ? target : "sqlite://" + target});
  if (!st) die(describe(st.error()));
  s->st = std::move(*st);
  s->tools = std::make_unique<tools::tool_registry>();
  if (auto r = s->tools->add(tools::make_calculator_tool()); !r) die(r.error().message);
  s->models = std::make_unique<engine::single_model>(s->model, "instant", "instant-model");
  engine::engine_options options;
  auto eng = engine::engine::create(*s->st, *s->tools, *s->models, options);
  if (!eng) die(describe(eng.error()));
  s->eng = std::move(*eng);
  queue::worker_pool_options pool_options;
  pool_options.workers = workers;
  s->pool = std::make_unique<queue::worker_pool>(*s->st, pool_options);
  s->eng->register_handlers(*s->pool);
  s->pool->start();
  return s;
}

// Runs `runs` runs keeping `in_flight` of them outstanding; returns seconds taken. Run ends
// are learnt from the store's event feed, as a stream would, not by polling the runs.
double drive(setup& s, int runs, int in_flight) {
  std::mutex mutex;
  std::condition_variable ended_cv;
  std::vector<std::pair<std::string, std::string>> ended;  // run id, terminal event type
  store::feed_subscription feed(s.st->events_feed(), [&](const auto& events) {
    for (const auto& e : events) {
      if (!engine::is_terminal_event(e.type)) continue;
      {
        std::lock_guard lock(mutex);
        ended.emplace_back(e.run_id, e.type);
      }
      ended_cv.notify_one();
    }
  });
  int submitted = 0;
  int finished = 0;
  const auto start = steady::now();
  auto submit = [&] {
    engine::create_run_request req;
    req.input = "What is 6*7, plus one, and doubled?";
    auto run = s.eng->create_run(req);
    if (!run) die(describe(run.error()));
    ++submitted;
  };
  while (submitted < runs && submitted < in_flight) submit();
  while (finished < runs) {
    std::vector<std::pair<std::string, std::string>> now;
    {
      std::unique_lock lock(mutex);
      if (!ended_cv.wait_for(lock, std::chrono::seconds(10), [&] { return !ended.empty(); })) {
        die("no run ended in 10 s");
      }
      now.swap(ended);
    }
    for (const auto& [id, type] : now) {
      if (type != "run.completed") {
        auto run = s.st->get_run(id);
        die("run " + id + " ended with " + type + ": " +
            (run && *run ? (*run)->error_message.value_or("") : std::string("?")));
      }
      ++finished;
      if (submitted < runs) submit();
    }
  }
  return std::chrono::duration<double>(steady::now() - start).count();
}

void report(const char* label, int runs, double secs) {
  std::printf("%-34s %8.0f runs/s   %7.2f ms/run (mean)\n", label, runs / secs, secs * 1000 / runs);
  std::fflush(stdout);
}

// "PostgreSQL 15.4 (where; fsync=…, synchronous_commit=…)", from the server itself.
std::string describe_postgres(const std::string& url, const std::string& where) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    die("connecting to PostgreSQL: " + message);
  }
  auto show = [&](const char* setting) {
    PGresult* res = PQexec(conn, (std::string("SHOW ") + setting).c_str());
    std::string value = PQresultStatus(res) == PGRES_TUPLES_OK ? PQgetvalue(res, 0, 0) : "?";
    PQclear(res);
    return value;
  };
  std::string out = "PostgreSQL " + show("server_version") + " (" + where +
                    "; fsync=" + show("fsync") +
                    ", synchronous_commit=" + show("synchronous_commit") + ")";
  PQfinish(conn);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  store::sqlite::configure_process_allocator();
  int runs = 1000;
  int workers = 4;
  bool keep = false;
  std::string dir = std::filesystem::temp_directory_path().string();
  std::string postgres;  // a postgres:// URL, or "auto"
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (arg == "--workers" && i + 1 < argc) {
      workers = std::atoi(argv[++i]);
    } else if (arg == "--keep") {
      keep = true;
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if ((arg == "--db" || arg == "--postgres") && i + 1 < argc) {
      postgres = argv[++i];
      if (postgres != "auto" && postgres.rfind("postgres://", 0) != 0 &&
          postgres.rfind("postgresql://", 0) != 0) {
        die(arg + " takes a postgres:// URL" + (arg == "--postgres" ? " or auto" : "") +
            " (SQLite is the default: --dir)");
      }
    } else {
      std::fprintf(stderr,
                   "usage: engine_bench [--runs N] [--workers N] [--dir PATH] [--keep]   SQLite\n"
                   "       engine_bench --db postgres://… | --postgres URL|auto [--runs N] "
                   "[--workers N]\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (runs < 1 || workers < 1) die("--runs and --workers must be positive");
  const auto path = dir + "/grok-engine-bench-" + std::to_string(getpid()) + ".db";
  // Where each of the two measurements runs: a SQLite file (recreated) or a database URL.
  std::string first = path;
  std::string second = path;
  std::string backend = "SQLite (WAL, synchronous=normal)";
  if (postgres == "auto") {
    try {
      first = bench::throwaway_database("engine_bench_sequential");
      second = bench::throwaway_database("engine_bench_in_flight");
    } catch (const std::exception& e) {
      die(e.what());
    }
    backend = describe_postgres(first, "throwaway cluster on 127.0.0.1, a database each");
  } else if (!postgres.empty()) {
    first = second = postgres;
    backend = describe_postgres(postgres, store::postgres::redact_url(postgres));
  }
  std::printf(
      "bench/engine: %d runs of a 3-step plan, zero-latency in-process model, %s, %d workers\n",
      runs, backend.c_str(), workers);
  std::fflush(stdout);
  {
    auto s = make_setup(first, workers);
    report("sequential (1 in flight)", runs, drive(*s, runs, 1));
    s->pool->stop();
    auto stored = s->st->events_after((*s->st->list_runs({.limit = 1}))[0].id, 0, 1000);
    std::printf("%-34s %8zu per run\n", "events stored", stored ? stored->size() : 0);
    std::fflush(stdout);
  }
  {
    auto s = make_setup(second, workers);
    report("16 in flight", runs, drive(*s, runs, 16));
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("%-34s %8.1f MB\n", "peak RSS", static_cast<double>(usage.ru_maxrss) / 1024.0);
  if (postgres.empty() && !keep)
    for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  bench::stop_throwaway_cluster();
  return 0;
}
