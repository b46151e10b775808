// The transport's HTTP side: keep-alive, the limits (413, 431, 400, timeouts, 503), the
// request mapping and handler failures. Clients are raw TCP for malformed or slow input,
// Beast for the rest, all on 127.0.0.1.
#include "http/server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "unit/http/test_client.h"

namespace grok::http::testing {
namespace {

using clock_type = std::chrono::steady_clock;

void expect_problem(const string_response& res, int status) {
  EXPECT_EQ(res.result_int(), static_cast<unsigned>(status));
  EXPECT_EQ(res[bhttp::field::content_type], "application/problem+json");
  EXPECT_FALSE(res[bhttp::field::connection].empty());
  EXPECT_FALSE(res.keep_alive());
  auto body = nlohmann::json::parse(res.body());
  EXPECT_EQ(body["status"], status);
  EXPECT_TRUE(body["request_id"].get<std::string>().starts_with("req_"));
  EXPECT_EQ(res["X-Request-Id"], body["request_id"].get<std::string>());
}

TEST(http_server, keep_alive_serves_several_requests_on_one_connection) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  std::vector<string_response> responses;
  io.run([&]() -> net::awaitable<void> {
    beast::tcp_stream stream(co_await connect_to(srv->port()));
    beast::flat_buffer buffer;
    for (int i = 0; i < 3; ++i) {
      responses.push_back(co_await exchange(
          stream, buffer, make_request(bhttp::verb::post, "/echo/" + std::to_string(i), "b")));
    }
  }());
  ASSERT_EQ(responses.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const auto& res = responses[static_cast<std::size_t>(i)];
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_TRUE(res.keep_alive());
    EXPECT_EQ(res[bhttp::field::server], "grok");
    EXPECT_EQ(res["X-Request-Id"], "req_test");
    EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
    EXPECT_EQ(nlohmann::json::parse(res.body())["target"], "/echo/" + std::to_string(i));
  }
  const auto stats = srv->stats();
  EXPECT_EQ(stats.connections_total, 1u);
  EXPECT_EQ(stats.requests_total, 3u);
}

TEST(http_server, the_request_reaches_the_handler_as_sent) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  auto req = make_request(bhttp::verb::put, "/things/7?x=1&y=two", "{\"a\":1}");
  req.set("X-Custom-Header", "Mixed Case Value");
  auto res = io.run([&]() -> net::awaitable<string_response> {
    beast::tcp_stream stream(co_await connect_to(srv->port()));
    beast::flat_buffer buffer;
    co_return co_await exchange(stream, buffer, req);
  }());
  ASSERT_EQ(res.result_int(), 200u);
  auto seen = nlohmann::json::parse(res.body());
  EXPECT_EQ(seen["method"], "PUT");
  EXPECT_EQ(seen["target"], "/things/7?x=1&y=two");
  EXPECT_EQ(seen["body"], "{\"a\":1}");
  EXPECT_TRUE(seen["remote"].get<std::string>().starts_with("127.0.0.1:"));
  EXPECT_EQ(seen["websocket_upgrade"], false);
  bool found = false;
  for (const auto& h : seen["headers"]) {
    if (h[0] == "X-Custom-Header") found = h[1] == "Mixed Case Value";
  }
  EXPECT_TRUE(found) << seen["headers"].dump();
}

TEST(http_server, http_10_and_connection_close_get_one_response_then_the_close) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  // read_to_end only returns once the server closed the connection.
  auto raw10 = io.run(raw_exchange(srv->port(), "GET /old HTTP/1.0\r\n\r\n"));
  auto res10 = parse_response(raw10);
  EXPECT_EQ(res10.version(), 10u);
  EXPECT_EQ(res10.result_int(), 200u);
  EXPECT_EQ(nlohmann::json::parse(res10.body())["target"], "/old");

  auto raw11 = io.run(raw_exchange(
      srv->port(),
      "GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /more HTTP/1.1\r\n"));
  auto res11 = parse_response(raw11);
  EXPECT_EQ(res11.result_int(), 200u);
  EXPECT_EQ(res11[bhttp::field::connection], "close");
  EXPECT_EQ(raw11.find("/more"), std::string::npos);  // no second response
  EXPECT_EQ(srv->stats().requests_total, 2u);
}

