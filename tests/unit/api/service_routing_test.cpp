// api::service: routing (404, 405, ids), X-Request-Id, query parameters, the system routes
// (/healthz, /readyz, /metrics, /openapi.json) and the 500 wrapper.
#include "api/service.h"

#include <gtest/gtest.h>

#include <set>

#include "api/router.h"
#include "core/embedded_files.h"
#include "unit/api/service_fixture.h"

namespace grok::testing {
namespace {

using json = nlohmann::json;

TEST(service_routing, unknown_path_is_404_problem_with_request_id) {
  service_env env;
  for (const char* target :
       {"/", "/v2/runs", "/v1/runs/", "/v1/runsx", "/v1//runs", "/nope?x=1", "relative", ""}) {
    auto r = env.handle(service_env::request("GET", target, &env.admin));
    SCOPED_TRACE(target);
    expect_problem(r, 404);
  }
}

TEST(service_routing, malformed_ids_are_404) {
  service_env env;
  for (const char* target :
       {"/v1/runs/run_bad", "/v1/runs/run_01abcdefghjkmnpqrstvwxyz01",  // lower case
        "/v1/runs/step_01HZX3J5W9Q8RS2T4V6Y8A0C1E", "/v1/runs/run_81HZX3J5W9Q8RS2T4V6Y8A0C1E",
        "/v1/runs/run_01HZX3J5W9Q8RS2T4V6Y8A0C1E1/events", "/v1/runs/%72un_x/stream"}) {
    SCOPED_TRACE(target);
    expect_problem(env.get(target, env.admin), 404);
  }
  for (const char* target :
       {"/v1/queue/dead/abc/retry", "/v1/queue/dead/0/retry", "/v1/queue/dead/-1/retry",
        "/v1/queue/dead/99999999999999999999/retry", "/v1/queue/dead/+1/retry"}) {
    SCOPED_TRACE(target);
    expect_problem(env.handle(service_env::request("POST", target, &env.admin)), 404);
  }
}

TEST(service_routing, a_valid_run_id_that_does_not_exist_is_404) {
  service_env env;
  auto r = env.get("/v1/runs/run_01HZX3J5W9Q8RS2T4V6Y8A0C1E", env.admin);
  expect_problem(r, 404);
  EXPECT_NE(detail_of(r).find("run_01HZX3J5W9Q8RS2T4V6Y8A0C1E"), std::string::npos);
}

TEST(service_routing, wrong_method_is_405_with_allow) {
  service_env env;
  struct case_t {
    const char* method;
    std::string target;
    const char* allow;
  };
  const std::string run = "/v1/runs/run_01HZX3J5W9Q8RS2T4V6Y8A0C1E";
  for (const auto& c :
       {case_t{"DELETE", "/v1/runs", "POST, GET"}, case_t{"PUT", run, "GET"},
        case_t{"GET", run + "/cancel", "POST"}, case_t{"POST", "/healthz", "GET"},
        case_t{"PATCH", "/v1/queue/dead/5/retry", "POST"}, case_t{"POST", "/v1/ws", "GET"}}) {
    SCOPED_TRACE(c.target);
    auto r = env.handle(service_env::request(c.method, c.target, &env.admin));
    expect_problem(r, 405);
    EXPECT_EQ(header_of(r, "Allow"), c.allow);
  }
}

TEST(service_routing, every_route_answers_405_to_other_methods_and_404_to_bad_ids) {
  service_env env;
  for (const auto& route : api::route_table()) {
    std::string target(route.path);
    const auto at = target.find("{id}");
    if (at != std::string::npos) {
      auto bad = target;
      bad.replace(at, 4, route.param == api::path_param::job_id ? "x7" : "run_nope");
      SCOPED_TRACE(bad);
      expect_problem(env.handle(service_env::request(std::string(route.method), bad, &env.admin)),
                     404);
      target.replace(
          at, 4, route.param == api::path_param::job_id ? "7" : "run_01HZX3J5W9Q8RS2T4V6Y8A0C1E");
    }
    for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
      if (route.method == method) continue;
      if (target == "/v1/runs" && std::string_view(method) != "PUT") continue;  // GET and POST
      SCOPED_TRACE(std::string(method) + " " + target);
      auto r = env.handle(service_env::request(method, target, &env.admin));
      expect_problem(r, 405);
      EXPECT_NE(header_of(r, "Allow").find(route.method), std::string::npos);
    }
  }
}

TEST(service_routing, plain_options_lists_the_methods) {
  service_env env;
  auto r = env.handle(service_env::request("OPTIONS", "/v1/runs"));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(header_of(r, "Allow"), "POST, GET, OPTIONS");
  EXPECT_FALSE(header_of(r, "X-Request-Id").empty());
}

TEST(service_routing, well_formed_request_id_is_kept_and_others_replaced) {
  service_env env;
  auto with_id = [&](const std::string& id, const std::string& target) {
    auto req = service_env::request("GET", target);
    req.headers.emplace_back("X-Request-Id", id);
    return env.handle(req);
  };
  EXPECT_EQ(header_of(with_id("abc.DEF_1-2", "/healthz"), "X-Request-Id"), "abc.DEF_1-2");
  // Kept on errors too, and in the problem body.
  auto missing = with_id("trace-7", "/nowhere");
  expect_problem(missing, 404);
  EXPECT_EQ(header_of(missing, "X-Request-Id"), "trace-7");
  auto unauth = with_id("trace-8", "/v1/runs");
  expect_problem(unauth, 401);
  EXPECT_EQ(body_of(unauth)["request_id"], "trace-8");

  for (const std::string& bad : {std::string("has space"), std::string("semi;colon"),
                                 std::string(129, 'a'), std::string(), std::string("\xc3\xa9")}) {
    const auto got = header_of(with_id(bad, "/healthz"), "X-Request-Id");
    EXPECT_NE(got, bad);
    EXPECT_TRUE(got.starts_with("req_")) << got;
  }
  EXPECT_EQ(header_of(with_id(std::string(128, 'a'), "/healthz"), "X-Request-Id"),
            std::string(128, 'a'));
  // Without one, each response gets a fresh id.
  const auto a = header_of(env.handle(service_env::request("GET", "/healthz")), "X-Request-Id");
  const auto b = header_of(env.handle(service_env::request("GET", "/healthz")), "X-Request-Id");
  EXPECT_TRUE(a.starts_with("req_"));
  EXPECT_NE(a, b);
}

TEST(service_routing, bad_query_values_are_400_naming_the_parameter) {
  service_env env;
  const auto run = env.create_run(env.alice);
  struct case_t {
    std::string target;
    std::string param;
  };
  for (const auto& c :
       {case_t{"/v1/runs?limit=0", "limit"}, case_t{"/v1/runs?limit=201", "limit"},
        case_t{"/v1/runs?limit=1000", "limit"}, case_t{"/v1/runs?limit=abc", "limit"},
        case_t{"/v1/runs?limit=", "limit"}, case_t{"/v1/runs?limit=-5", "limit"},
        case_t{"/v1/runs?cursor=bogus", "cursor"}, case_t{"/v1/runs?status=done", "status"},
        case_t{"/v1/runs?status=", "status"},
        case_t{"/v1/runs/" + run + "/events?after=abc", "after"},
        case_t{"/v1/runs/" + run + "/events?after=-1", "after"},
        case_t{"/v1/runs/" + run + "/events?limit=1001", "limit"},
        case_t{"/v1/runs/" + run + "/stream?after=1.5", "after"},
        case_t{"/v1/queue/dead?cursor=x1", "cursor"}, case_t{"/v1/queue/dead?limit=0", "limit"},
        case_t{"/v1/runs?limit=%zz", "limit"}}) {
    SCOPED_TRACE(c.target);
    auto r = env.get(c.target, env.admin);
    expect_problem(r, 400);
    EXPECT_TRUE(detail_of(r).starts_with(c.param + ":")) << detail_of(r);
  }
}

TEST(service_routing, query_is_percent_decoded_and_unknown_parameters_are_ignored) {
  service_env env;
  env.create_run(env.alice);
  auto r = env.get("/v1/runs?status=%71ueued&foo=bar&&limit=1#frag", env.alice);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["data"].size(), 1U);
  r = env.get("/v1/runs?st%61tus=queued", env.alice);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["data"].size(), 1U);
  // '+' is a space: "queued " is no status.
  expect_problem(env.get("/v1/runs?status=queued+", env.alice), 400);
}

