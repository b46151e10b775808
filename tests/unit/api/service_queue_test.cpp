// api::service: GET /v1/tools and the admin queue routes (stats, dead letters, retry).
#include "api/service.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "unit/api/service_fixture.h"

namespace grok::testing {
namespace {

using json = nlohmann::json;

// Dead-letters `n` jobs of topic "test.dead"; returns their ids, oldest first.
std::vector<store::job_id> make_dead_jobs(service_env& env, int n) {
  std::vector<store::job_id> ids;
  for (int i = 0; i < n; ++i) {
    auto queued = env.st->enqueue(
        {.topic = "test.dead", .payload = json({{"n", i}}).dump(), .max_attempts = 1});
    EXPECT_TRUE(queued);
    auto claimed = env.st->claim({.topics = {"test.dead"}, .worker_id = "w1"});
    EXPECT_TRUE(claimed && claimed->size() == 1);
    auto nacked = env.st->nack({.held = (*claimed)[0].held_lease(),
                                .error = "boom " + std::to_string(i),
                                .permanent = true});
    EXPECT_TRUE(nacked && *nacked == store::nack_outcome::dead);
    ids.push_back(queued->id);
  }
  return ids;
}

TEST(service_queue, tools_lists_every_tool_with_its_schema) {
  service_env env;
  auto r = env.get("/v1/tools", env.alice);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  std::set<std::string> names;
  for (const auto& t : body["data"]) {
    names.insert(t["name"].get<std::string>());
    EXPECT_FALSE(t["description"].get<std::string>().empty());
    EXPECT_TRUE(t["parameters"].is_object());
    EXPECT_EQ(t["parameters"]["type"], "object");
  }
  for (const char* tool : {"calculator", "http_get", "web_page", "doc_search", "llm"}) {
    EXPECT_TRUE(names.contains(tool)) << tool;
  }
}

TEST(service_queue, stats_show_depth_per_topic_and_state) {
  service_env env;
  env.create_run(env.alice);  // enqueues run.plan and run.deadline
  make_dead_jobs(env, 2);
  auto r = env.get("/v1/queue", env.admin);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  std::map<std::pair<std::string, std::string>, std::int64_t> depth;
  for (const auto& d : body["depth"]) depth[{d["topic"], d["state"]}] = d["count"];
  EXPECT_EQ((depth[{"run.plan", "ready"}]), 1);
  EXPECT_EQ((depth[{"test.dead", "dead"}]), 2);
  EXPECT_GE(body["visible"].get<int>(), 1);
  EXPECT_TRUE(body["oldest_visible_lag_ms"].is_number());
}

TEST(service_queue, dead_jobs_are_listed_in_pages) {
  service_env env;
  const auto ids = make_dead_jobs(env, 5);
  std::vector<store::job_id> seen;
  std::string target = "/v1/queue/dead?limit=2";
  int pages = 0;
  while (true) {
    auto r = env.get(target, env.admin);
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = body_of(r);
    ++pages;
    for (const auto& j : body["data"]) {
      seen.push_back(j["id"].get<store::job_id>());
      EXPECT_EQ(j["topic"], "test.dead");
      EXPECT_EQ(j["state"], "dead");
      EXPECT_EQ(j["attempts"], 1);
      EXPECT_EQ(j["max_attempts"], 1);
      EXPECT_TRUE(j["last_error"].get<std::string>().starts_with("boom"));
      EXPECT_TRUE(j["payload"].is_object());
      EXPECT_TRUE(j.contains("created_at"));
      EXPECT_TRUE(j.contains("updated_at"));
    }
    if (body["next_cursor"].is_null()) break;
    target = "/v1/queue/dead?limit=2&cursor=" + body["next_cursor"].get<std::string>();
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(body_of(env.get("/v1/queue/dead", env.admin))["data"].size(), 5U);
}

TEST(service_queue, retry_requeues_a_dead_job_once) {
  service_env env;
  const auto ids = make_dead_jobs(env, 1);
  const auto target = "/v1/queue/dead/" + std::to_string(ids[0]) + "/retry";
  auto r = env.post(target, env.admin, nullptr);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r), json({{"id", ids[0]}, {"state", "ready"}}));
  EXPECT_EQ(env.st->get_job(ids[0]).value()->state, store::job_state::ready);
  EXPECT_TRUE(body_of(env.get("/v1/queue/dead", env.admin))["data"].empty());

  auto again = env.post(target, env.admin, nullptr);
  expect_problem(again, 409);
  expect_problem(env.post("/v1/queue/dead/987654/retry", env.admin, nullptr), 404);
  expect_problem(env.post(target, env.alice, nullptr), 403);
}

}  // namespace
}  // namespace grok::testing
