// The transport's streams: Server-Sent Events and WebSocket sessions driven as
// api/stream_session.h describes, with a toy session pushed from other threads.
#include "http/server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "unit/http/test_client.h"

namespace grok::http::testing {
namespace {

using clock_type = std::chrono::steady_clock;

TEST(http_server_sse, headers_then_messages_pushed_from_another_thread_then_the_end) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());  // heartbeat 15 s
  client_io io;
  auto sse = io.run(open_sse(srv->port(), "/sse"));
  const auto& head = sse.head;
  EXPECT_EQ(head.result_int(), 200u);
  EXPECT_EQ(head[bhttp::field::content_type], "text/event-stream");
  EXPECT_EQ(head[bhttp::field::cache_control], "no-cache");
  EXPECT_EQ(head["X-Accel-Buffering"], "no");
  EXPECT_EQ(head[bhttp::field::connection], "close");
  EXPECT_EQ(head[bhttp::field::server], "grok");
  EXPECT_EQ(head["X-Request-Id"], "req_test");
  EXPECT_EQ(head.find(bhttp::field::content_length), head.end());
  EXPECT_EQ(head.find(bhttp::field::transfer_encoding), head.end());

  auto session = handler.session();
  ASSERT_TRUE(session);
  const auto pushed = clock_type::now();
  std::thread producer([&] {
    session->push("data: one\n\n");
    session->push("data: two\n\n");
  });
  producer.join();
  ASSERT_TRUE(io.run(read_until_seen(sse.socket, sse.body, "data: two\n\n")));
  EXPECT_LT(clock_type::now() - pushed, 5s);  // woken, not found by the 15 s heartbeat
  EXPECT_EQ(sse.body, "data: one\n\ndata: two\n\n");

  session->push("data: last\n\n");
  session->close_with({});
  sse.body += io.run(read_to_end(sse.socket));
  EXPECT_EQ(sse.body, "data: one\n\ndata: two\n\ndata: last\n\n");
  ASSERT_TRUE(session->wait_closed());
  EXPECT_EQ(session->closed_calls(), 1);
}

TEST(http_server_sse, heartbeat_bytes_when_idle) {
  auto limits = test_limits();
  limits.heartbeat = 100ms;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  auto sse = io.run(open_sse(srv->port(), "/sse"));
  ASSERT_TRUE(io.run(read_until_seen(sse.socket, sse.body, ": hb\n\n: hb\n\n")));
  handler.session()->close_with({});
  io.run(read_to_end(sse.socket));
}

TEST(http_server_sse, a_client_that_leaves_ends_the_session_once) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  auto sse = io.run(open_sse(srv->port(), "/sse"));
  auto session = handler.session();
  sse.socket.close();
  ASSERT_TRUE(session->wait_closed());
  EXPECT_TRUE(wait_until([&] { return srv->stats().connections_open == 0; }));
  session->push("data: nobody listens\n\n");  // the waker after on_closed is harmless
  EXPECT_EQ(session->closed_calls(), 1);
}

