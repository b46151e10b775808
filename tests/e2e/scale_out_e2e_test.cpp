// Scale-out as an operator runs it: one PostgreSQL, two `grok serve --no-workers` API
// processes and three `grok worker` processes, against the scripted fake model server.
//
// - 200 runs are submitted across both APIs (alternating), each with its own
//   Idempotency-Key; a POST that fails with 503 or a broken connection is sent again with
//   the same key, so a run is never created twice (checked: exactly 200 runs exist).
// - Mid-way one worker process is SIGKILLed while it is inside a planner call (a "slow"
//   run's planner answer takes seconds); its leases run out and the other two workers take
//   its jobs over. Later the database itself is restarted (fast shutdown, then started on
//   the same port and data) while runs are in flight.
// - Every run completes; no step whose result was stored ran again (see check_run); and an
//   SSE client on API 1 that follows runs submitted to API 2 receives every event of each,
//   seq 1..N gapless, in order, ending with the terminal event, reconnecting with
//   Last-Event-ID like a real client if a stream ends early.
//
// A second test shares one rate-limit bucket between the two API processes through a real
// redis-server.
//
// Waits on the external processes are poll loops with a short pause, under generous
// overall deadlines; nothing asserts on time.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests_support/api_client.h"
#include "tests_support/fake_model_server.h"
#include "tests_support/grok_server.h"
#include "tests_support/grok_worker.h"
#include "tests_support/pg_server.h"
#include "tests_support/redis_server.h"

namespace grok {
namespace {

using json = nlohmann::json;
using testing::api_call;
using testing::api_response;
using testing::fake_model_server;
using testing::grok_server;
using testing::grok_worker;
using testing::pg_server;
using testing::sse_event;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int k_runs = 200;
constexpr int k_worker_processes = 3;
constexpr int k_threads_per_worker = 2;
// The runs submitted to API 2 whose events API 1 streams: every fifth of them.
constexpr int k_follow_every = 5;
// Runs submitted at these indexes are "slow": the planner answers them after
// k_slow_planner_ms. The first batch is what the killed worker is caught working on (six,
// one per worker thread: at most four fit on the two other workers, so the third worker
// must take one); the second batch is in flight while the database restarts.
constexpr int k_kill_batch_first = 60;
constexpr int k_kill_batch_size = k_worker_processes * k_threads_per_worker;
constexpr int k_restart_batch_first = 120;
constexpr int k_restart_batch_size = 2;
constexpr int k_slow_planner_ms = 2000;
// A killed worker's jobs are claimed again once their leases run out.
constexpr int k_lease_ms = 2000;

const std::string k_json = "Content-Type: application/json";
const std::string k_slow_marker = "[slow]";

std::string bearer(const std::string& key) { return "Authorization: Bearer " + key; }

bool is_terminal(const std::string& type) {
  return type == "run.completed" || type == "run.failed" || type == "run.cancelled";
}

constexpr bool is_slow(int i) {
  return (i >= k_kill_batch_first && i < k_kill_batch_first + k_kill_batch_size) ||
         (i >= k_restart_batch_first && i < k_restart_batch_first + k_restart_batch_size);
}

// Run i goes to API 1 when even, API 2 when odd; API 2's runs 1, 11, 21, … are followed.
constexpr bool is_followed(int i) { return i % 2 == 1 && ((i - 1) / 2) % k_follow_every == 0; }
static_assert(is_followed(k_restart_batch_first + 1) && is_slow(k_restart_batch_first + 1),
              "a run of the restart batch is followed");

// A plan of three calculator steps (E2 and E3 both wait for E1, then run in parallel),
// and a streamed answer. Tasks with the slow marker get the same plan, late.
json script() {
  const json plan = {
      {"steps",
       {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "6 * 7"}}}},
        {{"id", "E2"}, {"tool", "calculator"}, {"args", {{"expression", "#E1 + 1"}}}},
        {{"id", "E3"}, {"tool", "calculator"}, {"args", {{"expression", "#E1 * 2"}}}}}}};
  return {{"rules",
           {{{"match", {{"model", "planner-m"}, {"contains", k_slow_marker}}},
             {"reply", {{"json", plan}, {"usage", true}, {"delay_ms", k_slow_planner_ms}}}},
            {{"match", {{"model", "planner-m"}}},
             {"reply", {{"json", plan}, {"usage", true}, {"delay_ms", 20}}}},
            {{"match", {{"model", "solver-m"}}},
             {"reply",
              {{"content", "The answer is 43."},
               {"usage", true},
               {"chunk_chars", 4},
               {"chunk_delay_ms", 5}}}}}}};
}

