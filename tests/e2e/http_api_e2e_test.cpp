// The HTTP API as a client sees it: a real `grok serve` process, real sockets, the
// scripted fake model server behind it. Every route, the errors each can give, runs
// streamed to the end over SSE, resume with Last-Event-ID, signing and graceful drain.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/signing.h"
#include "tests_support/api_client.h"
#include "tests_support/fake_model_server.h"
#include "tests_support/grok_server.h"
#include "tests_support/redis_server.h"

namespace grok {
namespace {

using json = nlohmann::json;
using testing::api_call;
using testing::api_response;
using testing::fake_model_server;
using testing::grok_server;
using testing::read_sse;
using namespace std::chrono_literals;

json script() { return testing::calculator_script(); }

std::string bearer(const std::string& key) { return "Authorization: Bearer " + key; }
const std::string k_json = "Content-Type: application/json";

// Every problem response has the RFC 9457 fields and the request id, also as a header.
void expect_problem(const api_response& r, long status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_NE(r.header("content-type").find("application/problem+json"), std::string::npos)
      << r.header("content-type");
  auto doc = r.json();
  ASSERT_TRUE(doc.is_object()) << r.body;
  EXPECT_EQ(doc["status"], status);
  EXPECT_TRUE(doc["title"].is_string());
  EXPECT_TRUE(doc["type"].is_string());
  EXPECT_TRUE(doc["detail"].is_string());
  EXPECT_FALSE(r.header("x-request-id").empty());
  EXPECT_EQ(doc["request_id"], r.header("x-request-id"));
}

class http_api_e2e : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_unique<fake_model_server>(script());
    env_ = {{"GROK_LLM_BASE_URL", fake_->base_url()},
            {"GROK_PLANNER_MODEL", "planner-m"},
            {"GROK_SOLVER_MODEL", "solver-m"},
            {"GROK_HTTP_MAX_BODY_BYTES", "65536"},
            {"GROK_LOG_LEVEL", "info"}};
  }
  void start(std::map<std::string, std::string> extra = {}, int workers = 2) {
    for (auto& [k, v] : extra) env_[k] = v;
    server_ = std::make_unique<grok_server>(env_);
    admin_ = server_->create_key("admin", "ops");
    alice_ = server_->create_key("runs", "alice");
    bob_ = server_->create_key("runs", "bob");
    server_->start(workers);
  }
  std::string url(const std::string& path) const { return server_->url(path); }
  api_response create_run(const std::string& key, const std::string& input,
                          std::vector<std::string> extra_headers = {}) {
    extra_headers.push_back(bearer(key));
    extra_headers.push_back(k_json);
    return api_call("POST", url("/v1/runs"), extra_headers, json{{"input", input}}.dump());
  }
  // Streams a run to its end and returns the events.
  testing::sse_result stream(const std::string& key, const std::string& run_id,
                             std::vector<std::string> headers = {}) {
    headers.push_back(bearer(key));
    return read_sse(url("/v1/runs/" + run_id + "/stream"), headers, 30s);
  }

  std::unique_ptr<fake_model_server> fake_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<grok_server> server_;
  std::string admin_, alice_, bob_;
};

