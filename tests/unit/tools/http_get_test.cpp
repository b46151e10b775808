// http_get against servers on loopback only. Every URL here is a loopback address, a name
// that resolves to one, a scheme refused before any connection, or malformed: no test
// sends a packet anywhere else.
#include "tools/http_get.h"

#include <gtest/gtest.h>

#include <stop_token>
#include <thread>

#include "core/version.h"
#include "unit/tools/loopback_http_server.h"

namespace grok::tools {
namespace {

using grok::testing::http_request_seen;
using grok::testing::http_response_text;
using grok::testing::loopback_http_server;
using namespace std::chrono_literals;

std::optional<std::string> hello(const http_request_seen& /*request*/) {
  return http_response_text(200, "text/plain; charset=utf-8", "hello from loopback");
}

// Answers /chain/N with a redirect to /chain/N-1, and /chain/0 with 200.
std::optional<std::string> chain(const http_request_seen& request) {
  const std::string prefix = "/chain/";
  if (request.path.rfind(prefix, 0) != 0) return http_response_text(404, "text/plain", "no");
  const int n = std::stoi(request.path.substr(prefix.size()));
  if (n == 0) return http_response_text(200, "text/plain", "end of chain");
  return http_response_text(302, "text/plain", "",
                            "Location: /chain/" + std::to_string(n - 1) + "\r\n");
}

tools_config allow(const std::vector<std::string>& entries) {
  tools_config c;
  c.http_allow = entries;
  return c;
}

std::string port_entry(const loopback_http_server& s) {
  return "127.0.0.1:" + std::to_string(s.port());
}

result<tool_output> get(const tools_config& config, const std::string& url,
                        const tool_context& ctx = {}) {
  return make_http_get_tool(config)->invoke({{"url", url}}, ctx);
}

TEST(http_get, refuses_loopback_that_is_not_allow_listed) {
  loopback_http_server server(hello);
  auto r = get(tools_config{}, server.url("/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().message,
            "refused: 127.0.0.1 is a loopback address (add it to tools.http_allow to permit it)");
  server.sync();
  EXPECT_EQ(server.connections(), 0);
}

TEST(http_get, refuses_every_spelling_of_loopback_before_connecting) {
  loopback_http_server server(hello);
  const std::string port = std::to_string(server.port());
  for (const std::string host : {"[::1]", "0x7f000001", "2130706433", "017700000001", "127.1",
                                 "localhost", "LOCALHOST", "[::ffff:127.0.0.1]", "127.0.0.2"}) {
    const std::string url = "http://" + host + ":" + port + "/";
    auto r = get(tools_config{}, url);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, errc::invalid_argument) << url << ": " << r.error().message;
    EXPECT_EQ(r.error().message.rfind("refused: ", 0), 0U) << url << ": " << r.error().message;
    EXPECT_NE(r.error().message.find("loopback"), std::string::npos) << r.error().message;
  }
  server.sync();
  EXPECT_EQ(server.connections(), 0);
}

TEST(http_get, names_the_host_when_a_name_resolves_to_a_refused_address) {
  loopback_http_server server(hello);
  auto r = get(tools_config{}, "http://localhost:" + std::to_string(server.port()) + "/");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("refused: localhost resolved to "), std::string::npos)
      << r.error().message;
  server.sync();
  EXPECT_EQ(server.connections(), 0);
}

TEST(http_get, fetches_from_an_allow_listed_address) {
  loopback_http_server server(hello);
  auto r = get(allow({port_entry(server)}), server.url("/hello"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->text, "HTTP 200 text/plain; charset=utf-8\n\nhello from loopback");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/hello");
  EXPECT_NE(requests[0].head.find("User-Agent: grok/" + std::string(k_version)), std::string::npos);
}

TEST(http_get, allow_list_by_host_name_and_port) {
  loopback_http_server server(hello);
  const std::string port = std::to_string(server.port());
  auto r = get(allow({"localhost:" + port}), "http://localhost:" + port + "/");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->text.find("hello from loopback"), std::string::npos);
  // The entry names one port; another is refused.
  auto other = get(allow({"localhost:1"}), "http://localhost:" + port + "/");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, errc::invalid_argument);
}

TEST(http_get, allow_list_by_cidr) {
  loopback_http_server server(hello);
  auto r = get(allow({"127.0.0.0/8"}), server.url("/"));
  ASSERT_TRUE(r) << r.error().message;
}

