// The web UI as a browser gets it from a real `grok serve` with GROK_UI_DIR pointing at a
// temp copy of tests/fixtures/ui_dist: content types, cache headers, 304, gzip, the SPA
// fallback on a deep link, 404 for a missing asset, HEAD, hostile raw request targets over
// a plain socket, the metrics label, and the API next to it unaffected. Also: a bad
// GROK_UI_DIR stops `grok serve` with a one-line error, and GROK_UI=off turns the route off.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests_support/api_client.h"
#include "tests_support/grok_server.h"
#include "tests_support/gunzip.h"
#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok {
namespace {

namespace fs = std::filesystem;
using grok::testing::gunzip;
using testing::api_call;
using testing::grok_server;

const fs::path k_fixture = fs::path(GROK_SOURCE_DIR) / "tests" / "fixtures" / "ui_dist";
constexpr const char* k_csp =
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' "
    "'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action "
    "'self'";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One request written as raw bytes (no client-side path normalisation), the response read
// until the server closes; returns the status line.
std::string raw_status_line(int port, const std::string& target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect");
  }
  const std::string request =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buf[4096];
  while (true) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return response.substr(0, response.find("\r\n"));
}

class ui_static_e2e : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(k_fixture, dist_.path() / "dist", fs::copy_options::recursive);
    server_ = std::make_unique<grok_server>(std::map<std::string, std::string>{
        {"GROK_UI_DIR", (dist_.path() / "dist").string()}, {"GROK_LOG_FORMAT", "text"}});
    key_ = server_->create_key("runs", "alice");
    server_->start(1);
  }

  // A clean exit: also what an ASan/UBSan report in the server would turn into a failure.
  void TearDown() override { EXPECT_EQ(server_->stop(), 0) << server_->log_text(); }

  testing::api_response get(const std::string& path, const std::vector<std::string>& headers = {},
                            const std::string& method = "GET") {
    return api_call(method, server_->url(path), headers);
  }

  std::string fixture(const std::string& rel) { return read_file(k_fixture / rel); }

  testing::temp_dir dist_;
  std::unique_ptr<grok_server> server_;
  std::string key_;
};

TEST_F(ui_static_e2e, the_start_log_says_where_the_ui_comes_from) {
  const auto log = server_->log_text();
  EXPECT_NE(log.find("web UI from " + fs::canonical(dist_.path() / "dist").string() + " (6 files)"),
            std::string::npos)
      << log;
}

TEST_F(ui_static_e2e, index_assets_and_types_with_cache_headers) {
  auto index = get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, fixture("index.html"));
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.header("cache-control"), "no-cache");
  EXPECT_FALSE(index.header("etag").empty());
  EXPECT_EQ(index.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(index.header("referrer-policy"), "no-referrer");
  EXPECT_EQ(index.header("content-security-policy"), k_csp);

  auto js = get("/assets/app-abc123.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, fixture("assets/app-abc123.js"));
  EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js.header("vary"), "Accept-Encoding");

  auto css = get("/assets/app-abc123.css");
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");

  auto png = get("/img/pixel.png");
  EXPECT_EQ(png.status, 200);
  EXPECT_EQ(png.body, fixture("img/pixel.png"));
  EXPECT_EQ(png.header("content-type"), "image/png");
  EXPECT_EQ(png.header("cache-control"), "no-cache");

  auto svg = get("/favicon.svg");
  EXPECT_EQ(svg.header("content-type"), "image/svg+xml; charset=utf-8");

  // Hidden files of the directory are never served: the name falls back to the index.
  EXPECT_EQ(get("/.hidden-notes").body, fixture("index.html"));
}

TEST_F(ui_static_e2e, if_none_match_gives_304) {
  auto first = get("/");
  const auto tag = first.header("etag");
  ASSERT_FALSE(tag.empty());
  auto again = get("/", {"If-None-Match: " + tag});
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.body, "");
  EXPECT_EQ(again.header("etag"), tag);
  EXPECT_EQ(get("/", {"If-None-Match: W/" + tag}).status, 304);
  EXPECT_EQ(get("/", {"If-None-Match: \"x\", " + tag}).status, 304);
  EXPECT_EQ(get("/", {"If-None-Match: \"stale\""}).status, 200);
  // A deep link revalidates the index it falls back to.
  EXPECT_EQ(get("/runs/new", {"If-None-Match: " + tag}).status, 304);
}

