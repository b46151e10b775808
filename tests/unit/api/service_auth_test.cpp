// api::service: API keys (401), scopes and ownership (403), the rate limit (429 and the
// RateLimit-* headers), request signing and CORS.
#include "api/service.h"

#include <gtest/gtest.h>

#include "api/router.h"
#include "api/signing.h"
#include "unit/api/service_fixture.h"

namespace grok::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// A concrete target for every /v1 route, its {id} filled in.
std::vector<std::pair<std::string, std::string>> v1_requests(const std::string& run_id) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : api::route_table()) {
    if (r.access == api::route_access::open) continue;
    std::string target(r.path);
    if (auto at = target.find("{id}"); at != std::string::npos) {
      target.replace(at, 4, r.param == api::path_param::job_id ? "1" : run_id);
    }
    out.emplace_back(r.method, target);
  }
  return out;
}

api::http_request v1_request(const std::string& method, const std::string& target) {
  auto req = service_env::request(method, target);
  req.websocket_upgrade = target == "/v1/ws";
  return req;
}

TEST(service_auth, every_v1_route_refuses_a_missing_wrong_malformed_or_revoked_key) {
  service_env env;
  const auto run = env.create_run(env.alice);
  auto revoked = env.add_key("admin");
  env.revoke(revoked);
  const auto unknown = generate_api_key()->key;
  const auto requests = v1_requests(run);
  ASSERT_EQ(requests.size(), 12U);
  for (const auto& [method, target] : requests) {
    for (const std::string& authorization :
         {std::string(), "Bearer " + unknown, std::string("Bearer abc"), std::string("Bearer "),
          "Basic " + env.admin.key, "Bearer " + revoked.key, "Bearer " + env.admin.key + "x",
          env.admin.key}) {
      SCOPED_TRACE(method + " " + target + " with '" + authorization + "'");
      auto req = v1_request(method, target);
      if (!authorization.empty()) req.headers.emplace_back("Authorization", authorization);
      auto r = env.handle(req);
      expect_problem(r, 401);
      EXPECT_EQ(header_of(r, "WWW-Authenticate"), "Bearer realm=\"grok\"");
      EXPECT_TRUE(header_of(r, "RateLimit-Limit").empty());
    }
  }
}

TEST(service_auth, bearer_scheme_is_case_insensitive) {
  service_env env;
  auto req = service_env::request("GET", "/v1/tools");
  req.headers.emplace_back("authorization", "bearer   " + env.alice.key);
  EXPECT_EQ(env.handle(req).status, 200);
}

TEST(service_auth, access_token_is_accepted_only_by_the_streaming_routes) {
  service_env env;
  const auto run = env.create_run(env.alice);
  auto stream = env.handle(
      service_env::request("GET", "/v1/runs/" + run + "/stream?access_token=" + env.alice.key));
  EXPECT_EQ(stream.status, 200) << stream.body;
  ASSERT_TRUE(stream.stream);
  stream.stream->on_closed();

  auto ws = service_env::request("GET", "/v1/ws?access_token=" + env.alice.key);
  ws.websocket_upgrade = true;
  auto upgraded = env.handle(ws);
  EXPECT_EQ(upgraded.status, 101);
  ASSERT_TRUE(upgraded.stream);
  upgraded.stream->on_closed();

  auto bad = env.handle(service_env::request("GET", "/v1/ws?access_token=grok_nope"));
  EXPECT_EQ(bad.status, 426);  // not an upgrade: refused before the key is looked at
  auto ws_bad = service_env::request("GET", "/v1/ws?access_token=grok_nope");
  ws_bad.websocket_upgrade = true;
  expect_problem(env.handle(ws_bad), 401);

  for (const std::string& target :
       {std::string("/v1/runs"), "/v1/runs/" + run, std::string("/v1/tools")}) {
    auto r = env.handle(service_env::request("GET", target + "?access_token=" + env.alice.key));
    expect_problem(r, 401);
    EXPECT_NE(detail_of(r).find("access_token"), std::string::npos);
  }
}