TEST_F(http_api_e2e, a_run_created_over_http_streams_to_its_end_and_resumes) {
  start();
  auto created = create_run(alice_, "What is 6 times 7, plus one?");
  ASSERT_EQ(created.status, 201) << created.body;
  auto run = created.json();
  const std::string id = run["id"];
  EXPECT_EQ(id.rfind("run_", 0), 0U);
  EXPECT_EQ(created.header("location"), "/v1/runs/" + id);
  EXPECT_FALSE(created.header("x-request-id").empty());

  auto sse = stream(alice_, id);
  EXPECT_EQ(sse.status, 200);
  EXPECT_NE(sse.content_type.find("text/event-stream"), std::string::npos);
  EXPECT_TRUE(sse.ended) << "the stream ends after the terminal event";
  ASSERT_GE(sse.events.size(), 8U) << sse.raw;
  for (std::size_t i = 0; i < sse.events.size(); ++i) {
    EXPECT_EQ(sse.events[i].id, std::to_string(i + 1)) << "gapless, in order";
    auto env = json::parse(sse.events[i].data);
    EXPECT_EQ(env["seq"], static_cast<int>(i + 1));
    EXPECT_EQ(env["event"], sse.events[i].event);
    EXPECT_EQ(env["run_id"], id);
  }
  EXPECT_EQ(sse.events.front().event, "run.created");
  EXPECT_EQ(sse.events.back().event, "run.completed");

  // Resume: Last-Event-ID 3 gives 4.. and the end; ?after= does the same.
  auto resumed = stream(alice_, id, {"Last-Event-ID: 3"});
  ASSERT_EQ(resumed.events.size(), sse.events.size() - 3);
  EXPECT_EQ(resumed.events.front().id, "4");
  EXPECT_TRUE(resumed.ended);
  auto after = read_sse(url("/v1/runs/" + id + "/stream?after=5"), {bearer(alice_)}, 30s);
  ASSERT_EQ(after.events.size(), sse.events.size() - 5);
  // Browsers' EventSource cannot set headers: the key may come as access_token.
  auto token = read_sse(url("/v1/runs/" + id + "/stream?access_token=" + alice_), {}, 30s);
  EXPECT_EQ(token.events.size(), sse.events.size());

  // The single-run view has the steps, usage and timings.
  auto got = api_call("GET", url("/v1/runs/" + id), {bearer(alice_)});
  ASSERT_EQ(got.status, 200) << got.body;
  auto full = got.json();
  EXPECT_EQ(full["status"], "completed");
  EXPECT_EQ(full["answer"], "The answer is 43.");
  EXPECT_TRUE(full["error"].is_null());
  EXPECT_GT(full["usage"]["tokens_in"].get<int>(), 0);
  EXPECT_TRUE(full["finished_at"].is_string());
  std::set<std::string> names;
  for (const auto& s : full["steps"]) names.insert(s["name"].get<std::string>());
  EXPECT_TRUE(names.count("planner") && names.count("worker.E1") && names.count("worker.E2") &&
              names.count("solver"))
      << full["steps"].dump();

  // Events as JSON after a sequence number.
  auto events = api_call("GET", url("/v1/runs/" + id + "/events?after=2"), {bearer(alice_)});
  ASSERT_EQ(events.status, 200) << events.body;
  auto data = events.json()["data"];
  ASSERT_EQ(data.size(), sse.events.size() - 2);
  EXPECT_EQ(data[0]["seq"], 3);
}