// The environment every grok process of a test gets: the shared database, the fake model
// server, short leases (a killed worker's jobs come back quickly), short retry delays, a
// rate limit the test's own traffic never reaches, and no scheduled maintenance.
std::map<std::string, std::string> process_env(const std::string& db, const std::string& llm) {
  return {{"GROK_DB", db},
          {"GROK_LLM_BASE_URL", llm},
          {"GROK_PLANNER_MODEL", "planner-m"},
          {"GROK_SOLVER_MODEL", "solver-m"},
          {"GROK_QUEUE_LEASE_MS", std::to_string(k_lease_ms)},
          {"GROK_QUEUE_IDLE_RECHECK_MS", "250"},
          {"GROK_QUEUE_BACKOFF_BASE_MS", "50"},
          {"GROK_QUEUE_BACKOFF_CAP_MS", "500"},
          {"GROK_HTTP_RATE_PER_SECOND", "100000"},
          {"GROK_HTTP_RATE_BURST", "1000000"},
          {"GROK_RETENTION_INTERVAL_S", "0"},
          {"GROK_BACKUP_INTERVAL_S", "0"},
          {"GROK_LOG_LEVEL", "info"}};
}

std::chrono::milliseconds left_until(steady::time_point deadline) {
  return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()),
                  std::chrono::milliseconds(1));
}

// Waiting on another process between two looks.
void pause_between_polls() { std::this_thread::sleep_for(100ms); }

// A GET that rides out the database restart: a broken connection or a 503 is tried again
// until the deadline; the last response otherwise (status 0 if none ever came).
api_response get_retrying(const std::string& url, const std::string& key,
                          steady::time_point deadline) {
  api_response last;
  while (true) {
    try {
      last = api_call("GET", url, {bearer(key)}, "", 10s);
      if (last.status != 503) return last;
    } catch (const std::runtime_error&) {
      last = api_response{};
    }
    if (steady::now() >= deadline) return last;
    pause_between_polls();
  }
}

struct submitted_run {
  int index = 0;
  std::string id;
  int api = 1;  // 1 or 2
};

// POST /v1/runs with Idempotency-Key "scale-out-<i>". A 503 or a broken connection (the
// database restarting) is sent again, with the same key and body: whether or not the first
// attempt created the run, the key makes the retry answer with that one run.
struct submit_stats {
  int retries = 0;
  int replayed = 0;  // retries answered 200 with the run an earlier attempt created
};

std::string submit(const grok_server& api, const std::string& key, int i, submit_stats& stats,
                   steady::time_point deadline) {
  const std::string input = "Run " + std::to_string(i) + (is_slow(i) ? " " + k_slow_marker : "") +
                            ": what is 6 times 7, plus one, and twice it?";
  const std::vector<std::string> headers{bearer(key), k_json,
                                         "Idempotency-Key: scale-out-" + std::to_string(i)};
  const std::string body = json{{"input", input}}.dump();
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      ++stats.retries;
      if (steady::now() >= deadline) break;
      pause_between_polls();
    }
    api_response r;
    try {
      r = api_call("POST", api.url("/v1/runs"), headers, body, 10s);
    } catch (const std::runtime_error&) {
      continue;
    }
    if (r.status == 503) continue;
    if (r.status == 200 || r.status == 201) {
      if (r.status == 200) ++stats.replayed;
      return r.json().value("id", "");
    }
    ADD_FAILURE() << "POST /v1/runs for run " << i << ": " << r.status << " " << r.body;
    return "";
  }
  ADD_FAILURE() << "POST /v1/runs for run " << i << " kept failing until the deadline";
  return "";
}

