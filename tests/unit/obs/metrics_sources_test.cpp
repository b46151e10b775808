// Where the metrics come from: run and step counters from the event feed, the queue
// collector, the worker pool's counters by topic and the model recorder's counters by
// role. The registry is process-wide, so the tests that use it compare deltas.
#include "obs/run_metrics.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "core/clock.h"
#include "core/ids.h"
#include "llm/recorded_models.h"
#include "obs/queue_metrics.h"
#include "queue/worker_pool.h"
#include "store/open_store.h"
#include "tests_support/prometheus_text.h"
#include "tests_support/temp_dir.h"

namespace grok::obs {
namespace {

using namespace std::chrono_literals;
using testing::parse_samples;
using testing::temp_dir;

store::event_record event(std::string run, std::string type, std::optional<std::string> step = {},
                          std::optional<std::string> name = {}, std::string body = "{}") {
  store::event_record e;
  e.run_id = std::move(run);
  e.type = std::move(type);
  e.step_id = std::move(step);
  e.name = std::move(name);
  e.body_json = std::move(body);
  return e;
}

TEST(run_metrics, counts_runs_steps_durations_and_retries_from_a_scripted_event_sequence) {
  registry r;
  run_metrics m(r);
  const std::string big_output(100'000, 'x');
  // Run 1: planner, a calculator step retried once, solver; completed.
  m.on_events(
      {event("run_1", "run.created", {}, {}, R"({"input":"x","options":{}})"),
       event("run_1", "step.started", "s_p", "planner", R"({"attempt":1})"),
       event("run_1", "step.completed", "s_p", "planner",
             R"({"metrics":{"latency_ms":1500,"tokens_in":1,"tokens_out":2},)"
             R"("result":{"status":"ok","outputs":[]}})"),
       event("run_1", "step.started", "s_1", "worker.E1", R"({"attempt":1,"tool":"calculator"})"),
       event("run_1", "step.retrying", "s_1", "worker.E1",
             R"({"attempt":1,"error":"busy","retry_in_ms":10})"),
       event("run_1", "step.started", "s_1", "worker.E1", R"({"attempt":2,"tool":"calculator"})")});
  m.on_events({event("run_1", "step.completed", "s_1", "worker.E1",
                     R"({"metrics":{"latency_ms":20,"tokens_in":0,"tokens_out":0},)"
                     R"("result":{"status":"ok","outputs":[{"key":"E1","value":")" +
                         big_output + R"("}]}})"),
               event("run_1", "step.started", "s_s", "solver", R"({"attempt":1})"),
               event("run_1", "step.completed", "s_s", "solver",
                     R"({"metrics":{"latency_ms":250,"tokens_in":1,"tokens_out":1},)"
                     R"("result":{"status":"ok","outputs":[]}})"),
               event("run_1", "run.completed", {}, {},
                     R"({"answer":"a","usage":{"tokens_in":1,"tokens_out":1,"cost":0}})")});
  // Run 2: a step that fails for good; the run fails. Run 3: cancelled while queued.
  m.on_events({event("run_2", "run.created"),
               event("run_2", "step.started", "s_2", "worker.E1", R"({"attempt":1,"tool":"http"})"),
               event("run_2", "step.failed", "s_2", "worker.E1",
                     R"({"error":{"code":"io","message":"no"},"metrics":{"latency_ms":5,)"
                     R"("tokens_in":0,"tokens_out":0}})"),
               event("run_2", "run.failed"), event("run_3", "run.created"),
               event("run_3", "run.cancelled")});
  // A step whose start this process never saw, a replanner, and events it ignores.
  m.on_events({event("run_4", "step.completed", "s_x", "worker.E9", R"({"metrics":{}})"),
               event("run_4", "step.failed", "s_r", "replanner.1",
                     R"({"error":{"code":"plan_invalid","message":"m"},"metrics":{}})"),
               event("run_4", "llm.delta", "s_r", "replanner.1", R"({"delta":"x"})"),
               event("run_4", "step.completed", "s_y", "worker.E2", "not json")});

  const auto s = parse_samples(r.render());
  EXPECT_EQ(s.at("grok_runs_created_total"), 3);
  EXPECT_EQ(s.at("grok_runs_total{status=\"completed\"}"), 1);
  EXPECT_EQ(s.at("grok_runs_total{status=\"failed\"}"), 1);
  EXPECT_EQ(s.at("grok_runs_total{status=\"cancelled\"}"), 1);
  EXPECT_EQ(s.at("grok_steps_total{tool=\"planner\",status=\"completed\"}"), 1);
  EXPECT_EQ(s.at("grok_steps_total{tool=\"planner\",status=\"failed\"}"), 1);
  EXPECT_EQ(s.at("grok_steps_total{tool=\"calculator\",status=\"completed\"}"), 1);
  EXPECT_EQ(s.at("grok_steps_total{tool=\"solver\",status=\"completed\"}"), 1);
  EXPECT_EQ(s.at("grok_steps_total{tool=\"http\",status=\"failed\"}"), 1);
  EXPECT_EQ(s.at("grok_steps_total{tool=\"unknown\",status=\"completed\"}"), 2);
  EXPECT_EQ(s.at("grok_step_retries_total{tool=\"calculator\"}"), 1);
  std::size_t step_series = 0;
  for (const auto& [series, value] : s) step_series += series.starts_with("grok_steps_total{");
  EXPECT_EQ(step_series, 6U) << "no other step series";
  // Durations only where the event carried latency_ms.
  EXPECT_EQ(s.at("grok_step_duration_seconds_count{tool=\"planner\"}"), 1);
  EXPECT_EQ(s.at("grok_step_duration_seconds_sum{tool=\"planner\"}"), 1.5);
  EXPECT_EQ(s.at("grok_step_duration_seconds_bucket{tool=\"planner\",le=\"1\"}"), 0);
  EXPECT_EQ(s.at("grok_step_duration_seconds_bucket{tool=\"planner\",le=\"2.5\"}"), 1);
  EXPECT_EQ(s.at("grok_step_duration_seconds_count{tool=\"calculator\"}"), 1);
  EXPECT_EQ(s.at("grok_step_duration_seconds_sum{tool=\"calculator\"}"), 0.02);
  EXPECT_EQ(s.at("grok_step_duration_seconds_count{tool=\"solver\"}"), 1);
  EXPECT_EQ(s.at("grok_step_duration_seconds_count{tool=\"http\"}"), 1);
  EXPECT_EQ(s.count("grok_step_duration_seconds_count{tool=\"unknown\"}"), 0U);
}