TEST(http_server, head_requests_get_the_length_without_the_body) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  auto raw = io.run(raw_exchange(srv->port(), "HEAD /framing HTTP/1.0\r\n\r\n"));
  EXPECT_NE(raw.find("Content-Length: 23\r\n"), std::string::npos) << raw;
  EXPECT_TRUE(raw.ends_with("\r\n\r\n")) << raw;
}

TEST(http_server, the_transport_owns_framing_and_drops_unsafe_headers) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  auto raw = io.run(raw_exchange(srv->port(), "GET /framing HTTP/1.0\r\n\r\n"));
  auto res = parse_response(raw);
  EXPECT_EQ(res.body(), "framed by the transport");
  EXPECT_EQ(res[bhttp::field::content_length], "23");
  EXPECT_EQ(raw.find("chunked"), std::string::npos);
  EXPECT_EQ(raw.find("Injected"), std::string::npos);
  EXPECT_EQ(res["X-Request-Id"], "req_test");
}

TEST(http_server, a_body_over_the_limit_gets_413_before_it_is_sent) {
  auto limits = test_limits();
  limits.max_body_bytes = 1024;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  // Only the head is sent: the answer must not wait for the 4096 bytes announced.
  auto raw = io.run(raw_exchange(
      srv->port(), "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n"));
  expect_problem(parse_response(raw), 413);
  EXPECT_EQ(handler.calls(), 0);
}