TEST_F(http_api_e2e, grok_run_with_server_runs_the_task_through_the_api) {
  start();
  const std::vector<std::string> cmd = {testing::program_path("grok"), "run", "--server",
                                        server_->url(), "What is 6 times 7, plus one?"};
  auto r = testing::run_program(cmd, {{"GROK_API_KEY", alice_}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "The answer is 43.\n");
  EXPECT_NE(r.err.find("plan (2 steps):"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("completed · tokens"), std::string::npos) << r.err;
  // The run belongs to that key.
  auto mine = api_call("GET", url("/v1/runs"), {bearer(alice_)}).json();
  ASSERT_EQ(mine["data"].size(), 1U);
  EXPECT_EQ(mine["data"][0]["status"], "completed");

  auto json_lines = testing::run_program(
      {testing::program_path("grok"), "run", "--json", "--server", server_->url(), "Again."},
      {{"GROK_API_KEY", alice_}});
  EXPECT_EQ(json_lines.exit_code, 0) << json_lines.err;
  EXPECT_NE(json_lines.out.find("\"event\":\"run.completed\""), std::string::npos);

  auto no_key = testing::run_program(cmd, {{"GROK_API_KEY", ""}});
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_NE(no_key.err.find("GROK_API_KEY"), std::string::npos) << no_key.err;
  auto wrong_key = testing::run_program(cmd, {{"GROK_API_KEY", "grok_nope"}});
  EXPECT_EQ(wrong_key.exit_code, 1);
  EXPECT_NE(wrong_key.err.find("HTTP 401"), std::string::npos) << wrong_key.err;
}

TEST_F(http_api_e2e, ctrl_c_in_grok_run_with_server_cancels_the_run) {
  fake_->set_script(json{{"rules",
                          {{{"match", {{"contains", "You are the planner"}}},
                            {"reply", {{"json", script()["rules"][0]["reply"]["json"]}}}},
                           {{"match", {{"contains", "You are the solver"}}},
                            {"reply", {{"content", "slow"}, {"delay_ms", 20000}}}}}}});
  start();
  testing::child_process run(
      {testing::program_path("grok"), "run", "--server", server_->url(), "Take your time."},
      {{"GROK_API_KEY", alice_}});
  ASSERT_TRUE(run.wait_for_stderr_line("answer:", 30s)) << run.stderr_text();
  run.send_signal(SIGINT);
  EXPECT_EQ(run.wait(30s), 130) << run.stderr_text();
  const auto runs = api_call("GET", url("/v1/runs"), {bearer(alice_)}).json();
  ASSERT_EQ(runs["data"].size(), 1U);
  EXPECT_EQ(runs["data"][0]["status"], "cancelled");
}

TEST_F(http_api_e2e, first_start_prints_an_admin_key_that_works) {
  grok_server server(env_);
  server.start();
  const auto key = server.first_admin_key();
  ASSERT_EQ(key.rfind("grok_", 0), 0U) << server.log_text();
  EXPECT_EQ(server.log_text().find(key), std::string::npos) << "the key is never logged";
  auto q = api_call("GET", server.url("/v1/queue"), {bearer(key)});
  EXPECT_EQ(q.status, 200) << q.body;
  // A second start with that key present prints nothing.
  server.stop();
  server.start();
  EXPECT_TRUE(server.first_admin_key().empty());
}

TEST_F(http_api_e2e, health_readiness_openapi_and_tools) {
  start();
  auto health = api_call("GET", url("/healthz"));
  EXPECT_EQ(health.status, 200);
  auto ready = api_call("GET", url("/readyz"));
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.json()["ready"], true);
  auto openapi = api_call("GET", url("/openapi.json"));
  ASSERT_EQ(openapi.status, 200);
  auto doc = openapi.json();
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.1", 0), 0U);
  EXPECT_TRUE(doc["paths"].contains("/v1/runs/{id}/stream"));
  auto tools = api_call("GET", url("/v1/tools"), {bearer(alice_)});
  ASSERT_EQ(tools.status, 200);
  std::set<std::string> names;
  const auto tools_doc = tools.json();
  for (const auto& t : tools_doc["data"]) {
    names.insert(t["name"].get<std::string>());
    EXPECT_TRUE(t["parameters"].is_object());
  }
  EXPECT_TRUE(names.count("calculator") && names.count("http_get") && names.count("llm"))
      << tools.body;
  auto metrics = api_call("GET", url("/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("grok_http_requests_total"), std::string::npos);

  // The model server gone: not ready, and /readyz says what to do.
  fake_->stop();
  auto down = api_call("GET", url("/readyz"));
  // The probe result is remembered for a few seconds; wait for it to expire.
  for (int i = 0; i < 100 && down.status == 200; ++i) {
    std::this_thread::sleep_for(100ms);
    down = api_call("GET", url("/readyz"));
  }
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_NE(down.body.find("GROK_LLM_BASE_URL"), std::string::npos) << down.body;
}

TEST_F(http_api_e2e, bad_requests_get_clear_problems_over_the_wire) {
  start();
  const auto runs = url("/v1/runs");
  // 401: no key, a malformed key, an unknown key.
  expect_problem(api_call("GET", runs), 401);
  expect_problem(api_call("GET", runs, {"Authorization: Bearer nope"}), 401);
  expect_problem(api_call("GET", runs, {bearer("grok_" + std::string(64, 'a'))}), 401);
  // 400: malformed JSON, wrong types, invalid UTF-8, an empty input.
  expect_problem(api_call("POST", runs, {bearer(alice_), k_json}, "{\"input\": "), 400);
  expect_problem(api_call("POST", runs, {bearer(alice_), k_json}, R"({"input": 42})"), 400);
  expect_problem(
      api_call("POST", runs, {bearer(alice_), k_json}, R"({"input": "x", "options": "fast"})"),
      400);
  expect_problem(api_call("POST", runs, {bearer(alice_), k_json}, "{\"input\": \"\xff\xfe\"}"),
                 400);
  expect_problem(api_call("POST", runs, {bearer(alice_), k_json}, R"({"input": ""})"), 400);
  expect_problem(api_call("GET", runs + "?limit=abc", {bearer(alice_)}), 400);
  // 404: unknown route, unknown run; 405 with Allow.
  expect_problem(api_call("GET", url("/v1/nothing"), {bearer(alice_)}), 404);
  expect_problem(api_call("GET", url("/v1/runs/run_00000000000000000000000000"), {bearer(alice_)}),
                 404);
  auto wrong_method = api_call("DELETE", runs, {bearer(alice_)});
  expect_problem(wrong_method, 405);
  EXPECT_NE(wrong_method.header("allow").find("GET"), std::string::npos);
  // 413: a body over the limit.
  expect_problem(api_call("POST", runs, {bearer(alice_), k_json},
                          json{{"input", std::string(70'000, 'a')}}.dump()),
                 413);
  // 403: a runs key on admin routes, and on another key's run.
  expect_problem(api_call("GET", url("/v1/queue"), {bearer(alice_)}), 403);
  auto created = create_run(alice_, "mine");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  expect_problem(api_call("GET", url("/v1/runs/" + id), {bearer(bob_)}), 403);
  expect_problem(api_call("POST", url("/v1/runs/" + id + "/cancel"), {bearer(bob_), k_json}, "{}"),
                 403);
  EXPECT_EQ(api_call("GET", url("/v1/runs/" + id), {bearer(admin_)}).status, 200);
  // Bob's list does not show Alice's run; the admin's does.
  auto bobs = api_call("GET", runs, {bearer(bob_)}).json();
  EXPECT_TRUE(bobs["data"].empty()) << bobs.dump();
  auto all = api_call("GET", runs, {bearer(admin_)}).json();
  EXPECT_EQ(all["data"].size(), 1U);
}

TEST_F(http_api_e2e, idempotency_keys_are_per_api_key) {
  start();
  auto first = create_run(alice_, "same task", {"Idempotency-Key: order-17"});
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = create_run(alice_, "same task", {"Idempotency-Key: order-17"});
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["id"], first.json()["id"]);
  auto other_alias = create_run(alice_, "same task", {"X-Idempotency-Key: order-17"});
  EXPECT_EQ(other_alias.json()["id"], first.json()["id"]);
  expect_problem(create_run(alice_, "another task", {"Idempotency-Key: order-17"}), 409);
  auto bobs = create_run(bob_, "same task", {"Idempotency-Key: order-17"});
  EXPECT_EQ(bobs.status, 201);
  EXPECT_NE(bobs.json()["id"], first.json()["id"]);
}

TEST_F(http_api_e2e, cancel_and_the_queue_routes) {
  // No workers: runs stay queued, so cancel always finds them unfinished.
  start({}, 0);
  auto created = create_run(alice_, "to cancel");
  const std::string id = created.json()["id"];
  auto cancelled = api_call("POST", url("/v1/runs/" + id + "/cancel"), {bearer(alice_), k_json},
                            R"({"reason": "changed my mind"})");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json()["status"], "cancelled");
  expect_problem(
      api_call("POST", url("/v1/runs/" + id + "/cancel"), {bearer(alice_), k_json}, "{}"), 409);
  expect_problem(api_call("POST", url("/v1/runs/" + id + "/approve"), {bearer(alice_), k_json},
                          R"({"approve": true})"),
                 409);
  auto queue = api_call("GET", url("/v1/queue"), {bearer(admin_)});
  ASSERT_EQ(queue.status, 200) << queue.body;
  EXPECT_TRUE(queue.json()["depth"].is_array());
  auto dead = api_call("GET", url("/v1/queue/dead"), {bearer(admin_)});
  ASSERT_EQ(dead.status, 200) << dead.body;
  EXPECT_TRUE(dead.json()["data"].is_array());
  expect_problem(api_call("POST", url("/v1/queue/dead/999999/retry"), {bearer(admin_)}), 404);
}

TEST_F(http_api_e2e, rate_limit_answers_429_with_retry_after) {
  start({{"GROK_HTTP_RATE_BURST", "3"}, {"GROK_HTTP_RATE_PER_SECOND", "1"}});
  std::vector<long> statuses;
  api_response last;
  for (int i = 0; i < 5; ++i) {
    last = api_call("GET", url("/v1/runs"), {bearer(alice_)});
    statuses.push_back(last.status);
  }
  EXPECT_EQ(statuses, (std::vector<long>{200, 200, 200, 429, 429}));
  expect_problem(last, 429);
  EXPECT_GE(std::stoi(last.header("retry-after")), 1);
  EXPECT_EQ(last.header("ratelimit-limit"), "3");
  EXPECT_EQ(last.header("ratelimit-remaining"), "0");
  // Limits are per key: Bob is not affected by Alice.
  EXPECT_EQ(api_call("GET", url("/v1/runs"), {bearer(bob_)}).status, 200);
}

TEST_F(http_api_e2e, two_servers_share_one_limit_through_redis_and_survive_it_going_away) {
  testing::redis_server redis;
  // Two API processes on one database, limited together: 6 requests per key in all.
  env_["GROK_REDIS_URL"] = redis.url();
  env_["GROK_HTTP_RATE_BURST"] = "6";
  env_["GROK_HTTP_RATE_PER_SECOND"] = "1";
  start({}, 0);
  grok_server second(env_, server_->data_dir());
  second.start(0);
  std::vector<long> statuses;
  for (int i = 0; i < 10; ++i) {
    const auto& base = i % 2 == 0 ? server_->url("/v1/runs") : second.url("/v1/runs");
    statuses.push_back(api_call("GET", base, {bearer(alice_)}).status);
  }
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 6)
      << ::testing::PrintToString(statuses);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 429), 4);
  auto ready = api_call("GET", server_->url("/readyz")).json();
  EXPECT_NE(ready.dump().find("redis"), std::string::npos) << ready.dump();

  // Redis gone: both keep answering, limiting per process, and say so.
  redis.stop();
  auto bob = api_call("GET", second.url("/v1/runs"), {bearer(bob_)});
  EXPECT_EQ(bob.status, 200) << bob.body;
  auto degraded = api_call("GET", second.url("/readyz"));
  EXPECT_EQ(degraded.status, 200) << "a degraded limiter does not fail readiness";
  EXPECT_NE(degraded.body.find("limiting per process"), std::string::npos) << degraded.body;
  EXPECT_NE(second.log_text().find("per-process"), std::string::npos) << second.log_text();
}

TEST_F(http_api_e2e, signed_write_routes_when_a_secret_is_set) {
  start({{"GROK_SIGNING_SECRET", "s3cret"}});
  const std::string body = json{{"input", "signed"}}.dump();
  // Unsigned writes are refused; reads need no signature.
  expect_problem(api_call("POST", url("/v1/runs"), {bearer(alice_), k_json}, body), 401);
  EXPECT_EQ(api_call("GET", url("/v1/runs"), {bearer(alice_)}).status, 200);
  const auto now = std::to_string(std::time(nullptr));
  auto sig = api::sign_request("s3cret", now, "POST", "/v1/runs", body);
  auto ok = api_call(
      "POST", url("/v1/runs"),
      {bearer(alice_), k_json, "X-Grok-Timestamp: " + now, "X-Grok-Signature: " + sig}, body);
  EXPECT_EQ(ok.status, 201) << ok.body;
  auto wrong = api::sign_request("other", now, "POST", "/v1/runs", body);
  expect_problem(
      api_call("POST", url("/v1/runs"),
               {bearer(alice_), k_json, "X-Grok-Timestamp: " + now, "X-Grok-Signature: " + wrong},
               body),
      401);
  const auto stale = std::to_string(std::time(nullptr) - 600);
  auto stale_sig = api::sign_request("s3cret", stale, "POST", "/v1/runs", body);
  expect_problem(api_call("POST", url("/v1/runs"),
                          {bearer(alice_), k_json, "X-Grok-Timestamp: " + stale,
                           "X-Grok-Signature: " + stale_sig},
                          body),
                 401);
}

TEST_F(http_api_e2e, cors_preflight_follows_the_allow_list) {
  start({{"GROK_HTTP_CORS_ORIGINS", "http://ui.test"}});
  auto ok = api_call("OPTIONS", url("/v1/runs"),
                     {"Origin: http://ui.test", "Access-Control-Request-Method: POST",
                      "Access-Control-Request-Headers: authorization, content-type"});
  EXPECT_EQ(ok.status, 204) << ok.body;
  EXPECT_EQ(ok.header("access-control-allow-origin"), "http://ui.test");
  EXPECT_NE(ok.header("access-control-allow-headers").find("Authorization"), std::string::npos);
  auto denied = api_call("OPTIONS", url("/v1/runs"),
                         {"Origin: http://evil.test", "Access-Control-Request-Method: POST"});
  EXPECT_EQ(denied.status, 403);
  EXPECT_TRUE(denied.header("access-control-allow-origin").empty());
  auto get = api_call("GET", url("/v1/runs"), {bearer(alice_), "Origin: http://ui.test"});
  EXPECT_EQ(get.header("access-control-allow-origin"), "http://ui.test");
}

TEST_F(http_api_e2e, sigterm_ends_streams_and_exits_cleanly) {
  // A slow solver keeps the run going while the server is asked to stop.
  fake_->set_script(json{{"rules",
                          {{{"match", {{"contains", "You are the planner"}}},
                            {"reply", {{"json", script()["rules"][0]["reply"]["json"]}}}},
                           {{"match", {{"contains", "You are the solver"}}},
                            {"reply", {{"content", "slow"}, {"delay_ms", 5000}}}}}}});
  start();
  auto created = create_run(alice_, "slow one");
  const std::string id = created.json()["id"];
  std::atomic<bool> connected{false};
  testing::sse_result got;
  std::thread reader([&] {
    got = read_sse(url("/v1/runs/" + id + "/stream"), {bearer(alice_)}, 30s,
                   [&](const testing::sse_event&) {
                     connected = true;
                     return false;
                   });
  });
  for (int i = 0; i < 3000 && !connected; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(connected);
  auto code = server_->stop();
  reader.join();
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(got.ended) << "the server ended the stream instead of cutting it";
  EXPECT_FALSE(got.events.empty());
}

}  // namespace
}  // namespace grok