TEST(run_metrics, a_hostile_tool_name_never_becomes_a_label_value) {
  registry r;
  run_metrics m(r);
  m.on_events({event("run_1", "step.started", "s_1", "worker.E1",
                     R"({"attempt":1,"tool":"evil\"} 1\n# HELP x"})"),
               event("run_1", "step.completed", "s_1", "worker.E1", R"({"metrics":{}})")});
  const auto text = r.render();
  EXPECT_EQ(text.find("evil"), std::string::npos) << text;
  EXPECT_EQ(parse_samples(text).at("grok_steps_total{tool=\"other\",status=\"completed\"}"), 1);
}

class metrics_store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_store({.url = dir_.file("grok.db")});
    ASSERT_TRUE(opened) << describe(opened.error());
    store_ = std::move(*opened);
  }
  temp_dir dir_;
  std::unique_ptr<store::store> store_;
};

TEST_F(metrics_store_test, feed_counters_move_when_a_transaction_commits_and_never_on_rollback) {
  registry r;
  run_metrics m(r);
  const store::feed_subscription sub(store_->events_feed(),
                                     [&m](const auto& events) { m.on_events(events); });
  const auto id = new_id("run", store_->store_clock().now());
  auto append = [&](store::transaction& tx, const char* type) {
    store::event_draft d;
    d.run_id = id;
    d.type = type;
    d.ts = tx.now();
    return tx.append_event(d);
  };
  auto created = store_->transact([&](store::transaction& tx) -> result<void> {
    store::run_record run;
    run.id = id;
    run.input = "x";
    run.created_at = tx.now();
    if (auto e = tx.insert_run(run); !e) return e;
    if (auto e = append(tx, "run.created"); !e) return tl::unexpected(e.error());
    return {};
  });
  ASSERT_TRUE(created) << describe(created.error());
  auto rolled_back = store_->transact([&](store::transaction& tx) -> result<void> {
    if (auto e = append(tx, "run.failed"); !e) return tl::unexpected(e.error());
    return fail(errc::conflict, "changed my mind");
  });
  ASSERT_FALSE(rolled_back);
  EXPECT_EQ(r.counter("grok_runs_created_total", "Runs accepted.").value(), 1);
  EXPECT_EQ(parse_samples(r.render()).count("grok_runs_total{status=\"failed\"}"), 0U);
}