// What an SSE client on API 1 received for one run, connection by connection.
struct follower {
  std::string run_id;
  int index = 0;                                    // of the run
  std::atomic<int> received{0};                     // events so far, over all connections
  std::vector<std::vector<sse_event>> connections;  // non-empty ones only
  int refused = 0;  // connection attempts answered with something other than a stream
  bool finished = false;
};

// Follows a run's stream to its terminal event as a real client does: a stream that ends
// (or breaks) early is opened again with Last-Event-ID set to the last id received; an
// attempt that is refused (503 while the database is away) is tried again shortly.
void follow(const std::string& url, const std::string& key, follower& f,
            steady::time_point deadline, const std::atomic<bool>& stop) {
  std::string last_id;
  while (!f.finished && !stop && steady::now() < deadline) {
    std::vector<sse_event> got;
    std::vector<std::string> headers{bearer(key)};
    if (!last_id.empty()) headers.push_back("Last-Event-ID: " + last_id);
    long status = 0;
    try {
      auto r = testing::read_sse(url, headers, left_until(deadline), [&](const sse_event& e) {
        got.push_back(e);  // kept here even if the connection breaks later
        ++f.received;
        return is_terminal(e.event);
      });
      status = r.status;
    } catch (const std::runtime_error&) {
      // The connection broke; what arrived before is in `got`.
    }
    if (got.empty()) {
      if (status != 200) ++f.refused;
      pause_between_polls();
      continue;
    }
    last_id = got.back().id;
    f.finished = is_terminal(got.back().event);
    f.connections.push_back(std::move(got));
  }
}

// The SSE clients' threads. Joined by join(); on a failed assertion's early return, the
// destructor ends them: it stops the API they stream from (so open streams end), and they
// stop reconnecting.
struct follower_threads {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  grok_server* api = nullptr;

  void join() {
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }
  ~follower_threads() {
    stop = true;
    if (std::any_of(threads.begin(), threads.end(), [](auto& t) { return t.joinable(); })) {
      api->stop();
    }
    join();
  }
};

// A run's stored events, from GET /v1/runs/{id}/events (at most 1000: plenty here).
std::vector<json> stored_events(const grok_server& api, const std::string& key,
                                const std::string& run_id, steady::time_point deadline) {
  auto r = get_retrying(api.url("/v1/runs/" + run_id + "/events?limit=1000"), key, deadline);
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<json> out;
  for (const auto& e : r.json().value("data", json::array())) out.push_back(e);
  return out;
}