TEST(service_auth, queue_routes_need_an_admin_key) {
  service_env env;
  for (const auto& [method, target] :
       {std::pair{"GET", "/v1/queue"}, std::pair{"GET", "/v1/queue/dead"},
        std::pair{"POST", "/v1/queue/dead/1/retry"}}) {
    SCOPED_TRACE(target);
    auto r = env.handle(service_env::request(method, target, &env.alice));
    expect_problem(r, 403);
    EXPECT_FALSE(header_of(r, "RateLimit-Limit").empty());
  }
  EXPECT_EQ(env.get("/v1/queue", env.admin).status, 200);
  EXPECT_EQ(env.get("/v1/queue/dead", env.admin).status, 200);
  EXPECT_EQ(env.get("/v1/tools", env.alice).status, 200);
}

TEST(service_auth, a_runs_key_cannot_see_or_control_another_keys_run) {
  service_env env;
  const auto run = env.create_run(env.alice);
  const std::string base = "/v1/runs/" + run;
  expect_problem(env.get(base, env.bob), 403);
  expect_problem(env.get(base + "/events", env.bob), 403);
  auto stream = env.get(base + "/stream", env.bob);
  expect_problem(stream, 403);
  EXPECT_FALSE(stream.stream);
  expect_problem(env.post(base + "/cancel", env.bob, nullptr), 403);
  expect_problem(env.post(base + "/approve", env.bob, {{"approve", true}}), 403);
  EXPECT_EQ(env.st->get_run(run).value()->status, store::run_status::queued);

  EXPECT_EQ(env.get(base, env.alice).status, 200);
  EXPECT_EQ(env.get(base, env.admin).status, 200);
  EXPECT_EQ(env.get(base + "/events", env.admin).status, 200);
}

TEST(service_auth, runs_without_an_owner_are_for_admin_keys_only) {
  service_env env;
  engine::create_run_request req;
  req.input = "from the command line";
  auto run = env.eng->create_run(req);
  ASSERT_TRUE(run);
  expect_problem(env.get("/v1/runs/" + run->id, env.alice), 403);
  EXPECT_EQ(env.get("/v1/runs/" + run->id, env.admin).status, 200);
}

TEST(service_auth, lists_show_a_runs_key_only_its_own_runs) {
  service_env env;
  const auto a1 = env.create_run(env.alice);
  const auto b1 = env.create_run(env.bob);
  const auto a2 = env.create_run(env.alice);
  auto ids = [&](const test_key& k) {
    std::vector<std::string> out;
    const auto body = body_of(env.get("/v1/runs", k));
    for (const auto& r : body["data"]) out.push_back(r["id"]);
    return out;
  };
  EXPECT_EQ(ids(env.alice), (std::vector<std::string>{a2, a1}));
  EXPECT_EQ(ids(env.bob), (std::vector<std::string>{b1}));
  EXPECT_EQ(ids(env.admin), (std::vector<std::string>{a2, b1, a1}));
  EXPECT_EQ(env.st->get_run(a1).value()->owner_key_id, env.alice.id);
}

TEST(service_auth, rate_limit_is_429_with_retry_after_and_ratelimit_headers) {
  auto options = service_env::default_options();
  options.rate_limit = {.per_second = 0.5, .burst = 2};
  service_env env(options);

  auto first = env.get("/v1/tools", env.alice);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(header_of(first, "RateLimit-Limit"), "2");
  EXPECT_EQ(header_of(first, "RateLimit-Remaining"), "1");
  EXPECT_EQ(header_of(first, "RateLimit-Reset"), "2");
  auto second = env.get("/v1/runs", env.alice);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(header_of(second, "RateLimit-Remaining"), "0");
  EXPECT_EQ(header_of(second, "RateLimit-Reset"), "4");

  auto refused = env.get("/v1/tools", env.alice);
  expect_problem(refused, 429);
  EXPECT_EQ(header_of(refused, "Retry-After"), "2");
  EXPECT_EQ(header_of(refused, "RateLimit-Limit"), "2");
  EXPECT_EQ(header_of(refused, "RateLimit-Remaining"), "0");

  // Another key has its own bucket; time refills this one.
  EXPECT_EQ(env.get("/v1/tools", env.bob).status, 200);
  env.clock.advance(1500ms);
  auto soon = env.get("/v1/tools", env.alice);
  expect_problem(soon, 429);
  EXPECT_EQ(header_of(soon, "Retry-After"), "1");  // 0.5 s left, rounded up
  env.clock.advance(500ms);
  EXPECT_EQ(env.get("/v1/tools", env.alice).status, 200);
  // Routes without a key are not limited.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(env.handle(service_env::request("GET", "/healthz")).status, 200);
  }
}