TEST_F(metrics_store_test, queue_collector_sets_depth_by_topic_and_state_and_lag) {
  registry r;
  queue_metrics q(*store_, r, 0ms);
  ASSERT_TRUE(store_->enqueue({.topic = "alpha"}));
  ASSERT_TRUE(store_->enqueue({.topic = "alpha"}));
  ASSERT_TRUE(store_->enqueue({.topic = "beta", .max_attempts = 1}));
  auto claimed = store_->claim({.topics = {"beta"}, .worker_id = "w1"});
  ASSERT_TRUE(claimed && claimed->size() == 1U);
  auto nacked = store_->nack({.held = (*claimed)[0].held_lease(), .error = "boom"});
  ASSERT_TRUE(nacked && *nacked == store::nack_outcome::dead);

  const collector_registration reg(r, [&q] { q.collect(); });
  auto s = parse_samples(r.render());
  EXPECT_EQ(s.at("grok_queue_jobs{topic=\"alpha\",state=\"ready\"}"), 2);
  EXPECT_EQ(s.at("grok_queue_jobs{topic=\"alpha\",state=\"dead\"}"), 0);
  EXPECT_EQ(s.at("grok_queue_jobs{topic=\"beta\",state=\"dead\"}"), 1);
  EXPECT_EQ(s.at("grok_queue_jobs{topic=\"beta\",state=\"ready\"}"), 0);
  EXPECT_EQ(s.at("grok_queue_dead_jobs"), 1);
  EXPECT_EQ(s.at("grok_queue_visible_jobs"), 2);
  EXPECT_GE(s.at("grok_queue_oldest_visible_lag_seconds"), 0);
  EXPECT_LT(s.at("grok_queue_oldest_visible_lag_seconds"), 600);

  // The alpha jobs are claimed and acked: the gauges follow at the next scrape.
  auto two = store_->claim({.topics = {"alpha"}, .worker_id = "w1", .limit = 2});
  ASSERT_TRUE(two && two->size() == 2U);
  for (const auto& j : *two) ASSERT_TRUE(store_->ack(j.held_lease()));
  s = parse_samples(r.render());
  EXPECT_EQ(s.at("grok_queue_jobs{topic=\"alpha\",state=\"ready\"}"), 0);
  EXPECT_EQ(s.at("grok_queue_jobs{topic=\"alpha\",state=\"done\"}"), 2);
  EXPECT_EQ(s.at("grok_queue_visible_jobs"), 0);
  EXPECT_EQ(s.at("grok_queue_oldest_visible_lag_seconds"), 0);
}

TEST_F(metrics_store_test, queue_collector_reads_the_store_at_most_once_per_interval) {
  registry r;
  queue_metrics q(*store_, r, 1h);
  ASSERT_TRUE(store_->enqueue({.topic = "alpha"}));
  q.collect();
  ASSERT_TRUE(store_->enqueue({.topic = "alpha"}));
  q.collect();  // within the hour: the figures of the first read stay
  EXPECT_EQ(r.gauge("grok_queue_jobs", "", {"topic", "state"}).value({"alpha", "ready"}), 1);
}