TEST(http_server_sse, peer_resets_are_harmless) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  auto reset = [](tcp::socket& socket) {
    socket.set_option(net::socket_base::linger(true, 0));  // close sends RST
    socket.close();
  };
  // Mid-stream, with messages still coming.
  auto sse = io.run(open_sse(srv->port(), "/sse"));
  auto session = handler.session();
  reset(sse.socket);
  for (int i = 0; i < 100; ++i) session->push("data: " + std::string(1000, 'x') + "\n\n");
  ASSERT_TRUE(session->wait_closed());
  // Mid-request, and right after a request before reading the answer.
  auto partial = io.run(connect_to(srv->port()));
  io.run(write_text(partial, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"));
  reset(partial);
  auto unread = io.run(connect_to(srv->port()));
  io.run(write_text(unread, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  reset(unread);

  ASSERT_TRUE(wait_until([&] { return srv->stats().connections_open == 0; }));
  auto raw = io.run(raw_exchange(srv->port(), "GET /still-here HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(parse_response(raw).result_int(), 200u);
  EXPECT_EQ(session->closed_calls(), 1);
}

TEST(http_server_ws, no_upgrade_unless_the_handler_returns_a_websocket_session) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  websocket::response_type res;
  beast::error_code ec;
  io.run(open_ws(srv->port(), "/ws-denied", res, ec));
  EXPECT_EQ(ec, websocket::error::upgrade_declined);
  EXPECT_EQ(res.result_int(), 401u);
  EXPECT_EQ(res[bhttp::field::content_type], "application/problem+json");

  // A plain route sees the upgrade request flagged, and answers normally.
  websocket::response_type plain;
  io.run(open_ws(srv->port(), "/echo", plain, ec));
  EXPECT_EQ(ec, websocket::error::upgrade_declined);
  EXPECT_EQ(plain.result_int(), 200u);
  EXPECT_EQ(nlohmann::json::parse(plain.body())["websocket_upgrade"], true);
}

TEST(http_server_ws, a_websocket_session_without_an_upgrade_request_is_a_500) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  auto raw = io.run(raw_exchange(srv->port(), "GET /ws-misused HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(parse_response(raw).result_int(), 500u);
  auto session = handler.session();
  ASSERT_TRUE(session->wait_closed());
  EXPECT_EQ(session->closed_calls(), 1);
}

TEST(http_server_ws, echo_then_the_sessions_close_code_reaches_the_client) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  websocket::response_type res;
  beast::error_code ec;
  auto ws = io.run(open_ws(srv->port(), "/ws", res, ec));
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 101u);
  EXPECT_EQ(res["X-Request-Id"], "req_test");
  EXPECT_EQ(res[bhttp::field::server], "grok");
  auto session = handler.session();

  io.run(ws->async_write(net::buffer(std::string("hello")), net::use_awaitable));
  auto echo = io.run(read_ws(*ws));
  ASSERT_FALSE(echo.ec) << echo.ec.message();
  EXPECT_EQ(echo.text, "echo:hello");
  EXPECT_TRUE(ws->got_text());

  // Pushed from another thread.
  std::thread producer([&] { session->push("{\"event\":\"run.created\"}"); });
  producer.join();
  EXPECT_EQ(io.run(read_ws(*ws)).text, "{\"event\":\"run.created\"}");

  io.run(ws->async_write(net::buffer(std::string("slow")), net::use_awaitable));
  auto end = io.run(read_ws(*ws));
  EXPECT_EQ(end.ec, websocket::error::closed);
  EXPECT_EQ(ws->reason().code, 1008);
  EXPECT_EQ(std::string(ws->reason().reason.data(), ws->reason().reason.size()), "slow consumer");
  ASSERT_TRUE(session->wait_closed());
  EXPECT_EQ(session->closed_calls(), 1);
  EXPECT_EQ(session->received(), (std::vector<std::string>{"hello", "slow"}));
}

TEST(http_server_ws, pings_on_heartbeat) {
  auto limits = test_limits();
  limits.heartbeat = 100ms;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  websocket::response_type res;
  beast::error_code ec;
  auto ws = io.run(open_ws(srv->port(), "/ws", res, ec));
  ASSERT_FALSE(ec) << ec.message();
  int pings = 0;
  ws->control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::ping) ++pings;
  });
  auto reading = io.start(read_ws_until_closed(*ws));  // answers the pings with pongs
  ASSERT_TRUE(io.pump([&] { return pings >= 3; }));
  handler.session()->close_with({1000, "done"});
  ASSERT_TRUE(io.pump([&] { return reading.wait_for(0s) == std::future_status::ready; }));
  EXPECT_EQ(ws->reason().code, 1000);
}

TEST(http_server_ws, a_message_over_the_limit_closes_1009) {
  auto limits = test_limits();
  limits.ws_max_message_bytes = 1024;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  websocket::response_type res;
  beast::error_code ec;
  auto ws = io.run(open_ws(srv->port(), "/ws", res, ec));
  ASSERT_FALSE(ec) << ec.message();
  io.run(ws->async_write(net::buffer(std::string(2048, 'x')), net::use_awaitable));
  auto end = io.run(read_ws(*ws));
  EXPECT_TRUE(end.ec);
  EXPECT_EQ(ws->reason().code, 1009);
  auto session = handler.session();
  ASSERT_TRUE(session->wait_closed());
  EXPECT_TRUE(session->received().empty());
}

}  // namespace
}  // namespace grok::http::testing
