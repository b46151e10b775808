// GET /metrics of a real `grok serve` as Prometheus sees it: scraped before and after
// runs driven through the API against the scripted fake model server, the counters move
// by exactly what those runs did, the gauges and process figures are there and sane, and
// `promtool check metrics` accepts every scrape.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests_support/api_client.h"
#include "tests_support/fake_model_server.h"
#include "tests_support/grok_server.h"
#include "tests_support/prometheus_text.h"

namespace grok {
namespace {

using json = nlohmann::json;
using testing::api_call;
using testing::fake_model_server;
using testing::grok_server;
using testing::samples;
using namespace std::chrono_literals;

constexpr const char* k_fail_marker = "PLEASE-FAIL-THIS-RUN";

// Two calculator steps and an answer; the planner call of a run whose task holds the
// marker gets HTTP 400, which fails that run (a 400 is not retried).
json script() {
  auto s = testing::calculator_script();
  s["rules"].insert(
      s["rules"].begin(),
      json{{"match", {{"contains", k_fail_marker}}},
           {"fault", "status"},
           {"fault_options", {{"status", 400}, {"body", R"({"error":{"message":"no"}})"}}}});
  return s;
}

class metrics_e2e : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_unique<fake_model_server>(script());
    server_ = std::make_unique<grok_server>(
        std::map<std::string, std::string>{{"GROK_LLM_BASE_URL", fake_->base_url()},
                                           {"GROK_PLANNER_MODEL", "planner-m"},
                                           {"GROK_SOLVER_MODEL", "solver-m"},
                                           {"GROK_LOG_LEVEL", "info"}});
    key_ = server_->create_key("runs", "alice");
    server_->start(2);
  }

  // One scrape; checks the response and promtool's verdict on it.
  std::string scrape() {
    auto r = api_call("GET", server_->url("/metrics"));
    ++scrapes_;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const auto verdict = testing::promtool_check(r.body);
    EXPECT_EQ(verdict.exit_code, 0) << verdict.output;
    EXPECT_EQ(verdict.output, "") << "promtool found problems";
    return r.body;
  }

  std::unique_ptr<fake_model_server> fake_;
  std::unique_ptr<grok_server> server_;
  std::string key_;
  int scrapes_ = 0;
};

