// The web UI's route through api::service::handle(): which paths are the UI's, the file /
// index / SPA-fallback / 404 rules, caching and conditional requests, gzip negotiation,
// the policy headers, hostile paths, and that the API keeps its behaviour.
#include "api/ui_route.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/sha256.h"
#include "obs/metrics.h"
#include "unit/api/service_fixture.h"

namespace grok::testing {
namespace {

const std::string k_index = "<!doctype html><div id=root></div>";
const std::string k_js = "console.log('app');\n";
const std::string k_js_gz = "GZIP-BYTES-OF-JS";  // the route never decodes them
const std::string k_png = std::string("\x89PNG\0\0", 6);

std::shared_ptr<const api::ui_assets> test_ui() {
  static const api::embedded_ui_file files[] = {
      {"index.html", k_index, "GZIP-BYTES-OF-INDEX", {}},
      {"assets/index-Ab12.js", k_js, k_js_gz, {}},
      {"assets/index-Ab12.css", "body{}", {}, {}},
      {"favicon.svg", "<svg/>", {}, {}},
      {"img/logo.png", k_png, {}, {}},
      {"robots.txt", "", {}, {}},
  };
  auto t = api::ui_assets::from_embedded(files);
  if (!t) throw std::runtime_error(t.error().message);
  return std::make_shared<const api::ui_assets>(std::move(*t));
}

api::service_options with_ui(std::shared_ptr<const api::ui_assets> ui = test_ui()) {
  auto o = service_env::default_options();
  o.ui = std::move(ui);
  return o;
}

api::http_request req(std::string method, std::string target,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
  auto r = service_env::request(std::move(method), std::move(target));
  for (auto& h : headers) r.headers.push_back(std::move(h));
  return r;
}

std::string etag_of(const std::string& bytes) {
  return "\"" + sha256_hex(bytes).substr(0, 32) + "\"";
}

void expect_policy_headers(const api::http_response& r) {
  EXPECT_EQ(header_of(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header_of(r, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header_of(r, "Content-Security-Policy"), api::k_ui_content_security_policy);
  EXPECT_FALSE(header_of(r, "X-Request-Id").empty());
}

TEST(ui_route, api_paths_are_not_the_uis) {
  for (const char* p : {"/v1", "/v1/", "/v1/runs", "/v1/anything/else", "/healthz", "/readyz",
                        "/metrics", "/openapi.json", "", "*", "relative"}) {
    EXPECT_TRUE(api::is_api_path(p)) << p;
  }
  for (const char* p : {"/", "/runs", "/v1x", "/v2/runs", "/healthz/", "/metrics.txt",
                        "/assets/index.js", "/openapi.json/x"}) {
    EXPECT_FALSE(api::is_api_path(p)) << p;
  }
}

TEST(ui_route, root_serves_index_html_without_a_key) {
  service_env env(with_ui());
  auto r = env.handle(req("GET", "/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, k_index);
  EXPECT_EQ(header_of(r, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(header_of(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(header_of(r, "ETag"), etag_of(k_index));
  EXPECT_EQ(header_of(r, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header_of(r, "Content-Encoding"), "");
  EXPECT_EQ(header_of(r, "RateLimit-Limit"), "");  // not rate limited
  expect_policy_headers(r);

  auto same = env.handle(req("GET", "/index.html?utm=1"));
  EXPECT_EQ(same.status, 200);
  EXPECT_EQ(same.body, k_index);
}

TEST(ui_route, exact_files_with_types_and_cache_classes) {
  service_env env(with_ui());
  auto js = env.handle(req("GET", "/assets/index-Ab12.js"));
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, k_js);
  EXPECT_EQ(header_of(js, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(header_of(js, "Cache-Control"), "public, max-age=31536000, immutable");
  expect_policy_headers(js);

  auto css = env.handle(req("GET", "/assets/index-Ab12.css"));
  EXPECT_EQ(header_of(css, "Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(header_of(css, "Vary"), "");  // no gzip variant: nothing varies

  auto png = env.handle(req("GET", "/img/logo.png"));
  EXPECT_EQ(png.status, 200);
  EXPECT_EQ(png.body, k_png);
  EXPECT_EQ(header_of(png, "Content-Type"), "image/png");
  EXPECT_EQ(header_of(png, "Cache-Control"), "no-cache");

  auto svg = env.handle(req("GET", "/favicon.svg"));
  EXPECT_EQ(header_of(svg, "Content-Type"), "image/svg+xml; charset=utf-8");

  auto empty = env.handle(req("GET", "/robots.txt"));
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "");
}

TEST(ui_route, client_side_routes_fall_back_to_index_html) {
  service_env env(with_ui());
  for (const char* p :
       {"/runs", "/runs/", "/runs/new", "/runs/run_01JABCDEFGHJKMNPQRSTVWXYZ0/queue", "/queue",
        "/tools", "/no/such/page", "/healthz/", "/v2/runs", "/.env", "/runs?status=failed"}) {
    SCOPED_TRACE(p);
    auto r = env.handle(req("GET", p));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, k_index);
    EXPECT_EQ(header_of(r, "Cache-Control"), "no-cache");
    EXPECT_EQ(header_of(r, "Content-Type"), "text/html; charset=utf-8");
  }
}

TEST(ui_route, missing_files_with_an_extension_or_under_assets_are_404) {
  service_env env(with_ui());
  for (const char* p : {"/assets/missing.js", "/assets/index-Ab12.js.map", "/favicon.ico",
                        "/runs/x.json", "/assets/nothing", "/assets/", "/img/logo.PNG"}) {
    SCOPED_TRACE(p);
    auto r = env.handle(req("GET", p));
    expect_problem(r, 404);
    expect_policy_headers(r);
    EXPECT_EQ(header_of(r, "Cache-Control"), "no-store");
  }
}

TEST(ui_route, other_methods_are_405_with_allow) {
  service_env env(with_ui());
  for (const char* m : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"}) {
    for (const char* p : {"/", "/assets/index-Ab12.js", "/runs/new", "/missing.js"}) {
      SCOPED_TRACE(std::string(m) + " " + p);
      auto r = env.handle(req(m, p));
      expect_problem(r, 405);
      EXPECT_EQ(header_of(r, "Allow"), "GET, HEAD");
    }
  }
}

TEST(ui_route, head_answers_like_get) {
  service_env env(with_ui());
  auto get = env.handle(req("GET", "/assets/index-Ab12.js"));
  auto head = env.handle(req("HEAD", "/assets/index-Ab12.js"));
  EXPECT_EQ(head.status, 200);
  // The transport drops a HEAD's body and keeps its Content-Length (http/message.h).
  EXPECT_EQ(head.body, get.body);
  EXPECT_EQ(header_of(head, "ETag"), header_of(get, "ETag"));
  EXPECT_EQ(header_of(head, "Content-Type"), header_of(get, "Content-Type"));
  EXPECT_EQ(env.handle(req("HEAD", "/runs/new")).body, k_index);
  EXPECT_EQ(env.handle(req("HEAD", "/assets/missing.js")).status, 404);
}

TEST(ui_route, if_none_match_gives_304) {
  service_env env(with_ui());
  const auto tag = etag_of(k_index);
  const auto gz_tag = tag.substr(0, tag.size() - 1) + "-gz\"";
  for (const std::string& inm :
       {tag, "W/" + tag, "\"other\", " + tag, "\"a\",W/" + tag + " , \"b\"", std::string("*"),
        gz_tag, "  " + tag + "  "}) {
    SCOPED_TRACE(inm);
    auto r = env.handle(req("GET", "/", {{"If-None-Match", inm}}));
    EXPECT_EQ(r.status, 304);
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(header_of(r, "ETag"), tag);
    EXPECT_EQ(header_of(r, "Cache-Control"), "no-cache");
    EXPECT_EQ(header_of(r, "Vary"), "Accept-Encoding");
    expect_policy_headers(r);
  }
  for (const std::string& inm : {std::string("\"nope\""), tag.substr(1), std::string("W/"),
                                 std::string(""), std::string(","), "\"" + tag, std::string("x")}) {
    SCOPED_TRACE(inm);
    EXPECT_EQ(env.handle(req("GET", "/", {{"If-None-Match", inm}})).status, 200);
  }
  // A deep link revalidates the index it falls back to.
  EXPECT_EQ(env.handle(req("GET", "/runs/new", {{"If-None-Match", tag}})).status, 304);
  EXPECT_EQ(env.handle(req("HEAD", "/", {{"If-None-Match", tag}})).status, 304);
  // Another file's tag does not match.
  EXPECT_EQ(env.handle(req("GET", "/favicon.svg", {{"If-None-Match", tag}})).status, 200);
}

TEST(ui_route, gzip_when_accept_encoding_allows_it) {
  service_env env(with_ui());
  auto gz = env.handle(req("GET", "/assets/index-Ab12.js", {{"Accept-Encoding", "gzip, br"}}));
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.body, k_js_gz);
  EXPECT_EQ(header_of(gz, "Content-Encoding"), "gzip");
  EXPECT_EQ(header_of(gz, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header_of(gz, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(header_of(gz, "ETag"), etag_of(k_js).substr(0, 33) + "-gz\"");

  auto refused = env.handle(req("GET", "/assets/index-Ab12.js", {{"Accept-Encoding", "gzip;q=0"}}));
  EXPECT_EQ(refused.body, k_js);
  EXPECT_EQ(header_of(refused, "Content-Encoding"), "");
  EXPECT_EQ(header_of(refused, "Vary"), "Accept-Encoding");

  // No gzip variant: the bytes as they are.
  auto png = env.handle(req("GET", "/img/logo.png", {{"Accept-Encoding", "gzip"}}));
  EXPECT_EQ(png.body, k_png);
  EXPECT_EQ(header_of(png, "Content-Encoding"), "");

  // The gzip variant's tag revalidates it.
  auto again =
      env.handle(req("GET", "/assets/index-Ab12.js",
                     {{"Accept-Encoding", "gzip"}, {"If-None-Match", header_of(gz, "ETag")}}));
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(header_of(again, "ETag"), header_of(gz, "ETag"));
}

TEST(ui_route, accept_encoding_parsing) {
  for (const char* yes : {"gzip", "GZIP", "x-gzip", "deflate, gzip", "gzip;q=1", "gzip; q=0.5",
                          "gzip;q=0.001", "*", "br;q=1, *;q=0.1", "gzip;q=1.0", " gzip ;q=1"}) {
    EXPECT_TRUE(api::accepts_gzip(yes)) << yes;
  }
  for (const char* no : {"", "identity", "br", "gzip;q=0", "gzip;q=0.000", "gzip; q=0.", "*;q=0",
                         "gzip;q=0, *", "*, gzip;q=0", "gzip;q=abc", "gzip;q=2", "gzip;q=1.5",
                         "gzipx", "deflate", "gzip;q=0.0000"}) {
    EXPECT_FALSE(api::accepts_gzip(no)) << no;
  }
}

TEST(ui_route, hostile_paths_never_leave_the_table) {
  service_env env(with_ui());
  // Malformed: 400 problem.
  for (const char* p :
       {"/../etc/passwd", "/assets/../../etc/passwd", "/%2e%2e/etc/passwd",
        "/%2E%2E%2Fetc%2Fpasswd", "/assets/%2e%2e/%2e%2e/index.html", "/.", "/./index.html",
        "/assets/.", "/a\\b", "/%5c..%5cwindows", "/index.html%00.js", "/%00",
        "/a%0d%0aSet-Cookie:x", "/%", "/%2", "/%zz", "/assets/%2", "/%7f"}) {
    SCOPED_TRACE(p);
    auto r = env.handle(req("GET", p));
    expect_problem(r, 400);
    expect_policy_headers(r);
  }
  // Encoded names of real files are served (decoding happens once).
  EXPECT_EQ(env.handle(req("GET", "/assets%2Findex-Ab12.js")).body, k_js);
  EXPECT_EQ(env.handle(req("GET", "/%69ndex.html")).body, k_index);
  EXPECT_EQ(env.handle(req("GET", "/%2569ndex.html")).status, 404);  // %25 → '%': not re-decoded
  // Double slashes never name a file: deep links get the index, missing files 404.
  EXPECT_EQ(env.handle(req("GET", "//runs")).body, k_index);
  EXPECT_EQ(env.handle(req("GET", "//assets//index-Ab12.js")).status, 404);
  EXPECT_EQ(env.handle(req("GET", "/assets//index-Ab12.js")).status, 404);
  // Overlong: 414.
  auto long_path = env.handle(req("GET", "/" + std::string(api::k_max_ui_path_bytes, 'a')));
  expect_problem(long_path, 414);
  EXPECT_EQ(env.handle(req("GET", "/" + std::string(api::k_max_ui_path_bytes - 1, 'a'))).status,
            200);
  // '+' is not a space in a path.
  EXPECT_EQ(env.handle(req("GET", "/img/logo+png")).body, k_index);
}

TEST(ui_route, the_api_keeps_its_behaviour) {
  service_env env(with_ui());
  expect_problem(env.handle(req("GET", "/v1/nope")), 404);
  expect_problem(env.handle(req("GET", "/v1")), 404);
  expect_problem(env.handle(req("GET", "/v1/runs/")), 404);
  expect_problem(env.handle(req("GET", "/v1/runs")), 401);  // still needs a key
  EXPECT_EQ(env.get("/v1/runs", env.admin).status, 200);
  EXPECT_EQ(env.handle(req("GET", "/healthz")).status, 200);
  EXPECT_EQ(header_of(env.handle(req("GET", "/openapi.json")), "Content-Type"), "application/json");
  auto wrong = env.handle(req("POST", "/healthz"));
  expect_problem(wrong, 405);
  EXPECT_EQ(header_of(wrong, "Allow"), "GET");
  // API responses do not get the UI's headers.
  EXPECT_EQ(header_of(env.handle(req("GET", "/healthz")), "Content-Security-Policy"), "");
}

TEST(ui_route, ui_requests_are_neither_authenticated_nor_rate_limited) {
  auto o = with_ui();
  o.rate_limit = {.per_second = 1, .burst = 1};
  service_env env(o);
  // A wrong key is ignored on UI paths, and the bucket of one request is never drained.
  for (int i = 0; i < 5; ++i) {
    auto r = env.handle(req("GET", "/", {{"Authorization", "Bearer nope"}}));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(header_of(r, "RateLimit-Remaining"), "");
  }
  EXPECT_EQ(env.get("/v1/runs", env.admin).status, 200);
  EXPECT_EQ(env.get("/v1/runs", env.admin).status, 429);
}

TEST(ui_route, ui_responses_share_one_metrics_label) {
  service_env env(with_ui());
  for (const char* p :
       {"/", "/runs/x", "/assets/index-Ab12.js", "/assets/missing.js", "/%zz", "/a/b/c/d/e/f"}) {
    env.handle(req("GET", p));
  }
  const auto text = obs::metrics().render();
  EXPECT_NE(text.find("grok_http_requests_total{route=\"ui\",status=\"200\"}"), std::string::npos)
      << text;
  EXPECT_NE(text.find("grok_http_requests_total{route=\"ui\",status=\"404\"}"), std::string::npos);
  EXPECT_EQ(text.find("route=\"/runs/x\""), std::string::npos);
  EXPECT_EQ(text.find("route=\"/a/b/c/d/e/f\""), std::string::npos);
}

TEST(ui_route, an_empty_table_answers_a_page_saying_how_to_build_the_ui) {
  service_env env(with_ui(std::make_shared<const api::ui_assets>()));
  for (const char* p : {"/", "/runs/new"}) {
    auto r = env.handle(req("GET", p));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(header_of(r, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("make serve"), std::string::npos);
    EXPECT_NE(r.body.find("GROK_UI_DIR"), std::string::npos);
    expect_policy_headers(r);
  }
  expect_problem(env.handle(req("GET", "/assets/index.js")), 404);
  EXPECT_EQ(env.handle(req("GET", "/healthz")).status, 200);
}

TEST(ui_route, without_a_ui_every_other_path_is_the_apis_404) {
  service_env env;  // options.ui null: GROK_UI=off
  for (const char* p : {"/", "/runs/new", "/assets/index-Ab12.js"}) {
    auto r = env.handle(req("GET", p));
    expect_problem(r, 404);
    EXPECT_EQ(header_of(r, "Content-Security-Policy"), "");
  }
}

}  // namespace
}  // namespace grok::testing