TEST(service_routing, oversized_query_strings_are_400) {
  service_env env;
  expect_problem(env.get("/v1/runs?x=" + std::string(api::k_max_query_bytes, 'a'), env.alice), 400);
  std::string many = "/v1/runs?";
  for (int i = 0; i < 40; ++i) many += "p" + std::to_string(i) + "=1&";
  expect_problem(env.get(many, env.alice), 400);
}

TEST(service_routing, healthz_needs_no_key) {
  service_env env;
  auto r = env.handle(service_env::request("GET", "/healthz"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header_of(r, "Content-Type"), "application/json");
  EXPECT_EQ(body_of(r), json({{"status", "ok"}}));
  EXPECT_TRUE(header_of(r, "RateLimit-Limit").empty());
}

TEST(service_routing, readyz_checks_the_database_the_probe_and_the_limiter) {
  service_env env;
  auto r = env.handle(service_env::request("GET", "/readyz"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  EXPECT_EQ(body["ready"], true);
  std::set<std::string> names;
  for (const auto& c : body["checks"]) {
    names.insert(c["name"].get<std::string>());
    EXPECT_TRUE(c["ok"].get<bool>()) << c.dump();
  }
  EXPECT_EQ(names, (std::set<std::string>{"database", "rate_limiter"}));
}

TEST(service_routing, readyz_is_503_when_a_required_check_fails_and_200_for_an_optional_one) {
  bool model_ok = false;
  bool cache_ok = false;
  service_env env(service_env::default_options(), [&] {
    return std::vector<api::readiness_check>{{"model", model_ok, true, "planner-m unreachable"},
                                             {"cache", cache_ok, false, "degraded"}};
  });
  auto r = env.handle(service_env::request("GET", "/readyz"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(body_of(r)["ready"], false);
  EXPECT_EQ(body_of(r)["checks"].size(), 4U);
  model_ok = true;
  r = env.handle(service_env::request("GET", "/readyz"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["ready"], true);
}

TEST(service_routing, an_exception_in_a_handler_is_a_500_problem) {
  service_env env(service_env::default_options(), []() -> std::vector<api::readiness_check> {
    throw std::runtime_error("probe exploded");
  });
  auto req = service_env::request("GET", "/readyz");
  req.headers.emplace_back("X-Request-Id", "boom-1");
  auto r = env.handle(req);
  expect_problem(r, 500);
  EXPECT_EQ(header_of(r, "X-Request-Id"), "boom-1");
  EXPECT_EQ(detail_of(r).find("exploded"), std::string::npos);  // no internals leak
}

// The value of one series in a scrape, 0 when absent. The registry is process-wide, so
// tests compare what changed (other tests in this process count too).
double value_of(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(service_routing, metrics_count_requests_by_route_template_and_status) {
  service_env env;
  const auto before = env.handle(service_env::request("GET", "/metrics")).body;
  const auto run = env.create_run(env.alice);
  env.get("/v1/runs/" + run, env.alice);
  env.get("/v1/runs/" + run, env.alice);
  env.get("/no/such/path", env.alice);
  env.handle(service_env::request("GET", "/healthz"));
  auto r = env.handle(service_env::request("GET", "/metrics"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(header_of(r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto& text = r.body;
  auto delta = [&](const std::string& series) {
    return value_of(text, series) - value_of(before, series);
  };
  EXPECT_NE(text.find("# TYPE grok_http_requests_total counter"), std::string::npos);
  EXPECT_EQ(delta("grok_http_requests_total{route=\"/v1/runs/{id}\",status=\"200\"}"), 2) << text;
  EXPECT_EQ(delta("grok_http_requests_total{route=\"/v1/runs\",status=\"201\"}"), 1);
  EXPECT_EQ(delta("grok_http_requests_total{route=\"unmatched\",status=\"404\"}"), 1);
  EXPECT_EQ(delta("grok_http_requests_total{route=\"/healthz\",status=\"200\"}"), 1);
  EXPECT_EQ(delta("grok_http_requests_total{route=\"/metrics\",status=\"200\"}"), 1);
  EXPECT_EQ(text.find(run), std::string::npos) << "ids must not become label values";
  EXPECT_NE(text.find("# TYPE grok_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_EQ(delta("grok_http_request_duration_seconds_bucket{route=\"/v1/runs/{id}\",le=\"+Inf\"}"),
            2);
  EXPECT_EQ(delta("grok_http_request_duration_seconds_count{route=\"/v1/runs/{id}\"}"), 2);
  EXPECT_NE(text.find("grok_streams_open{kind=\"sse\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("grok_streams_open{kind=\"websocket\"} 0\n"), std::string::npos);
}

TEST(service_routing, metrics_show_open_streams) {
  service_env env;
  const auto run = env.create_run(env.alice);
  auto stream = env.get("/v1/runs/" + run + "/stream", env.alice);
  ASSERT_EQ(stream.status, 200);
  auto text = env.handle(service_env::request("GET", "/metrics")).body;
  EXPECT_NE(text.find("grok_streams_open{kind=\"sse\"} 1\n"), std::string::npos) << text;
  stream.stream->on_closed();
}

TEST(service_routing, openapi_is_served_and_describes_exactly_the_routes) {
  service_env env;
  auto r = env.handle(service_env::request("GET", "/openapi.json"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(header_of(r, "Content-Type"), "application/json");
  auto doc = body_of(r);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["openapi"], "3.1.0");

  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string upper;
      for (char c : method) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.emplace(upper, path);
      EXPECT_TRUE(op.contains("responses")) << method << " " << path;
    }
  }
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& route : api::service::routes()) served.insert(route);
  for (const auto& d : documented) {
    EXPECT_TRUE(served.contains(d)) << "documented but not served: " << d.first << " " << d.second;
  }
  for (const auto& s : served) {
    EXPECT_TRUE(documented.contains(s))
        << "served but not documented: " << s.first << " " << s.second;
  }
  EXPECT_EQ(served.size(), api::route_table().size());
}

TEST(service_routing, openapi_request_bodies_are_the_validated_schemas) {
  auto doc = json::parse(*embedded_file("schemas/openapi.json"));
  const auto& schemas = doc["components"]["schemas"];
  for (const auto& [component, file] :
       {std::pair{"CreateRunRequest", "schemas/api/create_run.json"},
        std::pair{"CancelRunRequest", "schemas/api/cancel_run.json"},
        std::pair{"ApproveRunRequest", "schemas/api/approve_run.json"}}) {
    auto validated = json::parse(*embedded_file(file));
    validated.erase("$schema");
    EXPECT_EQ(schemas[component], validated) << component << " differs from " << file;
  }
  // Every $ref points at something that exists.
  std::vector<const json*> todo{&doc};
  while (!todo.empty()) {
    const json* node = todo.back();
    todo.pop_back();
    if (node->is_object()) {
      if (auto ref = node->find("$ref"); ref != node->end()) {
        const auto pointer = ref->get<std::string>().substr(1);
        EXPECT_TRUE(doc.contains(json::json_pointer(pointer))) << *ref;
      }
    }
    if (node->is_structured()) {
      for (const auto& child : *node) todo.push_back(&child);
    }
  }
}

TEST(service_routing, route_table_matches_templates) {
  using api::match_route;
  using outcome = api::route_match::outcome;
  auto m = match_route("GET", "/v1/runs/run_01HZX3J5W9Q8RS2T4V6Y8A0C1E/events");
  ASSERT_EQ(m.kind, outcome::matched);
  EXPECT_EQ(m.route->id, api::route_id::run_events);
  EXPECT_EQ(m.param, "run_01HZX3J5W9Q8RS2T4V6Y8A0C1E");
  m = match_route("POST", "/v1/queue/dead/42/retry");
  ASSERT_EQ(m.kind, outcome::matched);
  EXPECT_EQ(m.param, "42");
  EXPECT_EQ(match_route("GET", "/v1/queue/dead/42/retry").kind, outcome::wrong_method);
  EXPECT_EQ(match_route("GET", "/v1/queue/dead/42").kind, outcome::not_found);

  auto q = api::parse_query("a=1&b=x%20y+z&c&a=2&=v");
  ASSERT_TRUE(q);
  EXPECT_EQ(api::query_value(*q, "a"), "1");
  EXPECT_EQ(api::query_value(*q, "b"), "x y z");
  EXPECT_EQ(api::query_value(*q, "c"), "");
  EXPECT_FALSE(api::query_value(*q, "d"));
  EXPECT_FALSE(api::parse_query("a=%4"));
  EXPECT_FALSE(api::parse_query("a=%G1"));
}

}  // namespace
}  // namespace grok::testing