TEST(service_auth, every_v1_route_answers_429_once_the_keys_bucket_is_empty) {
  auto options = service_env::default_options();
  options.rate_limit = {.per_second = 0.001, .burst = 1};
  service_env env(options);
  const auto run = env.create_run(env.admin);  // takes the admin key's only token
  for (const auto& [method, target] : v1_requests(run)) {
    SCOPED_TRACE(method + " " + target);
    auto req = v1_request(method, target);
    req.headers.emplace_back("Authorization", "Bearer " + env.admin.key);
    auto r = env.handle(req);
    expect_problem(r, 429);
    EXPECT_EQ(header_of(r, "Retry-After"), "1000");
    EXPECT_EQ(header_of(r, "RateLimit-Limit"), "1");
    EXPECT_EQ(header_of(r, "RateLimit-Remaining"), "0");
    EXPECT_FALSE(r.stream);
  }
}

class service_signing : public ::testing::Test {
 protected:
  static api::service_options signed_options() {
    auto o = service_env::default_options();
    o.signing_secret = "s3cret";
    return o;
  }
  api::http_request signed_post(const std::string& target, const std::string& body,
                                std::chrono::seconds skew = 0s,
                                const std::string& secret = "s3cret") {
    auto req = service_env::request("POST", target, &env.alice, body);
    const auto ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(env.clock.now().time_since_epoch() + skew)
            .count());
    req.headers.emplace_back("X-Grok-Timestamp", ts);
    req.headers.emplace_back("X-Grok-Signature",
                             api::sign_request(secret, ts, "POST", target, body));
    return req;
  }
  service_env env{signed_options()};
};

TEST_F(service_signing, a_valid_signature_is_accepted) {
  auto r = env.handle(signed_post("/v1/runs", R"({"input":"signed"})"));
  EXPECT_EQ(r.status, 201) << r.body;
  // The target is signed as sent, query included.
  const auto run = body_of(r)["id"].get<std::string>();
  auto cancel = env.handle(signed_post("/v1/runs/" + run + "/cancel?x=1", ""));
  EXPECT_EQ(cancel.status, 200) << cancel.body;
}

TEST_F(service_signing, missing_wrong_or_stale_signatures_are_401) {
  const std::string body = R"({"input":"signed"})";
  auto unsigned_req = service_env::request("POST", "/v1/runs", &env.alice, body);
  auto r = env.handle(unsigned_req);
  expect_problem(r, 401);
  EXPECT_NE(detail_of(r).find("X-Grok-"), std::string::npos) << detail_of(r);

  expect_problem(env.handle(signed_post("/v1/runs", body, 0s, "other")), 401);
  expect_problem(env.handle(signed_post("/v1/runs", body, -301s)), 401);
  expect_problem(env.handle(signed_post("/v1/runs", body, 301s)), 401);
  EXPECT_EQ(env.handle(signed_post("/v1/runs", body, -299s)).status, 201);

  // A signature over another body or target does not carry over.
  auto tampered = signed_post("/v1/runs", body);
  tampered.body = R"({"input":"tampered"})";
  expect_problem(env.handle(tampered), 401);
  auto moved = signed_post("/v1/runs?a=1", body);
  moved.target = "/v1/runs";
  expect_problem(env.handle(moved), 401);
  EXPECT_EQ(env.st->list_runs({}).value().size(), 1U);
}

TEST_F(service_signing, reads_need_no_signature) {
  EXPECT_EQ(env.get("/v1/runs", env.alice).status, 200);
  EXPECT_EQ(env.get("/v1/tools", env.alice).status, 200);
}

TEST(service_signing_off, posts_need_no_signature_when_no_secret_is_set) {
  service_env env;
  EXPECT_EQ(env.post("/v1/runs", env.alice, {{"input", "plain"}}).status, 201);
}