TEST(http_get, redirect_to_a_refused_address_is_refused_before_connecting) {
  loopback_http_server target(hello);
  loopback_http_server origin([&](const http_request_seen&) -> std::optional<std::string> {
    return http_response_text(302, "text/plain", "", "Location: " + target.url("/secret") + "\r\n");
  });
  auto r = get(allow({port_entry(origin)}), origin.url("/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_EQ(r.error().message.rfind("refused: 127.0.0.1 is a loopback address", 0), 0U)
      << r.error().message;
  EXPECT_EQ(origin.requests().size(), 1U);
  target.sync();
  EXPECT_EQ(target.connections(), 0);
}

TEST(http_get, redirect_to_another_scheme_is_refused) {
  loopback_http_server origin([](const http_request_seen&) -> std::optional<std::string> {
    return http_response_text(301, "text/plain", "", "Location: file:///etc/passwd\r\n");
  });
  auto r = get(allow({port_entry(origin)}), origin.url("/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_NE(r.error().message.find("scheme file is not allowed"), std::string::npos)
      << r.error().message;
}

TEST(http_get, follows_redirects_up_to_the_limit) {
  loopback_http_server server(chain);
  tools_config config = allow({port_entry(server)});
  config.http_max_redirects = 3;
  auto ok = get(config, server.url("/chain/3"));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->text, "HTTP 200 text/plain\n\nend of chain");

  auto too_many = get(config, server.url("/chain/4"));
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, errc::unavailable);
  EXPECT_FALSE(too_many.error().retryable);
  EXPECT_NE(too_many.error().message.find("too many redirects (more than 3"), std::string::npos)
      << too_many.error().message;
  EXPECT_EQ(server.requests().size(), 4U + 4U);  // 4 for the first fetch, 4 for the second
}

TEST(http_get, body_over_the_size_limit_is_an_error) {
  const std::string big(10'000, 'x');
  for (const bool with_length : {true, false}) {
    loopback_http_server server([&](const http_request_seen&) -> std::optional<std::string> {
      return http_response_text(200, "text/plain", big, "", with_length);
    });
    tools_config config = allow({port_entry(server)});
    config.http_max_bytes = 1000;
    auto r = get(config, server.url("/"));
    ASSERT_FALSE(r) << "with_length=" << with_length;
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find("larger than the limit of 1000 bytes"), std::string::npos)
        << r.error().message;
  }
}

TEST(http_get, body_at_the_size_limit_is_fine) {
  loopback_http_server server([](const http_request_seen&) -> std::optional<std::string> {
    return http_response_text(200, "text/plain", std::string(1000, 'y'), "", false);
  });
  tools_config config = allow({port_entry(server)});
  config.http_max_bytes = 1000;
  auto r = get(config, server.url("/"));
  ASSERT_TRUE(r) << r.error().message;
}

TEST(http_get, server_that_never_answers_times_out) {
  loopback_http_server server([](const http_request_seen&) { return std::nullopt; });
  tools_config config = allow({port_entry(server)});
  config.http_timeout = 300ms;
  auto r = get(config, server.url("/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::timeout);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("timed out (limit 300 ms)"), std::string::npos)
      << r.error().message;
}

TEST(http_get, the_context_timeout_applies_when_shorter) {
  loopback_http_server server([](const http_request_seen&) { return std::nullopt; });
  tools_config config = allow({port_entry(server)});
  tool_context ctx;
  ctx.timeout = 200ms;
  auto r = get(config, server.url("/"), ctx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::timeout);
  EXPECT_NE(r.error().message.find("timed out (limit 200 ms)"), std::string::npos)
      << r.error().message;
}

TEST(http_get, stop_request_cancels_a_waiting_fetch) {
  loopback_http_server server([](const http_request_seen&) { return std::nullopt; });
  tools_config config = allow({port_entry(server)});
  config.http_timeout = 60s;  // far beyond the test: only the stop can end it
  std::stop_source stop;
  tool_context ctx;
  ctx.stop = stop.get_token();
  ctx.timeout = 60s;
  std::thread canceller([&] {
    EXPECT_TRUE(server.wait_for_connections(1, 30s));
    stop.request_stop();
  });
  auto r = get(config, server.url("/"), ctx);
  canceller.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::cancelled);
}

TEST(http_get, an_already_requested_stop_fetches_nothing) {
  loopback_http_server server(hello);
  std::stop_source stop;
  stop.request_stop();
  tool_context ctx;
  ctx.stop = stop.get_token();
  auto r = get(allow({port_entry(server)}), server.url("/"), ctx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::cancelled);
  server.sync();
  EXPECT_EQ(server.connections(), 0);
}

TEST(http_get, refuses_other_schemes) {
  loopback_http_server server(hello);
  const std::string port = std::to_string(server.port());
  for (const std::string& url :
       std::vector<std::string>{"file:///etc/passwd", "gopher://127.0.0.1:" + port + "/",
                                "ftp://127.0.0.1:" + port + "/", "dict://127.0.0.1:" + port,
                                "FILE:///etc/passwd", "ws://127.0.0.1:" + port + "/"}) {
    auto r = get(allow({port_entry(server)}), url);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find("is not allowed (only http and https)"), std::string::npos)
        << r.error().message;
  }
  server.sync();
  EXPECT_EQ(server.connections(), 0);
}

TEST(http_get, malformed_urls_get_a_clear_error) {
  for (const std::string url :
       {"", "not a url", "http://", "http://[::1", "://x", "http://exa mple.com/"}) {
    auto r = get(tools_config{}, url);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, errc::invalid_argument) << url << ": " << r.error().message;
    EXPECT_NE(r.error().message.find("malformed URL"), std::string::npos) << r.error().message;
  }
}

TEST(http_get, error_statuses_are_errors) {
  loopback_http_server server([](const http_request_seen& request) -> std::optional<std::string> {
    if (request.path == "/missing") return http_response_text(404, "text/plain", "no such page");
    return http_response_text(503, "text/plain", "try later");
  });
  const tools_config config = allow({port_entry(server)});
  auto missing = get(config, server.url("/missing"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::unavailable);
  EXPECT_FALSE(missing.error().retryable);
  EXPECT_EQ(missing.error().message, "HTTP 404 from " + server.url("/missing") + ": no such page");
  auto busy = get(config, server.url("/busy"));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, errc::unavailable);
  EXPECT_TRUE(busy.error().retryable);
}

TEST(http_get, connection_refused_is_retryable) {
  int port = 0;
  {
    loopback_http_server gone(hello);
    port = gone.port();
  }  // closed: nothing listens there now
  auto r = get(allow({"127.0.0.1"}), "http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_TRUE(r.error().retryable);
}

TEST(http_get, binary_bodies_are_described_not_shown) {
  loopback_http_server server([](const http_request_seen&) -> std::optional<std::string> {
    return http_response_text(200, "image/png", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
  });
  auto r = get(allow({port_entry(server)}), server.url("/"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->text, "HTTP 200 image/png\n\n[binary body of 10 bytes, not shown]");
}

TEST(http_get, text_bodies_become_valid_utf8) {
  loopback_http_server server([](const http_request_seen& request) -> std::optional<std::string> {
    if (request.path == "/latin1") {
      return http_response_text(200, "text/plain; charset=ISO-8859-1", "caf\xe9");
    }
    return http_response_text(200, "application/json", "{\"a\": \"\xff\"}");
  });
  const tools_config config = allow({port_entry(server)});
  auto latin = get(config, server.url("/latin1"));
  ASSERT_TRUE(latin) << latin.error().message;
  EXPECT_EQ(latin->text, "HTTP 200 text/plain; charset=ISO-8859-1\n\ncaf\xc3\xa9");
  auto broken = get(config, server.url("/json"));
  ASSERT_TRUE(broken) << broken.error().message;
  EXPECT_EQ(broken->text, "HTTP 200 application/json\n\n{\"a\": \"\xef\xbf\xbd\"}");
}

TEST(http_get, bad_allow_list_entry_fails_every_call) {
  auto r = get(allow({"10.0.0.0/99"}), "http://127.0.0.1:1/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_NE(r.error().message.find("tools.http_allow"), std::string::npos);
}

TEST(http_get, registry_checks_the_arguments) {
  tool_registry registry;
  ASSERT_TRUE(registry.add(make_http_get_tool(tools_config{})));
  const tool_context ctx;
  EXPECT_FALSE(registry.invoke("http_get", {{"url", 5}}, ctx));
  EXPECT_FALSE(registry.invoke("http_get", nlohmann::json::object(), ctx));
  EXPECT_FALSE(registry.invoke("http_get", {{"url", "http://x"}, {"method", "POST"}}, ctx));
  EXPECT_FALSE(registry.invoke("http_get", {{"url", std::string(3000, 'a')}}, ctx));
  auto direct = make_http_get_tool(tools_config{})->invoke(nlohmann::json::array(), ctx);
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().code, errc::invalid_argument);
}

TEST(http_get, content_types) {
  EXPECT_TRUE(is_text_content("text/html; charset=utf-8", ""));
  EXPECT_TRUE(is_text_content("Application/JSON", ""));
  EXPECT_TRUE(is_text_content("application/problem+json", ""));
  EXPECT_TRUE(is_text_content("image/svg+xml", ""));
  EXPECT_TRUE(is_text_content("", "plain words"));
  EXPECT_FALSE(is_text_content("", std::string("a\0b", 3)));
  EXPECT_FALSE(is_text_content("application/octet-stream", "abc"));
  EXPECT_FALSE(is_text_content("image/png", ""));
  EXPECT_EQ(content_type_charset("text/html; Charset=\"UTF-8\""), "utf-8");
  EXPECT_EQ(content_type_charset("text/html;foo=bar; charset=latin1"), "latin1");
  EXPECT_EQ(content_type_charset("text/html"), "");
}

}  // namespace
}  // namespace grok::tools