TEST(http_server, a_chunked_body_over_the_limit_gets_413) {
  auto limits = test_limits();
  limits.max_body_bytes = 1024;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  const std::string chunk = "200\r\n" + std::string(512, 'x') + "\r\n";
  auto raw = io.run(raw_exchange(
      srv->port(), "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       chunk + chunk + chunk + "0\r\n\r\n"));
  expect_problem(parse_response(raw), 413);
  EXPECT_EQ(handler.calls(), 0);

  // At the limit exactly, it is accepted.
  auto ok = io.run(raw_exchange(srv->port(),
                                "POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n" +
                                    chunk + chunk + "0\r\n\r\n"));
  auto res = parse_response(ok);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(nlohmann::json::parse(res.body())["body"].get<std::string>().size(), 1024u);
}

TEST(http_server, a_head_over_the_limit_gets_431) {
  auto limits = test_limits();
  limits.max_header_bytes = 1024;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  auto raw = io.run(raw_exchange(
      srv->port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n"));
  expect_problem(parse_response(raw), 431);
  EXPECT_EQ(handler.calls(), 0);
}

TEST(http_server, malformed_requests_get_400) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  for (const std::string bad :
       {"NOT A REQUEST\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"}) {
    auto raw = io.run(raw_exchange(srv->port(), bad));
    SCOPED_TRACE(bad);
    expect_problem(parse_response(raw), 400);
  }
  EXPECT_EQ(handler.calls(), 0);
}

TEST(http_server, a_slow_head_is_closed_after_header_timeout_while_others_are_served) {
  auto limits = test_limits();
  limits.header_timeout = 300ms;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  auto slow = io.run(connect_to(srv->port()));
  const auto started = clock_type::now();
  io.run(write_text(slow, "GET /slow HTTP/1.1\r\nHost: x\r\nX-Partial: "));
  auto closed = io.start(read_to_end(slow));

  // A normal client is served while the slow one stalls.
  auto res = io.run([&]() -> net::awaitable<string_response> {
    beast::tcp_stream stream(co_await connect_to(srv->port()));
    beast::flat_buffer buffer;
    co_return co_await exchange(stream, buffer, make_request(bhttp::verb::get, "/normal"));
  }());
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(closed.wait_for(0s), std::future_status::timeout);

  ASSERT_TRUE(io.pump([&] { return closed.wait_for(0s) == std::future_status::ready; }));
  EXPECT_EQ(closed.get(), "");  // closed without an answer
  EXPECT_GE(clock_type::now() - started, 250ms);
  EXPECT_EQ(handler.calls(), 1);
}

TEST(http_server, an_idle_keep_alive_connection_is_closed_after_idle_timeout) {
  auto limits = test_limits();
  limits.idle_timeout = 300ms;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  std::string rest;
  clock_type::time_point answered;
  io.run([&]() -> net::awaitable<void> {
    auto socket = co_await connect_to(srv->port());
    co_await write_text(socket, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string seen;
    co_await read_until_seen(socket, seen, "}");
    answered = clock_type::now();
    rest = co_await read_to_end(socket);
  }());
  EXPECT_EQ(rest, "");
  EXPECT_GE(clock_type::now() - answered, 250ms);
  EXPECT_TRUE(wait_until([&] { return srv->stats().connections_open == 0; }));
}

TEST(http_server, connections_beyond_max_connections_get_503) {
  auto limits = test_limits();
  limits.max_connections = 2;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  std::vector<std::unique_ptr<beast::tcp_stream>> held;
  beast::flat_buffer buffer;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<beast::tcp_stream>(io.run(connect_to(srv->port()))));
    auto res = io.run(exchange(*held.back(), buffer, make_request(bhttp::verb::get, "/held")));
    EXPECT_EQ(res.result_int(), 200u);
  }
  auto raw = io.run(raw_exchange(srv->port(), "GET /third HTTP/1.1\r\nHost: x\r\n\r\n"));
  expect_problem(parse_response(raw), 503);
  auto stats = srv->stats();
  EXPECT_EQ(stats.connections_refused, 1u);
  EXPECT_EQ(stats.connections_open, 2u);
  EXPECT_EQ(stats.connections_total, 2u);

  // Once one closes, a new connection is served again.
  held.front()->close();
  ASSERT_TRUE(wait_until([&] { return srv->stats().connections_open == 1; }));
  auto again = io.run(raw_exchange(srv->port(), "GET /again HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(parse_response(again).result_int(), 200u);
}

TEST(http_server, a_throwing_handler_gives_500_and_the_connection_lives_on) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  std::vector<string_response> responses;
  io.run([&]() -> net::awaitable<void> {
    beast::tcp_stream stream(co_await connect_to(srv->port()));
    beast::flat_buffer buffer;
    responses.push_back(
        co_await exchange(stream, buffer, make_request(bhttp::verb::get, "/throw")));
    responses.push_back(co_await exchange(stream, buffer, make_request(bhttp::verb::get, "/ok")));
  }());
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].result_int(), 500u);
  EXPECT_EQ(responses[0][bhttp::field::content_type], "application/problem+json");
  EXPECT_EQ(nlohmann::json::parse(responses[0].body())["status"], 500);
  EXPECT_EQ(responses[1].result_int(), 200u);
}

TEST(http_server, a_blocked_handler_does_not_hold_up_other_clients) {
  auto limits = test_limits();
  limits.io_threads = 0;  // at least two
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  auto blocked = io.start(raw_exchange(srv->port(), "GET /block HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(io.pump([&] { return handler.wait_entered(0ms); }));
  auto other = io.run(raw_exchange(srv->port(), "GET /other HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(parse_response(other).result_int(), 200u);
  handler.release();
  ASSERT_TRUE(io.pump([&] { return blocked.wait_for(0s) == std::future_status::ready; }));
  EXPECT_EQ(parse_response(blocked.get()).body(), "done");
}

TEST(http_server, start_reports_bad_addresses_and_busy_ports) {
  toy_handler handler;
  auto no_port = server::start("127.0.0.1", test_limits(), handler.as_handler());
  ASSERT_FALSE(no_port);
  EXPECT_EQ(no_port.error().code, errc::invalid_argument);
  auto bad_port = server::start("127.0.0.1:99999", test_limits(), handler.as_handler());
  ASSERT_FALSE(bad_port);
  EXPECT_EQ(bad_port.error().code, errc::invalid_argument);
  auto bad_host = server::start("no such host:80", test_limits(), handler.as_handler());
  ASSERT_FALSE(bad_host);
  EXPECT_EQ(bad_host.error().code, errc::invalid_argument);

  auto first = start_server(test_limits(), handler.as_handler());
  auto second = server::start("127.0.0.1:" + std::to_string(first->port()), test_limits(),
                              handler.as_handler());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, errc::io);
}

}  // namespace
}  // namespace grok::http::testing