// Checks one completed run; returns how many step starts were repeated (a step started
// again after its process died or its lease ran out before its result was stored).
//
// "No completed step ran twice": every state change of a step is an event appended in the
// same transaction as the change (and, for a result, as the acknowledgement of its job, so
// that a worker whose lease was taken over cannot commit one). So a step whose result was
// stored twice would show two `step.completed` events, and a step that ran again after its
// result was stored would show a `step.started` or `tool.requested` after its
// `step.completed`. Starting a step again before its result was stored is allowed: that is
// how a killed worker's step is resumed (tools are called at least once). The step's
// `attempts` counter must match its `step.started` events, and the run has exactly one
// plan (a planner step completed twice would add a second `plan.created`).
int check_run(const std::string& run_id, const json& run, const std::vector<json>& events) {
  SCOPED_TRACE(run_id);
  EXPECT_EQ(run.value("status", ""), "completed") << run.dump();
  EXPECT_EQ(run.value("answer", ""), "The answer is 43.");
  if (events.empty()) {
    ADD_FAILURE() << "no events";
    return 0;
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].value("seq", 0), static_cast<int>(i + 1)) << "gapless, in order";
    EXPECT_EQ(events[i].value("run_id", ""), run_id);
  }
  EXPECT_EQ(events.front().value("event", ""), "run.created");
  EXPECT_EQ(events.back().value("event", ""), "run.completed");
  int terminal = 0;
  int plans = 0;
  std::map<std::string, int> completed_at;  // step id -> seq of its step.completed
  std::map<std::string, int> completions;
  std::map<std::string, int> starts;
  for (const auto& e : events) {
    const std::string type = e.value("event", "");
    const std::string step = e.value("step_id", "");
    const int seq = e.value("seq", 0);
    terminal += is_terminal(type) ? 1 : 0;
    plans += type == "plan.created" ? 1 : 0;
    if (type == "step.completed") {
      ++completions[step];
      completed_at.emplace(step, seq);
    }
    if (type == "step.started") ++starts[step];
    if ((type == "step.started" || type == "tool.requested") && completed_at.count(step) != 0) {
      ADD_FAILURE() << "step " << step << " " << type << " at seq " << seq
                    << " after its result was stored at seq " << completed_at[step];
    }
  }
  EXPECT_EQ(terminal, 1);
  EXPECT_EQ(plans, 1);
  const auto& steps = run.value("steps", json::array());
  EXPECT_EQ(steps.size(), 5U) << steps.dump();  // planner, E1..E3, solver
  std::map<std::string, std::string> outputs;
  int repeated_starts = 0;
  for (const auto& s : steps) {
    const std::string id = s.value("id", "");
    const std::string name = s.value("name", "");
    EXPECT_EQ(s.value("status", ""), "completed") << name;
    EXPECT_EQ(completions[id], 1) << name << ": its result was stored once";
    EXPECT_EQ(s.value("attempts", 0), starts[id]) << name;
    repeated_starts += std::max(0, starts[id] - 1);
    if (s["output"].is_string()) outputs[name] = s["output"].get<std::string>();
  }
  EXPECT_EQ(outputs["worker.E1"], "42");
  EXPECT_EQ(outputs["worker.E2"], "43");
  EXPECT_EQ(outputs["worker.E3"], "84");
  return repeated_starts;
}

// Checks what the SSE client received against the run's stored events: per connection,
// consecutive ids from where the previous one stopped (no gap, no duplicate); together,
// every stored event 1..N exactly as stored, ending with the terminal event.
void check_followed(const follower& f, const std::vector<json>& stored) {
  SCOPED_TRACE("followed run " + f.run_id);
  EXPECT_TRUE(f.finished) << "the stream did not reach the terminal event";
  std::vector<sse_event> all;
  for (const auto& connection : f.connections) {
    const std::int64_t from = static_cast<std::int64_t>(all.size());
    for (std::size_t i = 0; i < connection.size(); ++i) {
      EXPECT_EQ(connection[i].id, std::to_string(from + static_cast<std::int64_t>(i) + 1))
          << "connection " << all.size() << ": consecutive from Last-Event-ID " << from;
    }
    all.insert(all.end(), connection.begin(), connection.end());
  }
  ASSERT_EQ(all.size(), stored.size()) << "every stored event was delivered";
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto data = json::parse(all[i].data, nullptr, false);
    EXPECT_EQ(data, stored[i]) << "event " << i + 1;
    EXPECT_EQ(all[i].event, stored[i].value("event", ""));
  }
  EXPECT_TRUE(is_terminal(all.back().event));
}

// The PostgreSQL worker id is host:pid:n: whether the worker process `pid` holds the lease
// of the plan job of `run_id` right now.
bool holds_plan_lease(const std::string& db, pid_t pid, const std::string& run_id) {
  const auto n = testing::pg_exec(
      db,
      "SELECT count(*) FROM queue WHERE state = 'leased' AND topic = 'run.plan' AND "
      "locked_by LIKE '%:" +
          std::to_string(pid) + ":%' AND payload LIKE '%" + run_id + "%'");
  return n != "0";
}