TEST_F(ui_static_e2e, gzip_when_asked_for_and_identity_otherwise) {
  auto gz = get("/assets/app-abc123.js", {"Accept-Encoding: gzip, deflate"});
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.header("content-encoding"), "gzip");
  EXPECT_EQ(gz.header("vary"), "Accept-Encoding");
  EXPECT_EQ(gz.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_LT(gz.body.size(), fixture("assets/app-abc123.js").size() / 2);
  EXPECT_EQ(gunzip(gz.body), fixture("assets/app-abc123.js"));
  // The compressed variant has its own tag, and it revalidates.
  EXPECT_NE(gz.header("etag"), get("/assets/app-abc123.js").header("etag"));
  EXPECT_EQ(
      get("/assets/app-abc123.js", {"Accept-Encoding: gzip", "If-None-Match: " + gz.header("etag")})
          .status,
      304);

  for (const char* refuse : {"identity", "gzip;q=0", "br"}) {
    SCOPED_TRACE(refuse);
    auto plain = get("/assets/app-abc123.js", {std::string("Accept-Encoding: ") + refuse});
    EXPECT_EQ(plain.header("content-encoding"), "");
    EXPECT_EQ(plain.body, fixture("assets/app-abc123.js"));
  }
  // Binary files are never compressed.
  EXPECT_EQ(get("/img/pixel.png", {"Accept-Encoding: gzip"}).header("content-encoding"), "");
}

TEST_F(ui_static_e2e, deep_links_fall_back_to_index_and_missing_assets_are_404) {
  for (const char* p : {"/runs", "/runs/new", "/runs/run_01JABCDEFGHJKMNPQRSTVWXYZ0/queue",
                        "/queue?x=1", "/tools/"}) {
    SCOPED_TRACE(p);
    auto r = get(p);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, fixture("index.html"));
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  }
  for (const char* p : {"/assets/missing.js", "/assets/app-abc123.js.map", "/favicon.ico"}) {
    SCOPED_TRACE(p);
    auto r = get(p);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    EXPECT_EQ(r.json().value("status", 0), 404);
  }
}

TEST_F(ui_static_e2e, head_has_the_length_and_no_body) {
  auto head = get("/assets/app-abc123.js", {}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.header("content-length"), std::to_string(fixture("assets/app-abc123.js").size()));
  EXPECT_EQ(head.header("content-type"), "text/javascript; charset=utf-8");
  auto post = get("/", {}, "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
}

TEST_F(ui_static_e2e, hostile_targets_never_leave_the_directory) {
  // A file beside the UI directory that a traversal would reach.
  { std::ofstream(dist_.path() / "secret.txt") << "top secret"; }
  const int port = server_->port();
  for (const char* target :
       {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt", "/index.html%00.txt"}) {
    SCOPED_TRACE(target);
    const auto status = raw_status_line(port, target);
    EXPECT_EQ(status, "HTTP/1.1 400 Bad Request");
  }
  EXPECT_EQ(raw_status_line(port, "//secret.txt"), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(raw_status_line(port, "/" + std::string(3000, 'a')), "HTTP/1.1 414 URI Too Long");
  EXPECT_EQ(raw_status_line(port, "/assets/app-abc123.js"), "HTTP/1.1 200 OK");
}

TEST_F(ui_static_e2e, the_api_is_unaffected_and_ui_requests_have_one_metrics_label) {
  EXPECT_EQ(get("/healthz").status, 200);
  auto unknown = get("/v1/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.header("content-type"), "application/problem+json");
  EXPECT_EQ(get("/v1/runs").status, 401);
  auto runs = get("/v1/runs", {"Authorization: Bearer " + key_});
  EXPECT_EQ(runs.status, 200);
  EXPECT_EQ(runs.header("content-type"), "application/json");
  EXPECT_EQ(runs.header("content-security-policy"), "");

  get("/runs/a/b/c");
  const auto metrics = get("/metrics").body;
  EXPECT_NE(metrics.find("grok_http_requests_total{route=\"ui\",status=\"200\"}"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("/runs/a/b/c"), std::string::npos);
}

TEST(ui_static_e2e_config, a_bad_ui_dir_stops_serve_with_one_line) {
  testing::temp_dir dir;
  auto out = testing::run_program({testing::program_path("grok"), "--data-dir", dir.file("data"),
                                   "serve", "--listen", "127.0.0.1:0"},
                                  {{"GROK_UI_DIR", dir.file("no-such-dist")}}, std::nullopt,
                                  std::chrono::seconds(30));
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE(out.err.find("grok: error: not_found: ui: UI directory " + dir.file("no-such-dist") +
                         " does not exist\n"),
            std::string::npos)
      << out.err;

  fs::create_directories(dir.path() / "web" / "src");
  auto no_index = testing::run_program({testing::program_path("grok"), "--data-dir",
                                        dir.file("data"), "serve", "--listen", "127.0.0.1:0"},
                                       {{"GROK_UI_DIR", dir.file("web")}}, std::nullopt,
                                       std::chrono::seconds(30));
  EXPECT_NE(no_index.exit_code, 0);
  EXPECT_NE(no_index.err.find("has no index.html"), std::string::npos) << no_index.err;
}

TEST(ui_static_e2e_config, ui_off_leaves_the_apis_404) {
  grok_server server(
      std::map<std::string, std::string>{{"GROK_UI", "off"}, {"GROK_LOG_FORMAT", "text"}});
  server.start(1);
  auto r = api_call("GET", server.url("/"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_NE(server.log_text().find("web UI off"), std::string::npos);
  EXPECT_EQ(server.stop(), 0) << server.log_text();
}

}  // namespace
}  // namespace grok