// Blocks until a number of handler calls happened (no sleeps as synchronisation).
class call_counter {
 public:
  void hit() {
    const std::lock_guard lock(mutex_);
    ++count_;
    changed_.notify_all();
  }
  bool wait_for(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 20s, [&] { return count_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int count_ = 0;  // guarded by mutex_
};

TEST_F(metrics_store_test, worker_pool_counts_successes_retries_and_dead_letters_by_topic) {
  const std::string topic = "metrics_test_topic";
  auto& reg = metrics();
  const auto before = parse_samples(reg.render());
  call_counter calls;
  queue::worker_pool_options o;
  o.workers = 2;
  o.backoff = {1ms, 2ms};
  o.idle_recheck = 1h;
  {
    queue::worker_pool pool(*store_, o);
    pool.register_handler(topic, [&](const queue::job_context& ctx) {
      calls.hit();
      if (ctx.job.payload == "doomed") return queue::job_outcome::fail_permanently("no");
      if (ctx.job.payload == "flaky" && ctx.job.attempts == 1) {
        return queue::job_outcome::retry_later("again");
      }
      return queue::job_outcome::success();
    });
    pool.start();
    for (const char* p : {"ok", "flaky", "doomed"}) {
      ASSERT_TRUE(store_->enqueue({.topic = topic, .payload = p}));
    }
    // Four attempts: ok, flaky twice, doomed. stop() drains, so every ack and nack of a
    // claimed job is done when it returns.
    ASSERT_TRUE(calls.wait_for(4));
    pool.stop();
  }
  const auto after = parse_samples(reg.render());
  auto delta = [&](const std::string& series) {
    return testing::sample_or_zero(after, series) - testing::sample_or_zero(before, series);
  };
  const std::string l = "{topic=\"" + topic + "\"}";
  EXPECT_EQ(delta("grok_queue_jobs_succeeded_total" + l), 2);
  EXPECT_EQ(delta("grok_queue_retries_total" + l), 1);
  EXPECT_EQ(delta("grok_queue_dead_letters_total" + l), 1);
  EXPECT_EQ(delta("grok_queue_lost_leases_total" + l), 0);
  EXPECT_EQ(delta("grok_queue_job_duration_seconds_count" + l), 4);
}

// A model that answers with usage for the planner and fails for the solver.
class scripted_model final : public llm::chat_model {
 public:
  llm::llm_result<llm::chat_response> complete(const llm::chat_request& /*request*/,
                                               const llm::call_options& options) override {
    if (options.role == "solver") {
      return tl::unexpected(llm::llm_error{llm::failure::bad_response, "nope"});
    }
    llm::chat_response r;
    r.content = "ok";
    r.usage = llm::token_usage{};
    r.usage->prompt_tokens = 11;
    r.usage->completion_tokens = 7;
    return r;
  }
};

TEST_F(metrics_store_test, recording_model_counts_calls_tokens_and_latency_by_role) {
  auto& reg = metrics();
  const auto before = parse_samples(reg.render());
  scripted_model inner;
  llm::recording_model model(inner, *store_, "fake");
  llm::chat_request request;
  request.model = "m";
  request.messages = {{"user", "hello", {}, {}}};
  llm::call_options planner;
  planner.role = "planner";
  llm::call_options solver;
  solver.role = "solver";
  ASSERT_TRUE(model.complete(request, planner));
  ASSERT_TRUE(model.complete(request, planner));
  ASSERT_FALSE(model.complete(request, solver));
  const auto after = parse_samples(reg.render());
  auto delta = [&](const std::string& series) {
    return testing::sample_or_zero(after, series) - testing::sample_or_zero(before, series);
  };
  EXPECT_EQ(delta("grok_model_calls_total{role=\"planner\",outcome=\"ok\"}"), 2);
  EXPECT_EQ(delta("grok_model_calls_total{role=\"solver\",outcome=\"error\"}"), 1);
  EXPECT_EQ(delta("grok_model_calls_total{role=\"solver\",outcome=\"ok\"}"), 0);
  EXPECT_EQ(delta("grok_model_tokens_total{role=\"planner\",direction=\"in\"}"), 22);
  EXPECT_EQ(delta("grok_model_tokens_total{role=\"planner\",direction=\"out\"}"), 14);
  EXPECT_EQ(delta("grok_model_tokens_total{role=\"solver\",direction=\"in\"}"), 0);
  EXPECT_EQ(delta("grok_model_call_duration_seconds_count{role=\"planner\"}"), 2);
  EXPECT_EQ(delta("grok_model_call_duration_seconds_count{role=\"solver\"}"), 1);
}

}  // namespace
}  // namespace grok::obs