TEST(scale_out_e2e, runs_complete_once_across_a_worker_kill_and_a_database_restart) {
  const auto began = steady::now();
  const auto deadline = began + 240s;  // generous: the runs take seconds, not minutes
  pg_server pg;
  const std::string db = pg.create_database("grok_scale_out");
  fake_model_server fake(script());
  const auto env = process_env(db, fake.base_url());

  // One admin key, created in the shared database before the APIs start: both accept it.
  grok_server api1(env);
  grok_server api2(env);
  const std::string key = api1.create_key("admin", "scale-out");
  api1.start_api_only();
  api2.start_api_only();
  EXPECT_TRUE(api1.first_admin_key().empty());
  EXPECT_TRUE(api2.first_admin_key().empty());
  std::vector<std::unique_ptr<grok_worker>> workers;
  for (int w = 0; w < k_worker_processes; ++w) {
    workers.push_back(std::make_unique<grok_worker>(env, k_threads_per_worker));
    workers.back()->start();
  }
  grok_worker& victim = *workers.back();
  const pid_t victim_pid = victim.pid();

  submit_stats stats;
  std::vector<submitted_run> runs;
  std::vector<std::unique_ptr<follower>> followers;  // stable addresses for the threads
  follower_threads threads;
  threads.api = &api1;
  const std::string api1_stream = api1.url("/v1/runs/");
  std::string held_run;  // the slow run whose planner call the killed worker was in
  std::chrono::milliseconds restart_took{0};
  steady::time_point killed_at, restart_began;
  follower* restart_followed = nullptr;  // the followed run of the restart batch
  int events_before_restart = 0;
  const auto secs = [](steady::duration d) { return std::chrono::duration<double>(d).count(); };

  for (int i = 0; i < k_runs; ++i) {
    if (i == k_kill_batch_first + k_kill_batch_size) {
      // The kill batch's six slow plans (2 s each) cannot all fit on the other two workers'
      // four threads, so the victim takes at least one. Wait until it holds the lease of a
      // slow plan job and is inside its planner call (the planner step is running), then
      // SIGKILL it: the call is abandoned and the lease runs out.
      while (held_run.empty() && steady::now() < deadline) {
        for (const auto& r : runs) {
          if (!is_slow(r.index) || r.index >= k_restart_batch_first) continue;
          if (!holds_plan_lease(db, victim_pid, r.id)) continue;
          auto got = get_retrying(api1.url("/v1/runs/" + r.id), key, deadline);
          for (const auto& s : got.json().value("steps", json::array())) {
            if (s.value("name", "") == "planner" && s.value("status", "") == "running") {
              held_run = r.id;
            }
          }
          if (!held_run.empty()) break;
        }
        if (held_run.empty()) pause_between_polls();
      }
      ASSERT_FALSE(held_run.empty()) << "worker 3 never took a slow run's plan";
      EXPECT_EQ(victim.kill(), SIGKILL);
      killed_at = steady::now();
    }
    if (i == k_restart_batch_first + k_restart_batch_size) {
      // The restart batch's slow plans are being planned now (2 s each): in flight. One of
      // them is followed: its stream is open (run.created arrived) before the database
      // stops, so the rest of its events come after the restart.
      while (restart_followed->received == 0 && steady::now() < deadline) pause_between_polls();
      events_before_restart = restart_followed->received;
      ASSERT_GT(events_before_restart, 0) << "the stream of the run in flight never opened";
      const auto stop_began = steady::now();
      pg.stop();
      pg.start();
      restart_began = stop_began;
      restart_took =
          std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - stop_began);
    }
    const int api = i % 2 == 0 ? 1 : 2;
    auto id = submit(api == 1 ? api1 : api2, key, i, stats, deadline);
    ASSERT_FALSE(id.empty());
    runs.push_back({i, id, api});
    if (is_followed(i)) {
      followers.push_back(std::make_unique<follower>());
      followers.back()->run_id = id;
      followers.back()->index = i;
      if (is_slow(i) && i >= k_restart_batch_first) restart_followed = followers.back().get();
      threads.threads.emplace_back(follow, api1_stream + id + "/stream", key,
                                   std::ref(*followers.back()), deadline, std::cref(threads.stop));
    }
  }

  const auto all_submitted = steady::now();
  // Every run reaches completed (looked up through both APIs in turn).
  for (std::size_t n = 0; n < runs.size(); ++n) {
    const auto& api = n % 2 == 0 ? api1 : api2;
    while (true) {
      auto r = get_retrying(api.url("/v1/runs/" + runs[n].id), key, deadline);
      ASSERT_EQ(r.status, 200) << r.body;
      const std::string status = r.json().value("status", "");
      if (status == "completed") break;
      ASSERT_TRUE(status == "queued" || status == "running")
          << "run " << runs[n].index << " ended " << r.body;
      ASSERT_LT(steady::now(), deadline) << "run " << runs[n].index << " still " << status;
      pause_between_polls();
    }
  }
  const auto all_completed = steady::now();
  threads.join();

  // Exactly the 200 runs exist: no POST retry created a second one.
  std::set<std::string> listed;
  std::string cursor;
  do {
    auto page =
        get_retrying(api2.url("/v1/runs?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor)),
                     key, deadline);
    ASSERT_EQ(page.status, 200) << page.body;
    const auto doc = page.json();
    for (const auto& r : doc["data"]) listed.insert(r.value("id", ""));
    cursor = doc["next_cursor"].is_string() ? doc["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty());
  std::set<std::string> submitted;
  for (const auto& r : runs) submitted.insert(r.id);
  EXPECT_EQ(submitted.size(), static_cast<std::size_t>(k_runs));
  EXPECT_EQ(listed, submitted);

  // Each run: completed once per step, events gapless; the followed ones as streamed.
  int repeated_starts = 0;
  std::map<std::string, std::vector<json>> events_of;
  for (const auto& r : runs) {
    const auto& api = r.api == 1 ? api2 : api1;  // read through the other API
    auto got = get_retrying(api.url("/v1/runs/" + r.id), key, deadline);
    ASSERT_EQ(got.status, 200) << got.body;
    auto events = stored_events(api, key, r.id, deadline);
    repeated_starts += check_run(r.id, got.json(), events);
    events_of[r.id] = std::move(events);
  }
  int reconnects = 0;
  int refused = 0;
  ASSERT_EQ(followers.size(), static_cast<std::size_t>(k_runs / 2 / k_follow_every));
  for (const auto& f : followers) {
    check_followed(*f, events_of[f->run_id]);
    reconnects += static_cast<int>(f->connections.size()) - 1;
    refused += f->refused;
  }

  // The stream that was open across the restart delivered the rest after it.
  ASSERT_NE(restart_followed, nullptr);
  EXPECT_LT(static_cast<std::size_t>(events_before_restart),
            events_of[restart_followed->run_id].size());

  // The run the killed worker was planning was planned again by another worker.
  int held_planner_starts = 0;
  for (const auto& e : events_of[held_run]) {
    held_planner_starts +=
        e.value("event", "") == "step.started" && e.value("name", "") == "planner" ? 1 : 0;
  }
  EXPECT_GE(held_planner_starts, 2) << "the killed worker's planner step was started again";

  // Both APIs are ready again (database and its notifications), and every process that
  // was not killed stops cleanly.
  for (const auto* api : {&api1, &api2}) {
    auto ready = get_retrying(api->url("/readyz"), key, deadline);
    EXPECT_EQ(ready.status, 200) << ready.body;
  }
  for (auto& w : workers) {
    if (w->running()) {
      EXPECT_EQ(w->stop(), 0) << w->log_text();
    }
  }
  EXPECT_EQ(api1.stop(), 0) << api1.log_text();
  EXPECT_EQ(api2.stop(), 0) << api2.log_text();

  // The figures, for the log (nothing depends on them).
  std::cout << "scale-out: " << k_runs << " runs on 2 API + " << k_worker_processes
            << " worker processes (" << k_threads_per_worker << " threads each), the last "
            << "submitted at " << secs(all_submitted - began) << " s, all completed at "
            << secs(all_completed - began) << " s; worker pid " << victim_pid << " SIGKILLed at "
            << secs(killed_at - began) << " s inside the planner call of " << held_run
            << "; database stopped and started again at " << secs(restart_began - began) << " s ("
            << restart_took.count() << " ms, " << events_before_restart
            << " events of a followed run before it); " << stats.retries << " POST retries ("
            << stats.replayed << " answered by Idempotency-Key); " << repeated_starts
            << " step starts repeated; " << followers.size() << " runs streamed from API 1 with "
            << reconnects << " reconnects and " << refused << " refused attempts\n";
  ::testing::Test::RecordProperty("runs", k_runs);
  ::testing::Test::RecordProperty("post_retries", stats.retries);
  ::testing::Test::RecordProperty("sse_reconnects", reconnects);
  ::testing::Test::RecordProperty("repeated_step_starts", repeated_starts);
}

// Two API processes with one Redis share one token bucket per key. Burst 50 at 1 token a
// second (the smallest rate grok accepts), 100 requests alternating between the APIs, 50
// to each: each process alone would allow all 50 of its own (its bucket starts full and
// only requests take from it), so any 429 shows the bucket is shared. Refill cannot spoil
// that: the shared bucket allows at most 50 + (seconds elapsed) of the 100, checked as such.
TEST(scale_out_e2e, two_api_processes_share_one_rate_limit_through_redis) {
  constexpr int k_burst = 50;
  constexpr int k_requests = 2 * k_burst;
  pg_server pg;
  testing::redis_server redis;
  const std::string db = pg.create_database("grok_rate_limit");
  auto env = process_env(db, "http://127.0.0.1:9/v1");
  env["GROK_REDIS_URL"] = redis.url();
  env["GROK_HTTP_RATE_PER_SECOND"] = "1";
  env["GROK_HTTP_RATE_BURST"] = std::to_string(k_burst);
  grok_server api1(env);
  grok_server api2(env);
  const std::string key = api1.create_key("runs", "limited");
  api1.start_api_only();
  api2.start_api_only();
  // Both use Redis (not their in-process fallback).
  for (const auto* api : {&api1, &api2}) {
    auto ready = api_call("GET", api->url("/readyz"));
    bool redis_ok = false;
    for (const auto& c : ready.json().value("checks", json::array())) {
      if (c.value("name", "") == "rate_limiter") redis_ok = c.value("ok", false);
    }
    ASSERT_TRUE(redis_ok) << ready.body;
  }

  const auto first = steady::now();
  std::vector<long> statuses;
  int limited_by[3] = {0, 0, 0};
  for (int i = 0; i < k_requests; ++i) {
    const int api = i % 2 == 0 ? 1 : 2;
    auto r = api_call("GET", (api == 1 ? api1 : api2).url("/v1/tools"), {bearer(key)});
    ASSERT_TRUE(r.status == 200 || r.status == 429) << r.status << " " << r.body;
    if (r.status == 429) {
      ++limited_by[api];
      EXPECT_FALSE(r.header("retry-after").empty());
    }
    statuses.push_back(r.status);
  }
  const auto elapsed_s =
      std::chrono::duration_cast<std::chrono::seconds>(steady::now() - first).count();
  const auto allowed = std::count(statuses.begin(), statuses.end(), 200L);
  // The bucket starts full: the first 50 requests (25 on each API) are allowed.
  EXPECT_EQ(std::count(statuses.begin(), statuses.begin() + k_burst, 200L), k_burst);
  // One bucket: at most the burst plus what refilled meanwhile, whichever API was asked.
  EXPECT_LE(allowed, k_burst + elapsed_s);
  // Both processes said 429 although neither had seen more than its burst.
  EXPECT_GT(limited_by[1], 0);
  EXPECT_GT(limited_by[2], 0);
  std::cout << "shared rate limit: " << allowed << " of " << k_requests
            << " alternating requests allowed (burst " << k_burst << ", 1/s, " << elapsed_s
            << " s); 429 from API 1: " << limited_by[1] << ", from API 2: " << limited_by[2]
            << "\n";
}

}  // namespace
}  // namespace grok