class service_cors : public ::testing::Test {
 protected:
  static api::service_options cors_options(std::vector<std::string> origins) {
    auto o = service_env::default_options();
    o.cors_origins = std::move(origins);
    return o;
  }
  static api::http_request preflight(const std::string& target, const std::string& origin) {
    auto req = service_env::request("OPTIONS", target);
    req.headers.emplace_back("Origin", origin);
    req.headers.emplace_back("Access-Control-Request-Method", "POST");
    req.headers.emplace_back("Access-Control-Request-Headers", "authorization, content-type");
    return req;
  }
};

TEST_F(service_cors, preflight_from_an_allowed_origin_is_204_without_a_key) {
  service_env env(cors_options({"https://app.example"}));
  auto r = env.handle(preflight("/v1/runs", "https://app.example"));
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(header_of(r, "Vary"), "Origin");
  EXPECT_EQ(header_of(r, "Access-Control-Allow-Methods"), "POST, GET");
  const auto allowed = header_of(r, "Access-Control-Allow-Headers");
  for (const char* h : {"Authorization", "Content-Type", "Idempotency-Key", "X-Idempotency-Key",
                        "X-Grok-Timestamp", "X-Grok-Signature", "Last-Event-ID", "X-Request-Id"}) {
    EXPECT_NE(allowed.find(h), std::string::npos) << h;
  }
  EXPECT_EQ(header_of(r, "Access-Control-Max-Age"), "600");
  EXPECT_FALSE(header_of(r, "X-Request-Id").empty());

  auto one = env.handle(
      preflight("/v1/runs/run_01HZX3J5W9Q8RS2T4V6Y8A0C1E/cancel", "https://app.example"));
  EXPECT_EQ(one.status, 204);
  EXPECT_EQ(header_of(one, "Access-Control-Allow-Methods"), "POST");
  expect_problem(env.handle(preflight("/nowhere", "https://app.example")), 404);
}

TEST_F(service_cors, preflight_from_another_origin_is_403) {
  service_env env(cors_options({"https://app.example"}));
  for (const char* origin :
       {"https://evil.example", "https://app.example.evil", "null", "http://app.example"}) {
    auto r = env.handle(preflight("/v1/runs", origin));
    expect_problem(r, 403);
    EXPECT_TRUE(header_of(r, "Access-Control-Allow-Origin").empty());
  }
  service_env closed;  // no origins configured: every preflight is refused
  expect_problem(closed.handle(preflight("/v1/runs", "https://app.example")), 403);
}

TEST_F(service_cors, responses_to_allowed_origins_carry_cors_headers) {
  service_env env(cors_options({"https://app.example"}));
  auto req = service_env::request("GET", "/v1/runs", &env.alice);
  req.headers.emplace_back("Origin", "https://app.example");
  auto r = env.handle(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(header_of(r, "Vary"), "Origin");
  const auto exposed = header_of(r, "Access-Control-Expose-Headers");
  for (const char* h : {"X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
                        "Retry-After", "Location"}) {
    EXPECT_NE(exposed.find(h), std::string::npos) << h;
  }
  // Errors too, so that the page can read them.
  auto err = service_env::request("GET", "/v1/runs");
  err.headers.emplace_back("Origin", "https://app.example");
  auto unauth = env.handle(err);
  EXPECT_EQ(unauth.status, 401);
  EXPECT_EQ(header_of(unauth, "Access-Control-Allow-Origin"), "https://app.example");

  auto other = service_env::request("GET", "/v1/runs", &env.alice);
  other.headers.emplace_back("Origin", "https://evil.example");
  auto denied = env.handle(other);
  EXPECT_EQ(denied.status, 200);
  EXPECT_TRUE(header_of(denied, "Access-Control-Allow-Origin").empty());
  EXPECT_TRUE(header_of(denied, "Access-Control-Expose-Headers").empty());
}

TEST_F(service_cors, a_wildcard_allows_any_origin) {
  service_env env(cors_options({"*"}));
  auto r = env.handle(preflight("/v1/runs", "https://anything.example"));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(header_of(r, "Access-Control-Allow-Origin"), "https://anything.example");
}

}  // namespace
}  // namespace grok::testing