TEST_F(metrics_e2e, counters_move_by_exactly_what_the_runs_did_and_promtool_accepts_them) {
  if (!std::filesystem::exists(testing::k_promtool)) {
    GTEST_SKIP() << "promtool is missing: run scripts/bootstrap.sh";
  }
  const auto before_text = scrape();
  const auto before = testing::parse_samples(before_text);
  const int scrapes_before = scrapes_;

  // Three runs that complete and one that fails, each streamed to its end over SSE.
  const std::vector<std::string> inputs = {"What is 6 times 7, plus one?", "Again, please.",
                                           "Once more.", std::string("Do ") + k_fail_marker};
  std::vector<std::string> ids;
  for (const auto& input : inputs) {
    auto created = api_call("POST", server_->url("/v1/runs"),
                            {"Authorization: Bearer " + key_, "Content-Type: application/json"},
                            json{{"input", input}}.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    ids.push_back(created.json()["id"]);
  }
  std::int64_t tokens_in = 0;
  std::int64_t tokens_out = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto sse = testing::read_sse(server_->url("/v1/runs/" + ids[i] + "/stream"),
                                 {"Authorization: Bearer " + key_}, 30s);
    ASSERT_TRUE(sse.ended) << sse.raw;
    ASSERT_FALSE(sse.events.empty());
    EXPECT_EQ(sse.events.back().event, i + 1 < ids.size() ? "run.completed" : "run.failed");
    auto run =
        api_call("GET", server_->url("/v1/runs/" + ids[i]), {"Authorization: Bearer " + key_});
    ASSERT_EQ(run.status, 200) << run.body;
    tokens_in += run.json()["usage"]["tokens_in"].get<std::int64_t>();
    tokens_out += run.json()["usage"]["tokens_out"].get<std::int64_t>();
  }

  // The client may see run.completed a moment before the workers' own bookkeeping (the
  // ack after the last step) and the queue collector's next read (at most once a
  // second): scrape until both show, then compare everything with that scrape.
  std::string after_text;
  samples after;
  auto delta = [&](const std::string& series) {
    return testing::sample_or_zero(after, series) - testing::sample_or_zero(before, series);
  };
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    after_text = scrape();
    after = testing::parse_samples(after_text);
    double done_jobs = 0;
    for (const auto& [series, value] : after) {
      if (series.starts_with("grok_queue_jobs{") && series.ends_with("state=\"done\"}")) {
        done_jobs += value;
      }
    }
    const bool runs_counted = delta("grok_runs_total{status=\"completed\"}") >= 3 &&
                              delta("grok_runs_total{status=\"failed\"}") >= 1;
    if ((runs_counted && done_jobs > 0) || std::chrono::steady_clock::now() > deadline) break;
  }

  // Runs by final status, and runs created.
  EXPECT_EQ(delta("grok_runs_created_total"), 4);
  EXPECT_EQ(delta("grok_runs_total{status=\"completed\"}"), 3);
  EXPECT_EQ(delta("grok_runs_total{status=\"failed\"}"), 1);
  EXPECT_EQ(delta("grok_runs_total{status=\"cancelled\"}"), 0);

  // Model calls by role and outcome; tokens add up to the runs' usage.
  EXPECT_EQ(delta("grok_model_calls_total{role=\"planner\",outcome=\"ok\"}"), 3);
  EXPECT_EQ(delta("grok_model_calls_total{role=\"planner\",outcome=\"error\"}"), 1);
  EXPECT_EQ(delta("grok_model_calls_total{role=\"solver\",outcome=\"ok\"}"), 3);
  EXPECT_EQ(delta("grok_model_calls_total{role=\"solver\",outcome=\"error\"}"), 0);
  EXPECT_EQ(delta("grok_model_call_duration_seconds_count{role=\"planner\"}"), 4);
  EXPECT_EQ(delta("grok_model_call_duration_seconds_count{role=\"solver\"}"), 3);
  const double model_in = delta("grok_model_tokens_total{role=\"planner\",direction=\"in\"}") +
                          delta("grok_model_tokens_total{role=\"solver\",direction=\"in\"}");
  const double model_out = delta("grok_model_tokens_total{role=\"planner\",direction=\"out\"}") +
                           delta("grok_model_tokens_total{role=\"solver\",direction=\"out\"}");
  EXPECT_GT(tokens_in, 0);
  EXPECT_EQ(model_in, static_cast<double>(tokens_in));
  EXPECT_EQ(model_out, static_cast<double>(tokens_out));

  // Steps by tool: two calculator steps per completed run, and the model steps.
  EXPECT_EQ(delta("grok_steps_total{tool=\"calculator\",status=\"completed\"}"), 6);
  EXPECT_EQ(delta("grok_steps_total{tool=\"planner\",status=\"completed\"}"), 3);
  EXPECT_EQ(delta("grok_steps_total{tool=\"solver\",status=\"completed\"}"), 3);
  EXPECT_EQ(delta("grok_step_duration_seconds_count{tool=\"calculator\"}"), 6);
  EXPECT_EQ(delta("grok_step_duration_seconds_bucket{tool=\"calculator\",le=\"+Inf\"}"), 6);
  EXPECT_EQ(delta("grok_step_duration_seconds_count{tool=\"planner\"}"), 3);
  EXPECT_EQ(delta("grok_step_duration_seconds_count{tool=\"solver\"}"), 3);
  EXPECT_EQ(delta("grok_step_retries_total{tool=\"calculator\"}"), 0);

  // HTTP requests by route template, never by raw path.
  EXPECT_EQ(delta("grok_http_requests_total{route=\"/v1/runs\",status=\"201\"}"), 4);
  EXPECT_EQ(delta("grok_http_requests_total{route=\"/v1/runs/{id}\",status=\"200\"}"), 4);
  EXPECT_EQ(delta("grok_http_requests_total{route=\"/v1/runs/{id}/stream\",status=\"200\"}"), 4);
  EXPECT_EQ(delta("grok_http_requests_total{route=\"/metrics\",status=\"200\"}"),
            scrapes_ - scrapes_before);
  EXPECT_EQ(delta("grok_http_request_duration_seconds_count{route=\"/v1/runs\"}"), 4);
  for (const auto& id : ids) EXPECT_EQ(after_text.find(id), std::string::npos) << id;

  // Queue gauges and counters.
  EXPECT_EQ(after.at("grok_queue_dead_jobs"), 0);
  EXPECT_GE(after.at("grok_queue_visible_jobs"), 0);
  EXPECT_GE(after.at("grok_queue_oldest_visible_lag_seconds"), 0);
  double succeeded = 0;
  for (const auto& [series, value] : after) {
    if (series.starts_with("grok_queue_jobs_succeeded_total{")) {
      succeeded += value - testing::sample_or_zero(before, series);
    }
  }
  EXPECT_GE(succeeded, 4 * 2) << "at least a plan and an answer job per completed run";

  // Open streams, build info and the process figures.
  EXPECT_EQ(after.count("grok_streams_open{kind=\"sse\"}"), 1U);
  EXPECT_EQ(after.count("grok_streams_open{kind=\"websocket\"}"), 1U);
  EXPECT_NE(after_text.find("\ngrok_build_info{version=\""), std::string::npos);
  EXPECT_GT(after.at("process_resident_memory_bytes"), 0);
  EXPECT_GE(after.at("process_virtual_memory_bytes"), after.at("process_resident_memory_bytes"));
  EXPECT_GT(after.at("process_open_fds"), 0);
  EXPECT_GE(after.at("process_max_fds"), after.at("process_open_fds"));
  EXPECT_GE(after.at("process_cpu_seconds_total"), before.at("process_cpu_seconds_total"));
  const auto now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(after.at("process_start_time_seconds"), now + 1);
  EXPECT_GT(after.at("process_start_time_seconds"), now - 3600);
  EXPECT_EQ(after.at("process_start_time_seconds"), before.at("process_start_time_seconds"));

  // The metrics part (collectors, feed subscription) comes down cleanly with the server.
  EXPECT_EQ(server_->stop(), 0) << server_->log_text();
}

}  // namespace
}  // namespace grok
