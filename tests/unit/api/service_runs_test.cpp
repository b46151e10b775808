// api::service: the run routes — create (bodies, idempotency), list (pagination, filters),
// get (the run JSON with steps), cancel and approve.
#include "api/service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "unit/api/service_fixture.h"

namespace grok::testing {
namespace {

using json = nlohmann::json;

// "2026-11-25T08:10:00.123Z" (RFC 3339, UTC, milliseconds). No std::regex: GCC 12 warns
// falsely inside it under the sanitizers.
bool is_rfc3339_ms(const std::string& t) {
  constexpr std::string_view k_shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (t.size() != k_shape.size()) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const bool ok = k_shape[i] == 'd' ? (t[i] >= '0' && t[i] <= '9') : t[i] == k_shape[i];
    if (!ok) return false;
  }
  return true;
}

TEST(service_runs, create_returns_201_with_location_and_the_run) {
  service_env env;
  auto r =
      env.post("/v1/runs", env.alice, {{"input", "what is 2+2?"}, {"options", {{"max_steps", 3}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(header_of(r, "Content-Type"), "application/json");
  const auto run = body_of(r);
  const auto id = run["id"].get<std::string>();
  EXPECT_TRUE(is_valid_id(id, "run")) << id;
  EXPECT_EQ(header_of(r, "Location"), "/v1/runs/" + id);
  EXPECT_EQ(run["status"], "queued");
  EXPECT_EQ(run["input"], "what is 2+2?");
  ASSERT_TRUE(run["options"].is_object());
  EXPECT_EQ(run["options"]["max_steps"], 3);
  EXPECT_TRUE(run["options"].contains("deadline_s"));  // defaults filled in
  EXPECT_TRUE(run["answer"].is_null());
  EXPECT_TRUE(run["error"].is_null());
  EXPECT_TRUE(is_rfc3339_ms(run["created_at"].get<std::string>()));
  EXPECT_TRUE(run["started_at"].is_null());
  EXPECT_TRUE(run["finished_at"].is_null());
  EXPECT_EQ(run["usage"], json({{"tokens_in", 0}, {"tokens_out", 0}, {"cost", 0.0}}));
  EXPECT_EQ(run["steps"], json::array());
  EXPECT_FALSE(header_of(r, "RateLimit-Remaining").empty());

  auto stored = env.st->get_run(id).value();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->owner_key_id, env.alice.id);
  EXPECT_FALSE(stored->idempotency_key);
}

TEST(service_runs, create_accepts_json_with_media_type_parameters) {
  service_env env;
  auto req = service_env::request("POST", "/v1/runs", &env.alice);
  req.headers.emplace_back("Content-Type", "Application/JSON; charset=utf-8");
  req.body = R"({"input": "caf\u00e9 \u2615"})";
  auto r = env.handle(req);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body_of(r)["input"], "caf\xc3\xa9 \xe2\x98\x95");
}

struct body_case {
  std::string name;
  std::string body;
  int status;
  std::string detail_has;
};

TEST(service_runs, create_rejects_bad_bodies_with_a_clear_4xx) {
  service_env env;
  const std::vector<body_case> cases = {
      {"malformed", R"({"input": "x",})", 400, "line 1, column"},
      {"not an object", R"(["input"])", 400, "body"},
      {"input not a string", R"({"input": 5})", 400, "input"},
      {"input missing", R"({"options": {}})", 400, "input"},
      {"input empty", R"({"input": ""})", 400, "input"},
      {"options not an object", R"({"input": "x", "options": []})", 400, "options"},
      {"option of the wrong type", R"({"input": "x", "options": {"max_steps": "3"}})", 400,
       "max_steps"},
      {"option out of range", R"({"input": "x", "options": {"max_steps": 0}})", 400, "max_steps"},
      {"unknown option", R"({"input": "x", "options": {"max_stepz": 3}})", 400, "max_stepz"},
      {"unknown field", R"({"input": "x", "priority": 1})", 400, "priority"},
      {"unknown tool", R"({"input": "x", "options": {"tools": ["rm_rf"]}})", 400, "rm_rf"},
      {"invalid UTF-8", "{\"input\": \"\xff\xfe\"}", 400, "body is not valid UTF-8"},
      {"overlong UTF-8", "{\"input\": \"\xc0\xaf\"}", 400, "body is not valid UTF-8"},
      {"surrogate in UTF-8", "{\"input\": \"\xed\xa0\x80\"}", 400, "body is not valid UTF-8"},
      {"truncated UTF-8", "{\"input\": \"\xe2\x98\"}", 400, "body is not valid UTF-8"},
      {"too deep",
       R"({"input": "x", "options": )" + std::string(100, '[') + std::string(100, ']') + "}", 400,
       "deeper"},
      {"trailing garbage", R"({"input": "x"} {})", 400, "JSON"},
      {"number overflow", R"({"input": "x", "options": {"max_steps": 1e999}})", 400, ""},
      {"input too long", R"({"input": ")" + std::string(70 * 1024, 'a') + R"("})", 400, "input"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = env.handle(service_env::request("POST", "/v1/runs", &env.alice, c.body));
    expect_problem(r, c.status);
    EXPECT_NE(detail_of(r).find(c.detail_has), std::string::npos) << detail_of(r);
  }
  EXPECT_TRUE(env.st->list_runs({}).value().empty());
}

TEST(service_runs, write_routes_check_media_type_size_utf8_syntax_and_schema) {
  auto options = service_env::default_options();
  options.max_body_bytes = 1000;
  service_env env(options);
  const auto run = env.create_run(env.alice);
  for (const std::string& target :
       {std::string("/v1/runs"), "/v1/runs/" + run + "/cancel", "/v1/runs/" + run + "/approve"}) {
    SCOPED_TRACE(target);
    auto no_type = service_env::request("POST", target, &env.alice);
    no_type.body = R"({"reason": "x"})";
    expect_problem(env.handle(no_type), 415);
    auto text = service_env::request("POST", target, &env.alice);
    text.headers.emplace_back("Content-Type", "text/plain");
    text.body = R"({"reason": "x"})";
    expect_problem(env.handle(text), 415);
    auto big = env.handle(service_env::request("POST", target, &env.alice,
                                               R"({"reason": ")" + std::string(1000, 'r') + "\"}"));
    expect_problem(big, 413);
    expect_problem(env.handle(service_env::request("POST", target, &env.alice, "{nope")), 400);
    expect_problem(env.handle(service_env::request("POST", target, &env.alice, "{\"a\":\"\x80\"}")),
                   400);
    auto wrong = env.handle(service_env::request("POST", target, &env.alice, R"({"reason": 7})"));
    expect_problem(wrong, 400);
    EXPECT_NE(detail_of(wrong).find("reason"), std::string::npos) << detail_of(wrong);
  }
  // The approve body needs "approve" as a boolean.
  auto approve = env.post("/v1/runs/" + run + "/approve", env.alice, {{"approve", "yes"}});
  expect_problem(approve, 400);
  EXPECT_NE(detail_of(approve).find("approve"), std::string::npos);
  expect_problem(env.post("/v1/runs/" + run + "/approve", env.alice, nullptr), 400);
  EXPECT_EQ(env.st->get_run(run).value()->status, store::run_status::queued);
}

TEST(service_runs, idempotency_key_returns_the_same_run_for_the_same_body) {
  service_env env;
  auto first =
      service_env::request("POST", "/v1/runs", &env.alice,
                           R"({"input": "once", "options": {"max_steps": 2, "temperature": 0}})");
  first.headers.emplace_back("Idempotency-Key", "order-17");
  auto created = env.handle(first);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto id = body_of(created)["id"];

  // The same body with other spacing and key order is the same request.
  auto again = service_env::request(
      "POST", "/v1/runs", &env.alice,
      R"({ "options": {"temperature": 0, "max_steps": 2},  "input": "once" })");
  again.headers.emplace_back("Idempotency-Key", "order-17");
  auto replayed = env.handle(again);
  EXPECT_EQ(replayed.status, 200) << replayed.body;
  EXPECT_EQ(body_of(replayed)["id"], id);
  EXPECT_TRUE(body_of(replayed).contains("steps"));

  // The replay shows the run as it is now.
  ASSERT_TRUE(env.eng->cancel_run(id.get<std::string>(), "changed my mind"));
  auto later = env.handle(again);
  EXPECT_EQ(later.status, 200);
  EXPECT_EQ(body_of(later)["status"], "cancelled");

  // X-Idempotency-Key is the same header.
  auto alt =
      service_env::request("POST", "/v1/runs", &env.alice,
                           R"({"input": "once", "options": {"max_steps": 2, "temperature": 0}})");
  alt.headers.emplace_back("X-Idempotency-Key", "order-17");
  EXPECT_EQ(body_of(env.handle(alt))["id"], id);
  EXPECT_EQ(env.st->list_runs({}).value().size(), 1U);
}

TEST(service_runs, idempotency_key_with_another_body_is_409) {
  service_env env;
  auto first = service_env::request("POST", "/v1/runs", &env.alice, R"({"input": "one"})");
  first.headers.emplace_back("Idempotency-Key", "k");
  ASSERT_EQ(env.handle(first).status, 201);
  auto other = service_env::request("POST", "/v1/runs", &env.alice, R"({"input": "two"})");
  other.headers.emplace_back("Idempotency-Key", "k");
  auto r = env.handle(other);
  expect_problem(r, 409);
  EXPECT_NE(detail_of(r).find("Idempotency-Key"), std::string::npos);
  EXPECT_EQ(env.st->list_runs({}).value().size(), 1U);
}

TEST(service_runs, idempotency_keys_belong_to_one_api_key) {
  service_env env;
  auto as = [&](const test_key& k) {
    auto req = service_env::request("POST", "/v1/runs", &k, R"({"input": "same"})");
    req.headers.emplace_back("Idempotency-Key", "shared-key");
    return env.handle(req);
  };
  auto a = as(env.alice);
  auto b = as(env.bob);
  ASSERT_EQ(a.status, 201);
  ASSERT_EQ(b.status, 201);
  EXPECT_NE(body_of(a)["id"], body_of(b)["id"]);
  EXPECT_EQ(as(env.alice).status, 200);
  EXPECT_EQ(body_of(as(env.bob))["id"], body_of(b)["id"]);
}

TEST(service_runs, malformed_idempotency_keys_are_400) {
  service_env env;
  for (const std::string& key : {std::string(201, 'k'), std::string("tab\there"), std::string(),
                                 std::string("caf\xc3\xa9")}) {
    auto req = service_env::request("POST", "/v1/runs", &env.alice, R"({"input": "x"})");
    req.headers.emplace_back("Idempotency-Key", key);
    auto r = env.handle(req);
    expect_problem(r, 400);
    EXPECT_NE(detail_of(r).find("Idempotency-Key"), std::string::npos);
  }
  auto ok = service_env::request("POST", "/v1/runs", &env.alice, R"({"input": "x"})");
  ok.headers.emplace_back("Idempotency-Key", std::string(200, '~'));
  EXPECT_EQ(env.handle(ok).status, 201);
}

// A store that does not find runs by idempotency key the first `blind` times, as if another
// request inserted its run between this request's lookup and its insert.
class racing_store final : public grok::store::store {
 public:
  racing_store(grok::store::store& inner, int blind) : inner_(inner), blind_(blind) {}
  void blind_next(int n) { blind_ = n; }
  result<std::optional<grok::store::run_record>> find_run_by_idempotency_key(
      std::string_view owner, std::string_view key) override {
    if (blind_ > 0) {
      --blind_;
      return std::optional<grok::store::run_record>{};
    }
    return inner_.find_run_by_idempotency_key(owner, key);
  }
  result<void> transact(
      const std::function<result<void>(grok::store::transaction&)>& work) override {
    return inner_.transact(work);
  }
  result<std::optional<grok::store::job>> get_job(grok::store::job_id id) override {
    return inner_.get_job(id);
  }
  result<std::vector<grok::store::job>> list_jobs(
      const grok::store::job_page_request& req) override {
    return inner_.list_jobs(req);
  }
  result<grok::store::queue_stats> get_queue_stats() override { return inner_.get_queue_stats(); }
  result<std::optional<time_point>> next_visible_at(const std::vector<std::string>& t) override {
    return inner_.next_visible_at(t);
  }
  result<std::optional<grok::store::run_record>> get_run(std::string_view id) override {
    return inner_.get_run(id);
  }
  result<std::vector<grok::store::run_record>> list_runs(
      const grok::store::run_page_request& req) override {
    return inner_.list_runs(req);
  }
  result<std::vector<grok::store::step_record>> list_steps(std::string_view run_id) override {
    return inner_.list_steps(run_id);
  }
  result<std::vector<grok::store::event_record>> events_after(std::string_view run_id,
                                                              std::int64_t after,
                                                              int limit) override {
    return inner_.events_after(run_id, after, limit);
  }
  result<std::optional<grok::store::artifact_record>> get_artifact(std::string_view id) override {
    return inner_.get_artifact(id);
  }
  result<std::optional<grok::store::llm_call_record>> find_llm_call(
      std::string_view hash, std::optional<std::string_view> run_id) override {
    return inner_.find_llm_call(hash, run_id);
  }
  result<std::vector<grok::store::llm_call_record>> list_llm_calls(
      std::string_view run_id) override {
    return inner_.list_llm_calls(run_id);
  }
  grok::store::job_signal& jobs_signal() override { return inner_.jobs_signal(); }
  grok::store::job_signal& events_signal() override { return inner_.events_signal(); }
  grok::store::event_feed& events_feed() override { return inner_.events_feed(); }
  const clock& store_clock() const override { return inner_.store_clock(); }
  result<std::vector<grok::store::document_hit>> search_documents(std::string_view q,
                                                                  int k) override {
    return inner_.search_documents(q, k);
  }
  result<std::vector<grok::store::document_summary>> list_documents() override {
    return inner_.list_documents();
  }
  result<std::vector<grok::store::api_key_record>> list_api_keys() override {
    return inner_.list_api_keys();
  }
  result<std::optional<grok::store::api_key_record>> find_api_key(std::string_view hash) override {
    return inner_.find_api_key(hash);
  }

 private:
  grok::store::store& inner_;
  std::atomic<int> blind_;
};

TEST(service_runs, a_create_that_loses_the_idempotency_race_answers_with_the_winner) {
  racing_store* racing = nullptr;
  service_env env(service_env::default_options(), {}, [&](store::store& inner) {
    auto s = std::make_unique<racing_store>(inner, 0);
    racing = s.get();
    return s;
  });
  auto send = [&](const std::string& body) {
    auto req = service_env::request("POST", "/v1/runs", &env.alice, body);
    req.headers.emplace_back("Idempotency-Key", "raced");
    return env.handle(req);
  };
  auto winner = send(R"({"input": "race"})");
  ASSERT_EQ(winner.status, 201);
  // The loser's first lookup misses; its insert hits the unique index.
  racing->blind_next(1);
  auto same = send(R"({"input": "race"})");
  EXPECT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(body_of(same)["id"], body_of(winner)["id"]);
  racing->blind_next(1);
  expect_problem(send(R"({"input": "other"})"), 409);
  EXPECT_EQ(env.st->list_runs({}).value().size(), 1U);
}

TEST(service_runs, concurrent_creates_with_one_key_make_one_run) {
  service_env env;
  constexpr int k_threads = 6;
  std::vector<api::http_response> answers(k_threads);
  std::vector<std::thread> threads;
  for (int i = 0; i < k_threads; ++i) {
    threads.emplace_back([&, i] {
      auto req = service_env::request("POST", "/v1/runs", &env.alice, R"({"input": "together"})");
      req.headers.emplace_back("Idempotency-Key", "together");
      answers[static_cast<std::size_t>(i)] = env.handle(req);
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  int created = 0;
  for (const auto& a : answers) {
    ASSERT_TRUE(a.status == 201 || a.status == 200) << a.status << " " << a.body;
    created += a.status == 201 ? 1 : 0;
    ids.insert(body_of(a)["id"].get<std::string>());
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1U);
}

TEST(service_runs, get_returns_the_run_with_its_steps) {
  service_env env;
  const auto id = env.create_run(env.alice, "add them");
  auto run = env.st->get_run(id).value().value();
  const auto t0 = env.st->store_clock().now();
  run.status = store::run_status::failed;
  run.answer = "partial";
  run.error_code = "token_budget";
  run.error_message = "the run spent its token budget";
  run.started_at = t0;
  run.finished_at = t0 + std::chrono::seconds(2);
  run.tokens_in = 120;
  run.tokens_out = 30;
  run.cost = 0.25;
  store::step_record planner;
  planner.id = new_id("step", t0);
  planner.run_id = id;
  planner.name = "planner";
  planner.status = "completed";
  planner.attempts = 1;
  planner.output = R"({"steps":[]})";
  planner.prompt_version = "planner@1";
  planner.started_at = t0;
  planner.finished_at = t0 + std::chrono::milliseconds(800);
  planner.tokens_in = 100;
  planner.tokens_out = 20;
  planner.latency_ms = 800;
  store::step_record worker;
  worker.id = new_id("step", t0);
  worker.run_id = id;
  worker.name = "worker.E1";
  worker.tool = "calculator";
  worker.args_json = R"({"expression":"1+2"})";
  worker.status = "failed";
  worker.error = "division by zero";
  ASSERT_TRUE(env.st->transact([&](store::transaction& tx) -> result<void> {
    if (auto e = tx.update_run(run); !e) return e;
    if (auto e = tx.upsert_step(planner); !e) return e;
    return tx.upsert_step(worker);
  }));

  auto r = env.get("/v1/runs/" + id, env.alice);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body["status"], "failed");
  EXPECT_EQ(body["answer"], "partial");
  EXPECT_EQ(body["error"],
            json({{"code", "token_budget"}, {"message", "the run spent its token budget"}}));
  EXPECT_EQ(body["usage"], json({{"tokens_in", 120}, {"tokens_out", 30}, {"cost", 0.25}}));
  EXPECT_TRUE(is_rfc3339_ms(body["started_at"].get<std::string>()));
  EXPECT_TRUE(is_rfc3339_ms(body["finished_at"].get<std::string>()));
  ASSERT_EQ(body["steps"].size(), 2U);
  const auto& p = body["steps"][0];
  EXPECT_EQ(p["id"], planner.id);
  EXPECT_EQ(p["name"], "planner");
  EXPECT_TRUE(p["tool"].is_null());
  EXPECT_EQ(p["args"], json::object());
  EXPECT_EQ(p["status"], "completed");
  EXPECT_EQ(p["attempts"], 1);
  EXPECT_EQ(p["output"], R"({"steps":[]})");
  EXPECT_TRUE(p["error"].is_null());
  EXPECT_TRUE(is_rfc3339_ms(p["started_at"].get<std::string>()));
  EXPECT_EQ(p["tokens_in"], 100);
  EXPECT_EQ(p["tokens_out"], 20);
  EXPECT_EQ(p["latency_ms"], 800);
  EXPECT_EQ(p["prompt_version"], "planner@1");
  const auto& w = body["steps"][1];
  EXPECT_EQ(w["name"], "worker.E1");
  EXPECT_EQ(w["tool"], "calculator");
  EXPECT_EQ(w["args"], json({{"expression", "1+2"}}));
  EXPECT_EQ(w["error"], "division by zero");
  EXPECT_TRUE(w["output"].is_null());
  EXPECT_TRUE(w["started_at"].is_null());
  EXPECT_TRUE(w["prompt_version"].is_null());
  for (const char* field :
       {"id", "name", "tool", "args", "status", "attempts", "output", "error", "started_at",
        "finished_at", "tokens_in", "tokens_out", "latency_ms", "prompt_version"}) {
    EXPECT_TRUE(w.contains(field)) << field;
  }
}

TEST(service_runs, list_pages_walk_every_run_newest_first) {
  service_env env;
  std::vector<std::string> created;
  for (int i = 0; i < 7; ++i)
    created.push_back(env.create_run(env.alice, "task " + std::to_string(i)));
  env.create_run(env.bob);  // not alice's

  std::vector<std::string> seen;
  std::string target = "/v1/runs?limit=3";
  int pages = 0;
  while (true) {
    auto r = env.get(target, env.alice);
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = body_of(r);
    ++pages;
    EXPECT_LE(body["data"].size(), 3U);
    for (const auto& run : body["data"]) {
      seen.push_back(run["id"]);
      EXPECT_FALSE(run.contains("steps"));  // the list view
      EXPECT_EQ(run["status"], "queued");
    }
    if (body["next_cursor"].is_null()) break;
    target = "/v1/runs?limit=3&cursor=" + body["next_cursor"].get<std::string>();
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  std::vector<std::string> newest_first(created.rbegin(), created.rend());
  EXPECT_EQ(seen, newest_first);

  // A page that ends exactly at the last run says so.
  auto exact = body_of(env.get("/v1/runs?limit=7", env.alice));
  EXPECT_EQ(exact["data"].size(), 7U);
  EXPECT_TRUE(exact["next_cursor"].is_null());
  // The default page holds them all.
  EXPECT_EQ(body_of(env.get("/v1/runs", env.admin))["data"].size(), 8U);
}

TEST(service_runs, list_filters_by_status) {
  service_env env;
  const auto a = env.create_run(env.alice);
  const auto b = env.create_run(env.alice);
  ASSERT_EQ(env.post("/v1/runs/" + a + "/cancel", env.alice, nullptr).status, 200);
  auto cancelled = body_of(env.get("/v1/runs?status=cancelled", env.alice));
  ASSERT_EQ(cancelled["data"].size(), 1U);
  EXPECT_EQ(cancelled["data"][0]["id"], a);
  auto queued = body_of(env.get("/v1/runs?status=queued", env.alice));
  ASSERT_EQ(queued["data"].size(), 1U);
  EXPECT_EQ(queued["data"][0]["id"], b);
  EXPECT_TRUE(body_of(env.get("/v1/runs?status=completed", env.alice))["data"].empty());
}

TEST(service_runs, cancel_ends_the_run_and_a_second_cancel_is_409) {
  service_env env;
  const auto id = env.create_run(env.alice);
  auto r = env.post("/v1/runs/" + id + "/cancel", env.alice, {{"reason", "no longer needed"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body["id"], id);
  EXPECT_EQ(body["status"], "cancelled");
  EXPECT_EQ(body["error"]["message"], "no longer needed");
  EXPECT_TRUE(is_rfc3339_ms(body["finished_at"].get<std::string>()));
  EXPECT_TRUE(body.contains("steps"));

  auto again = env.post("/v1/runs/" + id + "/cancel", env.alice, nullptr);
  expect_problem(again, 409);
  EXPECT_NE(detail_of(again).find("already ended"), std::string::npos);
  expect_problem(env.post("/v1/runs/run_01HZX3J5W9Q8RS2T4V6Y8A0C1E/cancel", env.alice, nullptr),
                 404);
  // Without a body the reason is the default.
  const auto other = env.create_run(env.alice);
  auto plain = env.post("/v1/runs/" + other + "/cancel", env.alice, nullptr);
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(body_of(plain)["status"], "cancelled");
}

// Puts a run in awaiting_input with a one-step calculator plan, as the planner would.
void await_approval(service_env& env, const std::string& id) {
  auto run = env.st->get_run(id).value().value();
  store::step_record planner;
  planner.id = new_id("step", env.st->store_clock().now());
  planner.run_id = id;
  planner.name = "planner";
  planner.status = "completed";
  planner.output = R"({"steps":[{"id":"E1","tool":"calculator","args":{"expression":"1+1"}}]})";
  run.status = store::run_status::awaiting_input;
  ASSERT_TRUE(env.st->transact([&](store::transaction& tx) -> result<void> {
    if (auto e = tx.upsert_step(planner); !e) return e;
    return tx.update_run(run);
  }));
}

TEST(service_runs, approve_runs_the_plan_of_a_waiting_run) {
  service_env env;
  const auto id = env.create_run(env.alice, "add", {{"require_approval", true}});
  auto early = env.post("/v1/runs/" + id + "/approve", env.alice, {{"approve", true}});
  expect_problem(early, 409);
  EXPECT_NE(detail_of(early).find("not awaiting"), std::string::npos);

  await_approval(env, id);
  auto r = env.post("/v1/runs/" + id + "/approve", env.alice, {{"approve", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body["status"], "running");
  std::set<std::string> names;
  for (const auto& s : body["steps"]) names.insert(s["name"].get<std::string>());
  EXPECT_TRUE(names.contains("worker.E1")) << body["steps"].dump();
  expect_problem(env.post("/v1/runs/" + id + "/approve", env.alice, {{"approve", true}}), 409);
}

TEST(service_runs, approve_with_an_invalid_edited_plan_is_400_and_the_run_keeps_waiting) {
  service_env env;
  const auto id = env.create_run(env.alice, "add", {{"require_approval", true}});
  await_approval(env, id);
  json plan = {{"steps", {{{"id", "E1"}, {"tool", "no_such_tool"}, {"args", json::object()}}}}};
  auto r = env.post("/v1/runs/" + id + "/approve", env.alice, {{"approve", true}, {"plan", plan}});
  expect_problem(r, 400);
  EXPECT_NE(detail_of(r).find("plan"), std::string::npos);
  EXPECT_EQ(env.st->get_run(id).value()->status, store::run_status::awaiting_input);

  json edited = {
      {"steps", {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "2*3"}}}}}}};
  auto ok =
      env.post("/v1/runs/" + id + "/approve", env.alice, {{"approve", true}, {"plan", edited}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  bool found = false;
  const auto approved = body_of(ok);
  for (const auto& s : approved["steps"]) {
    if (s["name"] == "worker.E1") {
      EXPECT_EQ(s["args"], json({{"expression", "2*3"}}));
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(service_runs, rejecting_the_plan_cancels_the_run_with_the_reason) {
  service_env env;
  const auto id = env.create_run(env.alice, "add", {{"require_approval", true}});
  await_approval(env, id);
  auto r = env.post("/v1/runs/" + id + "/approve", env.alice,
                    {{"approve", false}, {"reason", "too expensive"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["status"], "cancelled");
  EXPECT_NE(body_of(r)["error"]["message"].get<std::string>().find("too expensive"),
            std::string::npos);
}

}  // namespace
}  // namespace grok::testing
